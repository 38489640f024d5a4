"""ResNet-18 in the CIFAR variant of the adversarial-robustness literature (plain torch)."""

from torch import nn

from ..utils._validation import check_int

__all__ = ["ResNet18"]


class _BasicBlock(nn.Module):
    """Two 3x3 convolutions with batch norm and an identity (or 1x1) shortcut."""

    def __init__(self, in_planes, planes, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU()
        self.shortcut = nn.Sequential()
        if stride != 1 or in_planes != planes:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_planes, planes, 1, stride, bias=False),
                nn.BatchNorm2d(planes),
            )

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + self.shortcut(x))


class ResNet18(nn.Module):
    """ResNet-18, CIFAR-style, as in the PGD-AT and TRADES papers' code.

    A 3x3 convolution stem with stride 1 and no max-pool, four stages of two
    basic blocks (``width``, ``2 width``, ``4 width``, ``8 width`` channels;
    strides 1, 2, 2, 2), global average pooling and a linear head. Works on
    any image size (the pooling is adaptive). Outputs logits; the penultimate
    layer (the pooled features) is exposed by :meth:`features`, which
    core-set, BADGE and JIN's diversity use as the embedding.

    Used through :class:`~skfral.nn.RobustNeuralNetClassifier`,
    ``in_channels`` and ``n_classes`` are read from the data at fit.

    Parameters
    ----------
    in_channels : int, default=3
        Number of input channels.
    n_classes : int, default=2
        Number of output logits.
    width : int, default=64
        Channels of the first stage (64 in the literature; smaller is faster).

    See Also
    --------
    skfral.nn.SmallCNN : A much smaller CNN for small images.
    skfral.nn.RobustNeuralNetClassifier : The net that trains it.

    References
    ----------
    .. [1] K. He, X. Zhang, S. Ren and J. Sun, "Deep Residual Learning for Image
       Recognition", CVPR 2016.
    .. [2] A. Madry, A. Makelov, L. Schmidt, D. Tsipras and A. Vladu, "Towards
       Deep Learning Models Resistant to Adversarial Attacks", ICLR 2018.

    Examples
    --------
    >>> import torch
    >>> from skfral.nn import ResNet18
    >>> model = ResNet18(in_channels=3, n_classes=10, width=8)
    >>> model(torch.zeros(2, 3, 16, 16)).shape
    torch.Size([2, 10])
    >>> model.features(torch.zeros(2, 3, 16, 16)).shape
    torch.Size([2, 64])
    """

    def __init__(self, in_channels=3, n_classes=2, width=64):
        super().__init__()
        in_channels = check_int(in_channels, "in_channels", min_value=1)
        n_classes = check_int(n_classes, "n_classes", min_value=2)
        width = check_int(width, "width", min_value=1)
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, width, 3, 1, 1, bias=False),
            nn.BatchNorm2d(width),
            nn.ReLU(),
        )
        stages, planes = [], width
        for i, stride in enumerate((1, 2, 2, 2)):
            out = width * 2**i
            stages.append(
                nn.Sequential(
                    _BasicBlock(planes, out, stride), _BasicBlock(out, out, 1)
                )
            )
            planes = out
        self.stages = nn.Sequential(*stages)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Linear(planes, n_classes)

    def features(self, x):
        """Penultimate-layer activations (the pooled features, the embedding).

        Parameters
        ----------
        x : torch.Tensor of shape (n, in_channels, height, width)
            Input images.

        Returns
        -------
        torch.Tensor of shape (n, 8 * width)
        """
        x = x.to(self.head.weight.dtype)
        return self.pool(self.stages(self.stem(x))).flatten(1)

    def forward(self, x):
        """Logits of ``x``.

        Parameters
        ----------
        x : torch.Tensor of shape (n, in_channels, height, width)
            Input images.

        Returns
        -------
        torch.Tensor of shape (n, n_classes)
        """
        return self.head(self.features(x))
