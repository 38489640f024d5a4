"""Adversarially trained skorch classifiers (PGD-AT, TRADES)."""

from numbers import Integral, Real

import numpy as np
import torch
from sklearn.exceptions import NotFittedError
from skorch import NeuralNetClassifier
from skorch.utils import is_dataset

from ..utils._param_validation import Interval, StrOptions
from ._attack_checks import NORMS
from ._data import AUGMENTATIONS, is_lazy_array
from ._introspect import penultimate_embedding
from ._net_checks import InputScaleWarning, _NetChecks
from ._net_io import _NetIO
from ._net_training import _NetTraining

__all__ = ["InputScaleWarning", "RobustNeuralNetClassifier"]

ADVERSARIAL_MODES = ("pgd", "trades", None)


class RobustNeuralNetClassifier(_NetChecks, _NetIO, _NetTraining, NeuralNetClassifier):
    """A skorch classifier trained adversarially (PGD-AT or TRADES), or not at all.

    A real scikit-learn estimator: it works in ``Pipeline``, ``GridSearchCV``,
    ``clone``, pickle and as the estimator of modAL's ``ActiveLearner``. Only
    the training step is customised (skorch's documented extension point);
    every attack setting is an explicit ``__init__`` argument so ``clone`` keeps it.

    Parameters
    ----------
    module : torch.nn.Module class or instance
        The network; it must output logits (e.g. :class:`~skfral.nn.MLP`,
        :class:`~skfral.nn.SmallCNN`, :class:`~skfral.nn.ResNet18`). Its
        arguments go as ``module__name=value``. For a module *class*, the
        ``__init__`` parameters named ``n_features`` (the number of input
        values per sample), ``in_channels`` (``X.shape[1]`` of NCHW images),
        ``n_classes`` and ``num_classes`` are filled from the data at each
        fresh ``fit`` unless given as ``module__*`` (an explicit value wins).
    criterion : torch criterion class, default=torch.nn.CrossEntropyLoss
        Loss on logits.
    train_split : callable or None, default=None
        skorch's internal validation split; ``None`` because active-learning
        labelled sets are tiny.
    adversarial : {"pgd", "trades"} or None, default="pgd"
        ``"pgd"``: PGD adversarial training (Madry et al. 2018), each batch is
        replaced by its PGD examples. ``"trades"``: ``CE(f(x), y) + trades_beta *
        KL(f(x) || f(x_adv))`` (Zhang et al. 2019). ``None``: standard training
        (the "standard model" of JIN).
    attack_eps : float, default=0.1
        Training attack radius (0.1 for standardised tabular data, 8/255 for
        images in [0, 1]). A fit warns (:class:`InputScaleWarning`) when X
        does not look scaled for it (see Notes).
    attack_step_size : float or None, default=None
        Step length; ``None`` means ``attack_eps / 4`` (``attack_eps`` for one step).
    attack_n_steps : int, default=10
        PGD steps during training (evaluation should use at least as many).
    attack_norm : {"linf", "l2"}, default="linf"
        Norm of the training attack's ball.
    attack_clip_min : float, array-like or None, default=None
        Lower end of the valid input range during training attacks (``None``:
        no clipping); a scalar or one value per feature.
    attack_clip_max : float, array-like or None, default=None
        Upper end of the valid input range (images: 1).
    trades_beta : float, default=6.0
        Weight of the TRADES robustness term.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, batch shuffling, dropout, augmentation and
        the training attack through forked torch RNG state and local generators
        (the global torch seed is left as it was). An int gives identical
        weights and predictions across two fits on CPU.
    optimizer : torch optimizer class, default=torch.optim.Adam
        Optimizer of the module's parameters (``optimizer__*`` for its
        arguments).
    lr : float, default=0.01
        Learning rate of the optimizer (> 0).
    max_epochs : int, default=30
        Number of passes over the training data per ``fit`` (>= 0).
    batch_size : int, default=64
        Training batch size (-1: the whole training set in one batch).
    predict_batch_size : int or None, default=None
        Rows per forward pass when predicting or embedding. ``None`` adapts it
        to the size of one input: ``8 MiB // (4 bytes * values per sample)``,
        clamped to [1, 4096] (4096 for tabular rows, 682 for 3x32x32 images,
        170 for 3x64x64 images), so memory does not grow with the input size
        or the pool size.
    amp_dtype : {"bfloat16", "float16"} or None, default=None
        Mixed precision (``torch.autocast``) for training, the training attack,
        prediction and embeddings; ``None`` computes in float32. ``"float16"``
        needs ``device="cuda"`` and uses a gradient scaler; ``"bfloat16"``
        works on CPU and recent GPUs.
    channels_last : bool, default=False
        Keep the module's weights and 4-d input batches in channels-last
        memory format (faster convolutions on GPUs); no effect on results.
    augment : {"crop", "flip", "crop_flip"} or None, default=None
        Training-time augmentation of image batches (NCHW inputs only): random
        crop after ``augment_padding`` zero padding, random horizontal flip, or
        both. Applied on the device to training batches only, before the
        training attack; prediction is unaffected.
    augment_padding : int, default=4
        Zero padding of each side before a random crop (4 for 32x32 images).
    verbose : int, default=0
        skorch's verbosity (0: silent).
    **kwargs
        Any other skorch argument (``module__*``, ``optimizer__*``, ``callbacks``,
        ``device``, ``classes``...). ``device`` (default ``"cpu"``; e.g.
        ``"cuda"``) is checked at fit: a device this machine lacks raises a
        ``ValueError`` naming it. Batches move to the device one at a time.

    Attributes
    ----------
    classes_ : ndarray
        The class labels (any label type: ints, strings).
    n_features_in_ : int
        ``X.shape[1]`` of the training data (channels for images).
    module_ : torch.nn.Module
        The trained network.

    See Also
    --------
    skfral.nn.PGD : The attack used to evaluate robustness.
    skfral.nn.attack_from_net : The PGD attack of a net's ``attack_*`` settings.
    skfral.nn.MLP : Tabular module.
    skfral.nn.SmallCNN : Small image module.
    skfral.nn.ResNet18 : CIFAR-style ResNet-18 of the robustness literature.

    Notes
    -----
    Settings are checked once per ``fit`` (and at ``initialize``), never per
    batch. Inputs can be numpy arrays, DataFrames, tensors, torch Datasets
    or *lazy arrays* (anything with ``shape`` and ``__getitem__``, such as
    :class:`skfral.datasets.LazyImageArray`): a lazy array is read one batch
    at a time in ``fit``, ``predict_proba`` and ``embed``, the next batch in a
    background thread, and never loaded whole.

    **Input scale.** With ``adversarial`` set, a fit compares ``attack_eps``
    with ``s``, the median over features of the per-feature standard
    deviation of X (on up to 2,048 evenly spaced rows; of a lazy array, one
    read of at most 64 rows and ``batch_size``; for ``attack_norm="l2"``
    ``attack_eps / sqrt(n_values)`` is compared). It warns when
    ``attack_eps / s < 0.01`` (the features are far from standardised, e.g.
    raw incomes: the attack is negligible) or ``> 1`` (the ball is wider
    than the data's spread: the attack can erase the signal). Standardised
    features with ``attack_eps=0.1`` (ratio 0.1) and images in [0, 1] with
    ``8/255`` (ratio about 0.1) do not warn.

    References
    ----------
    .. [1] A. Madry, A. Makelov, L. Schmidt, D. Tsipras and A. Vladu, "Towards
       Deep Learning Models Resistant to Adversarial Attacks", ICLR 2018.
    .. [2] H. Zhang, Y. Yu, J. Jiao, E. Xing, L. El Ghaoui and M. Jordan,
       "Theoretically Principled Trade-off between Robustness and Accuracy",
       ICML 2019.

    Examples
    --------
    >>> import numpy as np
    >>> from skfral.nn import MLP, RobustNeuralNetClassifier
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(60, 4).astype("float32")
    >>> y = np.array(["no", "yes", "maybe"])[rng.randint(0, 3, 60)]
    >>> net = RobustNeuralNetClassifier(MLP, max_epochs=3, random_state=0).fit(X, y)
    >>> net.module_.n_features, net.module_.head.out_features
    (4, 3)
    >>> net.predict(X[:3]).shape
    (3,)
    >>> sorted(net.classes_.tolist())
    ['maybe', 'no', 'yes']
    """

    _parameter_constraints = {
        "adversarial": [StrOptions(("pgd", "trades")), None],
        "attack_eps": [Interval(Real, 0, None, closed="left")],
        "attack_step_size": [Interval(Real, 0, None, closed="neither"), None],
        "attack_n_steps": [Interval(Integral, 1, None, closed="left")],
        "attack_norm": [StrOptions(NORMS)],
        "trades_beta": [Interval(Real, 0, None, closed="left")],
        "random_state": ["random_state"],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "max_epochs": [Interval(Integral, 0, None, closed="left")],
        "predict_batch_size": [Interval(Integral, 1, None, closed="left"), None],
        "amp_dtype": [StrOptions(("bfloat16", "float16")), None],
        "channels_last": ["boolean"],
        "augment": [StrOptions(AUGMENTATIONS), None],
        "augment_padding": [Interval(Integral, 0, None, closed="left")],
    }

    def __init__(
        self,
        module,
        criterion=torch.nn.CrossEntropyLoss,
        train_split=None,
        adversarial="pgd",
        attack_eps=0.1,
        attack_step_size=None,
        attack_n_steps=10,
        attack_norm="linf",
        attack_clip_min=None,
        attack_clip_max=None,
        trades_beta=6.0,
        random_state=None,
        optimizer=torch.optim.Adam,
        lr=0.01,
        max_epochs=30,
        batch_size=64,
        predict_batch_size=None,
        amp_dtype=None,
        channels_last=False,
        augment=None,
        augment_padding=4,
        verbose=0,
        **kwargs,
    ):
        super().__init__(
            module,
            criterion=criterion,
            train_split=train_split,
            optimizer=optimizer,
            lr=lr,
            max_epochs=max_epochs,
            batch_size=batch_size,
            verbose=verbose,
            **kwargs,
        )
        self.adversarial = adversarial
        self.attack_eps = attack_eps
        self.attack_step_size = attack_step_size
        self.attack_n_steps = attack_n_steps
        self.attack_norm = attack_norm
        self.attack_clip_min = attack_clip_min
        self.attack_clip_max = attack_clip_max
        self.trades_beta = trades_beta
        self.random_state = random_state
        self.predict_batch_size = predict_batch_size
        self.amp_dtype = amp_dtype
        self.channels_last = channels_last
        self.augment = augment
        self.augment_padding = augment_padding

    def fit(self, X, y=None, **fit_params):
        """Train the net (skorch's ``fit``), after validating data and settings.

        Bad data or settings raise before anything is (re)initialised, so a
        fitted net stays as it was when ``fit`` fails.

        Parameters
        ----------
        X : array-like, lazy array, torch Dataset or dict
            Inputs (as for :meth:`skorch.NeuralNet.fit`); a lazy array (e.g.
            :class:`~skfral.datasets.LazyImageArray`) is read batch by batch.
        y : array-like of shape (n_samples,) or None
            Labels of any type (ints, strings).
        **fit_params
            Passed to the module's ``forward``.

        Returns
        -------
        self
        """
        continuing = bool(self.warm_start) and self._is_continuing()
        with self._fit_scope(X, y, continuing=continuing) as (X_arr, y, inferred):
            rebuilt = not (self.warm_start and getattr(self, "initialized_", False))
            self._probe_module(X_arr, inferred, rebuilt=rebuilt)
            return super().fit(X_arr, y, **fit_params)

    def partial_fit(self, X, y=None, classes=None, **fit_params):
        """Continue training the net (initialising it when it is not).

        Parameters
        ----------
        X : array-like, lazy array, torch Dataset or dict
            Inputs.
        y : array-like of shape (n_samples,) or None
            Labels.
        classes : array-like or None, default=None
            Ignored (scikit-learn compatibility); pass ``classes=[...]`` to the
            constructor to fix the labels.
        **fit_params
            Passed to the module's ``forward``.

        Returns
        -------
        self
        """
        if self.__dict__.get("_fit_data") is not None and X is self._fit_data:
            return super().partial_fit(X, y, classes=classes, **fit_params)
        continuing = self._is_continuing()
        with self._fit_scope(X, y, continuing=continuing) as (X_arr, y, inferred):
            rebuilt = not getattr(self, "initialized_", False)
            self._probe_module(X_arr, inferred, rebuilt=rebuilt)
            return super().partial_fit(X_arr, y, classes=classes, **fit_params)

    def predict_proba(self, X):
        """Class probabilities, columns in the order of ``classes_``.

        Parameters
        ----------
        X : array-like, lazy array, torch Dataset or dict
            Inputs; arrays and lazy arrays are predicted in batches of
            ``predict_batch_size`` rows.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        fast = (
            not is_dataset(X)
            and not isinstance(X, dict)
            and not torch.is_tensor(X)
            and getattr(self, "iterator_valid__batch_size", None) is None
        )
        if is_lazy_array(X) and not getattr(self, "initialized_", False):
            raise NotFittedError(
                f"This {type(self).__name__} instance is not fitted yet. Call 'fit' "
                "with appropriate arguments before using this estimator."
            )
        if (fast and getattr(self, "initialized_", False)) or is_lazy_array(X):
            proba = self._fast_predict_proba(X)
        else:
            proba = super().predict_proba(X)
        n_classes = len(self.classes_)
        if proba.ndim == 2 and proba.shape[1] != n_classes:
            raise ValueError(
                f"The module outputs {proba.shape[1]} logits but the net knows "
                f"{n_classes} classes {self.classes_.tolist()}: pass classes=[...] "
                "with every label (a labelled set can miss a class) or fix "
                "module__n_classes."
            )
        return proba

    def predict(self, X):
        """Predicted labels, in the label type the net was fitted on.

        Parameters
        ----------
        X : array-like, lazy array, torch Dataset or dict
            Inputs.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        proba = self.predict_proba(X)  # first: an unfitted net raises NotFittedError
        return np.asarray(self.classes_)[proba.argmax(axis=1)]

    def embed(self, X):
        """Penultimate-layer embeddings (numpy), used by core-set, BADGE and JIN.

        Uses the module's ``features(x)`` method when it has one (``MLP``,
        ``SmallCNN``, ``ResNet18``), else the input of the module's last
        ``torch.nn.Linear`` (e.g. torchvision's ResNets).

        Parameters
        ----------
        X : array-like or lazy array
            Inputs, streamed in batches of ``predict_batch_size`` rows.

        Returns
        -------
        embedding : ndarray of float32, shape (n_samples, n_dims)
        """
        return penultimate_embedding(self, X)
