"""Adversarially trained skorch classifiers (PGD-AT, TRADES)."""

import contextlib
import inspect
import math
import warnings
from collections import namedtuple
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
import torch
import torch.nn.functional as F
from sklearn.exceptions import NotFittedError
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import column_or_1d
from skorch import NeuralNetClassifier
from skorch.dataset import unpack_data
from skorch.utils import is_dataset, to_tensor
from torch.utils.data import DataLoader

from ..utils._param_validation import (
    Interval,
    InvalidParameterError,
    StrOptions,
    validate_parameter_constraints,
)
from ..utils._validation import check_int
from ._attacks import (
    NORMS,
    _as_bound,
    _forward_and_loss,
    check_clip_range,
    check_input_array,
    default_step_size,
    encode_labels,
    eval_mode,
    pgd_attack,
    trades_attack,
)
from ._data import (
    AUGMENTATIONS,
    BatchLoader,
    LazyDataset,
    augment_batch,
    autocast,
    check_amp_dtype,
    check_device,
    check_lazy_array,
    default_batch_size,
    is_lazy_array,
    iter_batches,
    load_rows,
)
from ._threads import apply_default_threads

__all__ = ["InputScaleWarning", "RobustNeuralNetClassifier"]

ADVERSARIAL_MODES = ("pgd", "trades", None)
_SHAPE_HINTS = ("shape", "size", "dimension", "Expected", "expected")

#: Module ``__init__`` parameters filled from the data at fit (unless given).
FEATURE_PARAMS = ("n_features", "in_channels")
CLASS_PARAMS = ("n_classes", "num_classes")

#: ``attack_eps`` relative to the median per-feature standard deviation of X:
#: outside ``[SCALE_LOW, SCALE_HIGH]`` a fit warns (InputScaleWarning).
SCALE_LOW, SCALE_HIGH = 0.01, 1.0
_SCALE_ROWS = 2048
_SCALE_LAZY_ROWS = 64  # one read of a lazy array

_Settings = namedtuple("_Settings", "eps step n_steps amp_dtype")


class InputScaleWarning(UserWarning):
    """X does not look scaled for the net's ``attack_eps`` (see the fit notes).

    Raised as a warning, never an error: filter it with
    ``warnings.filterwarnings("ignore", category=InputScaleWarning)``.
    """


def _positive_int_or_minus_one(value):
    return (
        isinstance(value, Integral)
        and not isinstance(value, bool)
        and (value >= 1 or value == -1)
    )


