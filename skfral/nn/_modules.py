"""Ready-made torch modules so users need not write torch code.

Both modules output *logits* (use them with ``CrossEntropyLoss``, the default
criterion of :class:`~skfral.nn.RobustNeuralNetClassifier`) and expose their
penultimate layer through ``features(x)``, which core-set and BADGE use as the
embedding.
"""

from torch import nn

from ..utils._validation import check_int, check_real

__all__ = ["MLP", "SmallCNN"]


class MLP(nn.Module):
    """Multi-layer perceptron for tabular data.

    Parameters
    ----------
    n_features : int
        Number of input values per sample (inputs are flattened). Read from
        ``X`` at fit when the module is given to
        :class:`~skfral.nn.RobustNeuralNetClassifier` as a class.
    n_classes : int, default=2
        Number of output logits (read from the labels at fit).
    hidden_sizes : tuple of int, default=(64, 64)
        Width of each hidden layer.
    dropout : float, default=0.0
        Dropout probability after each hidden layer.

    Examples
    --------
    >>> import torch
    >>> MLP(n_features=3, n_classes=2)(torch.zeros(4, 3)).shape
    torch.Size([4, 2])
    """

    def __init__(self, n_features, n_classes=2, hidden_sizes=(64, 64), dropout=0.0):
        super().__init__()
        n_features = check_int(n_features, "n_features", min_value=1)
        n_classes = check_int(n_classes, "n_classes", min_value=2)
        try:
            sizes = list(hidden_sizes)
        except TypeError:
            raise TypeError(
                f"hidden_sizes={hidden_sizes!r} has type {type(hidden_sizes).__name__}: "
                "expected a tuple of layer widths, e.g. (64, 64)."
            ) from None
        sizes = [
            check_int(v, f"hidden_sizes[{i}]", min_value=1) for i, v in enumerate(sizes)
        ]
        dropout = check_real(dropout, "dropout", min_value=0, max_value=1)
        layers, width = [], n_features
        for size in sizes:
            layers += [nn.Linear(width, size), nn.ReLU()]
            if dropout:
                layers.append(nn.Dropout(dropout))
            width = size
        self.n_features = n_features
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(width, n_classes)

    def features(self, x):
        """Penultimate-layer activations (the embedding).

        Parameters
        ----------
        x : torch.Tensor
            A batch of inputs.

        Returns
        -------
        torch.Tensor of shape (n, embedding size)
        """
        return self.body(x.reshape(len(x), -1).to(self.head.weight.dtype))

    def forward(self, x):
        return self.head(self.features(x))


class SmallCNN(nn.Module):
    """A small convolutional network for NCHW images (e.g. 8x8 digits, 32x32 faces).

    Parameters
    ----------
    in_channels : int, default=1
        Number of input channels (read from ``X.shape[1]`` at fit).
    n_classes : int, default=2
        Number of output logits (read from the labels at fit).
    width : int, default=32
        Channels of the first convolution (the second has ``2 * width``).
    embedding_size : int, default=128
        Size of the penultimate (embedding) layer.

    Examples
    --------
    >>> import torch
    >>> SmallCNN(in_channels=1, n_classes=10)(torch.zeros(2, 1, 8, 8)).shape
    torch.Size([2, 10])
    """

    def __init__(self, in_channels=1, n_classes=2, width=32, embedding_size=128):
        super().__init__()
        in_channels = check_int(in_channels, "in_channels", min_value=1)
        n_classes = check_int(n_classes, "n_classes", min_value=2)
        width = check_int(width, "width", min_value=1)
        embedding_size = check_int(embedding_size, "embedding_size", min_value=1)
        self.conv = nn.Sequential(
            nn.Conv2d(in_channels, width, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(width, 2 * width, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.AdaptiveAvgPool2d(4),
        )
        self.fc = nn.Sequential(
            nn.Flatten(), nn.Linear(2 * width * 16, embedding_size), nn.ReLU()
        )
        self.head = nn.Linear(embedding_size, n_classes)

    def features(self, x):
        """Penultimate-layer activations (the embedding).

        Parameters
        ----------
        x : torch.Tensor
            A batch of inputs.

        Returns
        -------
        torch.Tensor of shape (n, embedding size)
        """
        return self.fc(self.conv(x.to(self.head.weight.dtype)))

    def forward(self, x):
        return self.head(self.features(x))