class RobustNeuralNetClassifier(NeuralNetClassifier):
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

    # ------------------------------------------------------------------ checks
    def _check_hyperparameters(self):
        """Check every setting (the work behind :meth:`_validate_params`).

        Returns the checked attack and precision settings. Called once per
        ``fit`` / ``partial_fit`` and by a direct ``initialize``.
        """
        seed = self.random_state
        if seed is not None and not isinstance(seed, np.random.RandomState):
            # the message of every skfral seed: "expected an integer"
            try:
                check_int(seed, "random_state", min_value=0, max_value=2**32 - 1)
            except (TypeError, ValueError) as exc:
                raise InvalidParameterError(str(exc)) from None
        validate_parameter_constraints(
            self._parameter_constraints,
            self.get_params(deep=False),
            type(self).__name__,
        )
        if not _positive_int_or_minus_one(self.batch_size):
            if isinstance(self.batch_size, Integral) and not isinstance(
                self.batch_size, bool
            ):
                raise InvalidParameterError(
                    f"batch_size={self.batch_size} is invalid: expected a positive "
                    "integer, or -1 for the whole data set in one batch."
                )
            raise InvalidParameterError(
                f"batch_size={self.batch_size!r} has type "
                f"{type(self.batch_size).__name__}: expected an integer."
            )
        check_device(self.device)
        amp_dtype = check_amp_dtype(self.amp_dtype, self.device)
        eps, n_steps = float(self.attack_eps), int(self.attack_n_steps)
        if self.attack_step_size is None:
            step = default_step_size(eps, n_steps)
        else:
            step = float(self.attack_step_size)
        return _Settings(eps, step, n_steps, amp_dtype)

    def _validate_params(self):
        """The one validation hook: skorch's argument-name checks, then every
        setting (skipped inside a fit that has already checked them)."""
        super()._validate_params()
        if self.__dict__.get("_settings") is None:
            return self._check_hyperparameters()
        return self._settings

    @contextlib.contextmanager
    def _settings_scope(self):
        """Check the settings once for everything inside (a fit, an initialize)."""
        if self.__dict__.get("_settings") is not None:
            yield self._settings
            return
        self._settings = self._check_hyperparameters()
        try:
            yield self._settings
        finally:
            self._settings = None

    def _current_settings(self):
        settings = self.__dict__.get("_settings")
        return self._check_hyperparameters() if settings is None else settings

    def _check_fit_data(self, X, y, *, continuing):
        """Every check of a fit's data, changing nothing on the net.

        ``continuing``: the fit goes on from the trained net (partial_fit,
        warm_start), so ``X`` must have its number of features and ``y`` its
        labels. Returns ``(X_arr, y)``, ``y`` as a 1-d array for array data.
        """
        X_arr = self._validate_X(X)
        if y is None and not is_dataset(X) and self.iterator_train is DataLoader:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y "
                "is None: pass the labels, or a torch Dataset as X that yields "
                "(X, y)."
            )
        if y is not None and not is_dataset(X):
            n_x = X_arr.shape[0] if hasattr(X_arr, "shape") else len(X_arr)
            y_arr = np.asarray(y)
            if y_arr.ndim == 2 and y_arr.shape[1] == 1:
                y_arr = column_or_1d(y_arr, warn=True)
            if y_arr.ndim != 1:
                raise ValueError(
                    f"y has shape {y_arr.shape}: expected a 1-d array of labels."
                )
            if len(y_arr) != n_x:
                raise ValueError(
                    f"Inconsistent lengths: X has {n_x} samples, y has {len(y_arr)}: "
                    "expected the same number."
                )
            if y_arr.dtype.kind == "f" and not np.isfinite(y_arr).all():
                raise ValueError(
                    "y contains NaN or infinity: expected a label for every sample."
                )
            if y_arr.dtype.kind in "fc" and type_of_target(y_arr) == "continuous":
                raise ValueError(
                    "Unknown label type: y is continuous (non-integer floats such as "
                    f"{y_arr[np.flatnonzero(y_arr != np.round(y_arr))[0]]!r}): "
                    "a classifier needs class labels; encode or bin the target first."
                )
            self._check_labels_known(y_arr, continuing)
            y = y_arr
        if continuing:
            self._check_n_features(X_arr, reset=False)
        if self.adversarial is not None and isinstance(X_arr, np.ndarray):
            shape = X_arr.shape[1:]
            check_clip_range(
                X_arr,
                _as_bound(self.attack_clip_min, "attack_clip_min", shape),
                _as_bound(self.attack_clip_max, "attack_clip_max", shape),
                names=("attack_clip_min", "attack_clip_max"),
            )
        if self.augment is not None:
            shape = getattr(X_arr, "shape", None)
            if shape is None or len(shape) != 4:
                shown = "no shape" if shape is None else f"shape {tuple(shape)}"
                raise ValueError(
                    f"augment={self.augment!r} needs image inputs of shape "
                    f"(n_samples, channels, height, width); X has {shown}: use "
                    "augment=None for tabular data."
                )
        return X_arr, y

    def _check_labels_known(self, y, continuing):
        """At least two classes; when classes are fixed (``classes=[...]``, or a
        trained net continuing), only labels among them."""
        if self.classes is not None:
            known = np.asarray(self.classes)
        elif continuing and hasattr(self, "classes_inferred_"):
            known = np.asarray(self.classes_inferred_)
        else:
            labels = np.unique(y)
            if len(labels) < 2:
                raise ValueError(
                    f"y contains only one class, {labels.tolist()}: a classifier "
                    "needs at least 2; pass classes=[...] with every label (a "
                    "labelled set can miss a class)."
                )
            return
        try:
            ok = np.isin(y, known)
        except TypeError:  # labels of mixed types
            members = set(known.tolist())
            ok = np.asarray([v in members for v in y.tolist()], dtype=bool)
        if not ok.all():
            unknown = list(dict.fromkeys(y[~ok].tolist()))[:5]
            raise ValueError(
                f"y contains labels {unknown} that the net does not know: expected "
                f"labels among {known.tolist()} (pass classes=[...] with every "
                "label, or refit from scratch with warm_start=False)."
            )

    def check_data(self, X, y):
        """Validate the training data (skorch calls this at the start of its fit loop).

        Inside :meth:`fit` / :meth:`partial_fit` the data were checked already
        and only skorch's class bookkeeping runs.

        Parameters
        ----------
        X : array-like, lazy array, torch Dataset or dict
            Training inputs.
        y : array-like of shape (n_samples,) or None
            Labels.
        """
        continuing = self._is_continuing()
        known = getattr(self, "classes_inferred_", None) if continuing else None
        scope = self.__dict__.get("_fit_data")
        if scope is None or X is not scope:
            X, y = self._check_fit_data(X, y, continuing=continuing)
        super().check_data(X, y)
        if known is not None and self.classes is None:
            # a continued fit on a batch missing a class keeps every class
            self.classes_inferred_ = known
        self._check_n_features(X, reset=not continuing)

    @contextlib.contextmanager
    def _fit_scope(self, X, y, *, continuing):
        """Check settings and data once; everything inside trusts them."""
        with self._settings_scope():
            X_arr, y = self._check_fit_data(X, y, continuing=continuing)
            inferred = None if continuing else self._infer_module_params(X_arr, y)
            if self.adversarial is not None:
                self._warn_input_scale(X_arr)
            outer = self.__dict__.get("_fit_data")
            self._fit_data = X_arr
            try:
                yield X_arr, y, inferred
            finally:
                self._fit_data = outer

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

    def _probe_module(self, X_arr, inferred, *, rebuilt):
        """Fail before anything changes when X cannot fit the module, then
        record the module sizes inferred for this fit.

        A module rebuilt now with an input size inferred from X fits it: no probe.
        """
        fits_by_construction = (
            rebuilt
            and inferred is not None
            and any(k in inferred for k in FEATURE_PARAMS)
        )
        if not fits_by_construction:
            self._check_module_fits(X_arr)
        if inferred is not None:
            self._module_params = inferred

    def _check_module_fits(self, X_arr):
        """One no-grad forward pass of a trained module on the first sample."""
        if not (
            getattr(self, "initialized_", False)
            and isinstance(X_arr, np.ndarray)
            and len(X_arr)
            and isinstance(getattr(self, "module_", None), torch.nn.Module)
        ):
            return
        with eval_mode(self), torch.no_grad():
            self.infer(self._to_device(X_arr[:1]))

    def _is_continuing(self):
        """True when fitting continues a trained net (partial_fit, warm_start)."""
        return bool(getattr(self, "initialized_", False) and len(self.history))

    def _check_n_features(self, X, *, reset):
        shape = getattr(X, "shape", None)
        if shape is None or len(shape) < 2:
            return
        if reset:
            self.n_features_in_ = int(shape[1])
            return
        expected = getattr(self, "n_features_in_", None)
        if expected is not None and int(shape[1]) != expected:
            raise ValueError(
                f"X has {shape[1]} features, but {type(self).__name__} is expecting "
                f"{expected} features as input."
            )

    def _validate_X(self, X):
        if sp.issparse(X):  # before the dict test: a dok matrix is a dict
            return check_input_array(X, "X")
        if is_dataset(X) or isinstance(X, dict) or torch.is_tensor(X):
            return X
        if is_lazy_array(X):
            check_lazy_array(X, "X")
            return X
        return check_input_array(X, "X")

    # ------------------------------------------------------- module inference
    def _infer_module_params(self, X, y):
        """``module__*`` values read from the data, for those not given."""
        module = self.module
        if isinstance(module, torch.nn.Module):
            return {}
        try:
            params = inspect.signature(module).parameters
        except (TypeError, ValueError):
            return {}
        given = self.get_params_for("module")
        out = {}
        shape = getattr(X, "shape", None)
        if shape is not None and len(shape) >= 2:
            if "n_features" in params:
                out["n_features"] = int(math.prod(int(s) for s in shape[1:]))
            if "in_channels" in params and len(shape) >= 3:
                out["in_channels"] = int(shape[1])
        if self.classes is not None:
            n_classes = len(self.classes)
        elif y is not None and not is_dataset(X):
            n_classes = len(np.unique(y))
        else:
            n_classes = None
        if n_classes is not None and n_classes >= 2:
            for name in CLASS_PARAMS:
                if name in params:
                    out[name] = n_classes
        return {k: v for k, v in out.items() if k not in given}

    def initialize_module(self):
        """Build the module from ``module__*`` and the values inferred at fit."""
        kwargs = {
            **self.__dict__.get("_module_params", {}),
            **self.get_params_for("module"),
        }
        seed = self._draw_seed()
        context = contextlib.nullcontext()
        if seed is not None:
            context = torch.random.fork_rng(devices=[])
        with context:
            if seed is not None:
                torch.manual_seed(seed)
            try:
                module = self.initialized_instance(self.module, kwargs)
            except TypeError as exc:
                missing = [
                    p
                    for p in FEATURE_PARAMS + CLASS_PARAMS
                    if f"'{p}'" in str(exc) and "missing" in str(exc)
                ]
                if not missing:
                    raise
                raise TypeError(
                    f"module {getattr(self.module, '__name__', self.module)!r} needs "
                    f"{', '.join(missing)}: fit the net (they are read from X and y) "
                    f"or pass module__{missing[0]}=... ({exc})"
                ) from None
        if self.channels_last and isinstance(module, torch.nn.Module):
            module = module.to(memory_format=torch.channels_last)
        self.module_ = module
        apply_default_threads(module)  # threads from the model and cores (_threads)
        return self

    # ------------------------------------------------------------ input scale
    def _warn_input_scale(self, X):
        """Warn when X does not look scaled for ``attack_eps`` (see Notes)."""
        eps = float(self.attack_eps)
        if eps == 0 or not (isinstance(X, np.ndarray) or is_lazy_array(X)):
            return
        n = int(X.shape[0])
        if n < 2:
            return
        limit = _SCALE_ROWS
        if not isinstance(X, np.ndarray):  # one read, at most a training batch
            limit = _SCALE_LAZY_ROWS
            if self.batch_size > 0:
                limit = min(limit, int(self.batch_size))
        rows = np.unique(np.linspace(0, n - 1, min(n, limit)).astype(np.int64))
        sample = X[rows] if isinstance(X, np.ndarray) else load_rows(X, rows)
        flat = np.asarray(sample, dtype=np.float64).reshape(len(sample), -1)
        std = flat.std(axis=0)
        std = std[std > 0]
        if not len(std):
            return
        scale = float(np.median(std))
        per_feature = (
            eps / math.sqrt(flat.shape[1]) if self.attack_norm == "l2" else eps
        )
        ratio = per_feature / scale
        if SCALE_LOW <= ratio <= SCALE_HIGH:
            return
        what = (
            "the attack is negligible: the features look unscaled"
            if ratio < SCALE_LOW
            else "the attack ball is wider than the data's spread and can erase "
            "the signal"
        )
        warnings.warn(
            f"attack_eps={self.attack_eps!r} is {ratio:.3g} times the median "
            f"per-feature standard deviation of X ({scale:.3g}): {what}. Standardise "
            "the features (e.g. a StandardScaler in a Pipeline; images in [0, 1] "
            f"with eps 8/255) or change attack_eps; a ratio in [{SCALE_LOW}, "
            f"{SCALE_HIGH}] does not warn.",
            InputScaleWarning,
            stacklevel=4,
        )

    # ------------------------------------------------------------- data hooks
    def get_dataset(self, X, y=None):
        """skorch's dataset, or a :class:`LazyDataset` for a lazy array.

        Parameters
        ----------
        X : array-like, lazy array, torch Dataset or dict
            Inputs.
        y : array-like or None, default=None
            Labels in the net's label space (encoded to class indices here).

        Returns
        -------
        dataset : torch Dataset
        """
        scope = self.__dict__.get("_fit_data")
        if scope is None or X is not scope:
            X = self._validate_X(X)
            if y is None:
                # Prediction, embeddings: X must look like the training data.
                self._check_n_features(X, reset=False)
        if y is not None and not is_dataset(X):
            y = encode_labels(self, y, X.shape[0] if hasattr(X, "shape") else len(X))
        if is_lazy_array(X):
            return LazyDataset(X, y)
        return super().get_dataset(X, y)

    def get_iterator(self, dataset, training=False):
        """skorch's iterator; lazy arrays get a prefetching batch loader.

        Parameters
        ----------
        dataset : torch Dataset
            As returned by :meth:`get_dataset`.
        training : bool, default=False
            Use the training iterator's settings.

        Returns
        -------
        iterator : iterable of batches
        """
        iterator = self.iterator_train if training else self.iterator_valid
        if isinstance(dataset, LazyDataset) and iterator is DataLoader:
            prefix = "iterator_train" if training else "iterator_valid"
            kwargs = self.get_params_for(prefix)
            batch_size = kwargs.get("batch_size", self.batch_size)
            if batch_size == -1:
                batch_size = len(dataset)
            shuffle = bool(kwargs.get("shuffle", False)) and training
            return BatchLoader(dataset, batch_size, shuffle=shuffle)
        return super().get_iterator(dataset, training=training)

    def infer(self, x, **fit_params):
        """The module's output on ``x``, with a clear error for a misfit input.

        Parameters
        ----------
        x : torch.Tensor or dict
            A batch of inputs.
        **fit_params
            Passed to the module's ``forward``.

        Returns
        -------
        torch.Tensor
        """
        try:
            return super().infer(x, **fit_params)
        except RuntimeError as exc:
            if torch.is_tensor(x) and any(h in str(exc) for h in _SHAPE_HINTS):
                raise ValueError(
                    f"X with samples of shape {tuple(x.shape[1:])} does not fit the "
                    f"module {type(self.module_).__name__}: {exc}. Check the number "
                    "of features (e.g. module__n_features) or the image shape."
                ) from exc
            raise

    # infer only translates errors: attacks may call module_ directly.
    infer.__skfral_plain_infer__ = True

    def _to_device(self, xb):
        """A batch (numpy or tensor) as a float tensor on the net's device."""
        x = torch.as_tensor(xb)
        if self.device is not None:
            x = x.to(self.device, non_blocking=True)
        if not torch.is_floating_point(x):
            x = x.float()
        if self.channels_last and x.dim() == 4:
            x = x.contiguous(memory_format=torch.channels_last)
        return x

    def inference_context(self):
        """Eval mode, no gradient and the net's ``amp_dtype`` autocast, as one context.

        Returns
        -------
        contextlib.ExitStack
            Use as ``with net.inference_context(): net.infer(x)``.
        """
        stack = contextlib.ExitStack()
        stack.enter_context(eval_mode(self))
        stack.enter_context(torch.no_grad())
        stack.enter_context(self.autocast())
        return stack

    def autocast(self):
        """``torch.autocast`` for the net's ``device`` and ``amp_dtype`` (a no-op when None).

        Attacks and embeddings wrap their forward passes in it so that they
        compute in the precision the net trains in.

        Returns
        -------
        torch.autocast
        """
        dtype = None
        if self.amp_dtype is not None:
            dtype = check_amp_dtype(self.amp_dtype, self.device)
        return autocast(self.device, dtype)

    def iter_input_batches(self, X):
        """Validated input batches of ``X`` on the net's device, pool-size free.

        ``X`` is checked once (an in-memory array as a whole; a lazy array by
        its shape, then each batch as it is read). The batch size is
        ``predict_batch_size`` (``None``: the rule of the class docstring).

        Parameters
        ----------
        X : array-like or lazy array
            Inputs in the net's input space.

        Yields
        ------
        rows : slice or ndarray of int
            The rows of ``X`` in the batch.
        xb : torch.Tensor
            The batch, float, on ``self.device``.
        """
        yield from self._stream(self._validated_for_streaming(X))

    def _validated_for_streaming(self, X):
        X = self._validate_X(X)
        if is_dataset(X) or isinstance(X, dict) or torch.is_tensor(X):
            raise TypeError(
                f"X of type {type(X).__name__} cannot be streamed: expected an "
                "array or a lazy array."
            )
        self._check_n_features(X, reset=False)
        return X

    def _stream(self, X):
        batch_size = self.predict_batch_size
        if batch_size is None:
            batch_size = default_batch_size(X.shape[1:])
        else:
            batch_size = check_int(batch_size, "predict_batch_size", min_value=1)
        for rows, xb in iter_batches(X, batch_size):
            yield rows, self._to_device(xb)

    # ------------------------------------------------------------ randomness
    def initialize(self):
        """Initialise the module, criterion, optimizer and the net's random stream.

        Returns
        -------
        self
        """
        # Settings first: skorch builds the optimizer with lr before any fit check.
        with self._settings_scope():
            if self.random_state is None:
                self._rng = None
            elif isinstance(self.random_state, np.random.RandomState):
                self._rng = self.random_state
            else:
                self._rng = np.random.RandomState(int(self.random_state))
            self._torch_rng_state = None
            self.__dict__.pop("n_features_in_", None)  # a fresh net knows no data yet
            return super().initialize()

    def _draw_seed(self):
        rng = getattr(self, "_rng", None)
        return None if rng is None else int(rng.randint(0, 2**31 - 1))

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        """Seed the training attack, shuffling, dropout and augmentation streams.

        Parameters
        ----------
        net : RobustNeuralNetClassifier
            This net (skorch's callback signature).
        X, y : array-like or None, default=None
            The training data.
        **kwargs
            Ignored.
        """
        super().on_train_begin(net, X=X, y=y, **kwargs)
        settings = self._current_settings()
        self._grad_scaler = None
        if settings.amp_dtype is torch.float16:
            self._grad_scaler = torch.amp.GradScaler(torch.device(self.device).type)
        seed = self._draw_seed()
        self._attack_generator = torch.Generator()
        self._augment_generator = None
        if seed is None:
            self._attack_generator.seed()
            self._torch_rng_state = None
            if self.augment is not None:
                self._augment_generator = torch.Generator()
                self._augment_generator.seed()
            return
        self._attack_generator.manual_seed(seed)
        self._torch_rng_state = (
            torch.Generator().manual_seed(self._draw_seed()).get_state()
        )
        if self.augment is not None:
            self._augment_generator = torch.Generator().manual_seed(self._draw_seed())

    @contextlib.contextmanager
    def _private_torch_rng(self):
        """Run under the net's own torch RNG state (shuffling, dropout), then put
        the global state back, even when training raises."""
        state = getattr(self, "_torch_rng_state", None)
        if state is None:
            yield
            return
        with torch.random.fork_rng(devices=[]):
            torch.set_rng_state(state)
            try:
                yield
            finally:
                self._torch_rng_state = torch.get_rng_state()

    def on_train_end(self, net, X=None, y=None, **kwargs):
        """Drop the last step's weight gradients (memory; attacks start clean).

        Parameters
        ----------
        net : RobustNeuralNetClassifier
            This net (skorch's callback signature).
        X, y : array-like or None, default=None
            The training data.
        **kwargs
            Ignored.
        """
        super().on_train_end(net, X=X, y=y, **kwargs)
        module = getattr(self, "module_", None)
        if isinstance(module, torch.nn.Module):
            module.zero_grad(set_to_none=True)
        self._grad_scaler = None

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        """One pass over ``iterator`` under the net's private torch RNG state.

        Parameters
        ----------
        iterator : iterable of batches or None
            The batches (``None``: skip).
        training : bool
            Training (True) or validation pass.
        prefix : str
            History key prefix (``"train"`` / ``"valid"``).
        step_fn : callable
            Called on each batch.
        **fit_params
            Passed to ``step_fn``.
        """
        with self._private_torch_rng():
            return super().run_single_epoch(
                iterator, training, prefix, step_fn, **fit_params
            )

    # -------------------------------------------------------------- training
    def train_step_single(self, batch, **fit_params):
        """One optimisation step: standard, PGD-AT or TRADES, on one batch.

        The batch is moved to the device, augmented (``augment``), attacked
        (``adversarial``) and the loss back-propagated, under the net's
        ``amp_dtype`` autocast.

        Parameters
        ----------
        batch : tuple
            ``(X_batch, y_batch)`` from the training iterator.
        **fit_params
            Passed to the module's ``forward``.

        Returns
        -------
        dict
            ``{"loss": loss, "y_pred": logits}``.
        """
        settings = self._current_settings()
        self._set_training(True)
        Xi, yi = unpack_data(batch)
        x = to_tensor(Xi, device=self.device)
        needs_tensor = self.adversarial is not None or self.augment is not None
        if not torch.is_tensor(x):
            if needs_tensor:
                what = (
                    f"adversarial={self.adversarial!r}"
                    if self.adversarial is not None
                    else f"augment={self.augment!r}"
                )
                raise TypeError(
                    f"{what} needs a single tensor input per batch, got "
                    f"{type(Xi).__name__}: pass X as one array."
                )
        else:
            x = self._to_device(x) if needs_tensor or self.channels_last else x
            if self.augment is not None:
                x = augment_batch(
                    x,
                    self.augment,
                    int(self.augment_padding),
                    getattr(self, "_augment_generator", None),
                )
        with autocast(self.device, settings.amp_dtype):
            if self.adversarial is None:
                y_pred = self.infer(x, **fit_params)
                loss = self.get_loss(y_pred, yi, X=x, training=True)
            else:
                y = to_tensor(yi, device=self.device)
                x_adv = self._training_attack(x, y, settings)
                if self.adversarial == "pgd":
                    y_pred = self.infer(x_adv, **fit_params)
                    loss = self.get_loss(y_pred, y, X=x_adv, training=True)
                else:
                    y_pred = self.infer(x, **fit_params)
                    logits_adv = self.infer(x_adv, **fit_params)
                    robust = F.kl_div(
                        F.log_softmax(logits_adv.float(), dim=1),
                        F.softmax(y_pred.float(), dim=1),
                        reduction="batchmean",
                    )
                    loss = (
                        self.get_loss(y_pred, y, X=x, training=True)
                        + float(self.trades_beta) * robust
                    )
        scaler = getattr(self, "_grad_scaler", None)
        (loss if scaler is None else scaler.scale(loss)).backward()
        return {"loss": loss, "y_pred": y_pred}

    def _training_attack(self, x, y, settings):
        """PGD or TRADES examples of the batch ``x`` (module in eval mode)."""
        shape = tuple(x.shape[1:])
        lo = _as_bound(self.attack_clip_min, "attack_clip_min", shape)
        hi = _as_bound(self.attack_clip_max, "attack_clip_max", shape)
        if (lo is not None or hi is not None) and is_lazy_array(
            self.__dict__.get("_fit_data")
        ):
            # an in-memory X was checked whole at fit; a lazy one batch by batch
            check_clip_range(
                x.detach().cpu().numpy(),
                lo,
                hi,
                names=("attack_clip_min", "attack_clip_max"),
            )
        lo = None if lo is None else lo.to(x.device)
        hi = None if hi is None else hi.to(x.device)
        gen = getattr(self, "_attack_generator", None)
        forward, loss_fn = _forward_and_loss(self, y)
        kwargs = {
            "eps": settings.eps,
            "step_size": settings.step,
            "n_steps": settings.n_steps,
            "norm": self.attack_norm,
            "clip_min": lo,
            "clip_max": hi,
            "generator": gen,
        }
        with eval_mode(self):
            try:
                if self.adversarial == "pgd":
                    return pgd_attack(forward, loss_fn, x, random_start=True, **kwargs)
                with torch.no_grad():
                    logits_clean = self.infer(x)
                return trades_attack(forward, x, logits_clean, **kwargs)
            except RuntimeError:
                if forward is self.module_:
                    with torch.no_grad():
                        self.infer(x)  # the net's own message for a misfit X
                raise

    def _step_optimizer(self, step_fn):
        scaler = getattr(self, "_grad_scaler", None)
        if scaler is None:
            return super()._step_optimizer(step_fn)
        step_fn()  # float16: scaled backward, unscaled step, scale update
        for name in self._optimizers:
            scaler.step(getattr(self, name + "_"))
        scaler.update()
        return None

    # ------------------------------------------------------------ prediction
    def _fast_predict_proba(self, X):
        """Batched no-grad forward passes over an array or a lazy array.

        Same result as skorch's ``predict_proba`` (eval mode, no gradient, the
        predict nonlinearity) without its per-sample DataLoader; memory is one
        batch plus the output.
        """
        X = self._validated_for_streaming(X)
        nonlin = self._get_predict_nonlinearity()
        out = None
        with self.inference_context():
            for rows, xb in self._stream(X):
                yp = self.infer(xb)
                yp = yp[0] if isinstance(yp, tuple) else yp
                proba = nonlin(yp.float()).detach().cpu().numpy()
                if out is None:
                    out = np.empty(
                        (int(X.shape[0]), *proba.shape[1:]), dtype=proba.dtype
                    )
                out[rows] = proba
        if out is None:
            return np.empty((0, len(self.classes_)), dtype=np.float32)
        return out

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
        from ._introspect import penultimate_embedding

        return penultimate_embedding(self, X)
