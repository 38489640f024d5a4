"""Adversarially trained skorch classifiers (PGD-AT, TRADES)."""

import contextlib

import numpy as np
import scipy.sparse as sp
import torch
import torch.nn.functional as F
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import column_or_1d
from skorch import NeuralNetClassifier
from skorch.dataset import unpack_data
from skorch.utils import is_dataset, to_tensor
from torch.utils.data import DataLoader

from ..utils._validation import check_int, check_option, check_real
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

__all__ = ["RobustNeuralNetClassifier"]

ADVERSARIAL_MODES = ("pgd", "trades", None)
_SHAPE_HINTS = ("shape", "size", "dimension", "Expected", "expected")


class RobustNeuralNetClassifier(NeuralNetClassifier):
    """A skorch classifier trained adversarially (PGD-AT or TRADES), or not at all.

    A real scikit-learn estimator: it works in ``Pipeline``, ``GridSearchCV``,
    ``clone``, pickle and as the estimator of modAL's ``ActiveLearner``. Only
    ``train_step_single`` is customised (skorch's documented extension point);
    every attack setting is an explicit ``__init__`` argument so ``clone`` keeps it.

    Parameters
    ----------
    module : torch.nn.Module class or instance
        The network; it must output logits (e.g. :class:`~skfral.nn.MLP`,
        :class:`~skfral.nn.SmallCNN`). Its arguments go as ``module__name=value``.
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
        Training attack radius (0.1 for standardised tabular data, 8/255 for images).
    attack_step_size : float or None, default=None
        Step length; ``None`` means ``attack_eps / 4``.
    attack_n_steps : int, default=10
        PGD steps during training (evaluation should use at least as many).
    attack_norm : {"linf", "l2"}, default="linf"
    attack_clip_min, attack_clip_max : float, array-like or None, default=None
        Valid input range during training attacks (``None``: no clipping).
    trades_beta : float, default=6.0
        Weight of the TRADES robustness term.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, batch shuffling, dropout and the training
        attack through forked torch RNG state and local generators (the global
        torch seed is left as it was). An int gives identical weights and
        predictions across two fits on CPU.
    optimizer : torch optimizer class, default=torch.optim.Adam
    lr : float, default=0.01
    max_epochs : int, default=30
    batch_size : int, default=64
        Training batch size.
    predict_batch_size : int, default=4096
        Rows per forward pass when predicting on an array (a direct batched
        loop; skorch's per-sample DataLoader path is kept for Datasets and
        dicts, and when ``iterator_valid__batch_size`` is set).
    verbose : int, default=0
    **kwargs
        Any other skorch argument (``module__*``, ``optimizer__*``, ``callbacks``,
        ``device``, ``classes``...).

    Attributes
    ----------
    classes_ : ndarray
        The class labels (any label type: ints, strings).

    Examples
    --------
    >>> import numpy as np
    >>> from skfral.nn import MLP, RobustNeuralNetClassifier
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(60, 4).astype("float32")
    >>> y = np.where(X[:, 0] > 0, "yes", "no")
    >>> net = RobustNeuralNetClassifier(MLP, module__n_features=4, max_epochs=3,
    ...                                 random_state=0).fit(X, y)
    >>> net.predict(X[:3]).tolist()
    [...]
    >>> sorted(net.classes_.tolist())
    ['no', 'yes']
    """

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
        predict_batch_size=4096,
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

    # ------------------------------------------------------------------ checks
    def _check_hyperparameters(self):
        check_option(self.adversarial, "adversarial", ADVERSARIAL_MODES)
        eps = check_real(self.attack_eps, "attack_eps", min_value=0)
        n_steps = check_int(self.attack_n_steps, "attack_n_steps", min_value=1)
        check_option(self.attack_norm, "attack_norm", NORMS)
        if self.attack_step_size is None:
            step = default_step_size(eps, n_steps)
        else:
            step = check_real(
                self.attack_step_size,
                "attack_step_size",
                min_value=0,
                include_min=False,
            )
        check_real(self.trades_beta, "trades_beta", min_value=0)
        check_real(self.lr, "lr", min_value=0, include_min=False)
        check_int(self.max_epochs, "max_epochs", min_value=0)
        if check_int(self.batch_size, "batch_size", min_value=-1) == 0:
            raise ValueError(
                "batch_size=0 is invalid: expected a positive integer, or -1 for "
                "the whole data set in one batch."
            )
        return eps, step, n_steps

    def _check_fit_data(self, X, y, *, continuing):
        """Every check of a fit's data and settings, changing nothing on the net.

        ``continuing``: the fit goes on from the trained net (partial_fit,
        warm_start), so ``X`` must have its number of features and ``y`` its
        labels. Returns ``(X_arr, y)``, ``y`` as a 1-d array for array data.
        """
        self._check_hyperparameters()
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
        """Validate the training data (called before training starts and by skorch)."""
        continuing = self._is_continuing()
        known = getattr(self, "classes_inferred_", None) if continuing else None
        X_arr, y = self._check_fit_data(X, y, continuing=continuing)
        super().check_data(X, y)
        if known is not None and self.classes is None:
            # a continued fit on a batch missing a class keeps every class
            self.classes_inferred_ = known
        self._check_n_features(X_arr, reset=not continuing)

    def fit(self, X, y=None, **fit_params):
        """Train the net (skorch's ``fit``), after validating data and settings.

        Bad data or settings raise before anything is (re)initialised, so a
        fitted net stays as it was when ``fit`` fails.

        Parameters
        ----------
        X : array-like, torch Dataset or dict
            Inputs (as for :meth:`skorch.NeuralNet.fit`).
        y : array-like of shape (n_samples,) or None
            Labels of any type (ints, strings).
        **fit_params
            Passed to the module's ``forward``.

        Returns
        -------
        self
        """
        continuing = bool(self.warm_start) and self._is_continuing()
        X_arr, _ = self._check_fit_data(X, y, continuing=continuing)
        self._check_module_fits(X_arr)
        return super().fit(X, y, **fit_params)

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
            self.infer(torch.as_tensor(X_arr[:1], device=self.device))

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
        return check_input_array(X, "X")

    # ------------------------------------------------------------- data hooks
    def get_dataset(self, X, y=None):
        X = self._validate_X(X)
        if y is None:
            # Prediction, embeddings: X must look like the training data.
            self._check_n_features(X, reset=False)
        if y is not None and not is_dataset(X):
            y = encode_labels(self, y, len(X))
        return super().get_dataset(X, y)

    def infer(self, x, **fit_params):
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

    # ------------------------------------------------------------ randomness
    def initialize(self):
        # Settings first: skorch builds the optimizer with lr before any fit check.
        self._check_hyperparameters()
        if self.random_state is None:
            self._rng = None
        elif isinstance(self.random_state, np.random.RandomState):
            self._rng = self.random_state
        else:
            seed = check_int(
                self.random_state, "random_state", min_value=0, max_value=2**32 - 1
            )
            self._rng = np.random.RandomState(seed)
        self._torch_rng_state = None
        self.__dict__.pop("n_features_in_", None)  # a fresh net knows no data yet
        return super().initialize()

    def _draw_seed(self):
        rng = getattr(self, "_rng", None)
        return None if rng is None else int(rng.randint(0, 2**31 - 1))

    def initialize_module(self):
        seed = self._draw_seed()
        if seed is None:
            return super().initialize_module()
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            return super().initialize_module()

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        # The net is notified before its callbacks: validate here so that bad
        # inputs fail with our message before any callback touches them.
        self.check_data(X, y)
        super().on_train_begin(net, X=X, y=y, **kwargs)
        seed = self._draw_seed()
        self._attack_generator = torch.Generator()
        if seed is None:
            self._attack_generator.seed()
            self._torch_rng_state = None
            return
        self._attack_generator.manual_seed(seed)
        self._torch_rng_state = (
            torch.Generator().manual_seed(self._draw_seed()).get_state()
        )

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

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        with self._private_torch_rng():
            return super().run_single_epoch(
                iterator, training, prefix, step_fn, **fit_params
            )

    # -------------------------------------------------------------- training
    def train_step_single(self, batch, **fit_params):
        """One optimisation step on adversarial (PGD-AT) or TRADES batches."""
        if self.adversarial is None:
            return super().train_step_single(batch, **fit_params)
        eps, step, n_steps = self._check_hyperparameters()
        self._set_training(True)
        Xi, yi = unpack_data(batch)
        x = to_tensor(Xi, device=self.device)
        if not torch.is_tensor(x):
            raise TypeError(
                f"adversarial={self.adversarial!r} needs a single tensor input per "
                f"batch, got {type(Xi).__name__}: pass X as one array."
            )
        y = to_tensor(yi, device=self.device)
        x = x.float() if not torch.is_floating_point(x) else x
        shape = tuple(x.shape[1:])
        lo = _as_bound(self.attack_clip_min, "attack_clip_min", shape)
        hi = _as_bound(self.attack_clip_max, "attack_clip_max", shape)
        lo = None if lo is None else lo.to(x.device)
        hi = None if hi is None else hi.to(x.device)
        gen = getattr(self, "_attack_generator", None)
        forward, loss_fn = _forward_and_loss(self, y)
        with eval_mode(self):
            try:
                if self.adversarial == "pgd":
                    x_adv = pgd_attack(
                        forward,
                        loss_fn,
                        x,
                        eps=eps,
                        step_size=step,
                        n_steps=n_steps,
                        norm=self.attack_norm,
                        random_start=True,
                        clip_min=lo,
                        clip_max=hi,
                        generator=gen,
                    )
                else:
                    with torch.no_grad():
                        logits_clean = self.infer(x)
                    x_adv = trades_attack(
                        forward,
                        x,
                        logits_clean,
                        eps=eps,
                        step_size=step,
                        n_steps=n_steps,
                        norm=self.attack_norm,
                        clip_min=lo,
                        clip_max=hi,
                        generator=gen,
                    )
            except RuntimeError:
                if forward is self.module_:
                    with torch.no_grad():
                        self.infer(x)  # the net's own message for a misfit X
                raise
        if self.adversarial == "pgd":
            y_pred = self.infer(x_adv, **fit_params)
            loss = self.get_loss(y_pred, y, X=x_adv, training=True)
        else:
            y_pred = self.infer(x, **fit_params)
            logits_adv = self.infer(x_adv, **fit_params)
            robust = F.kl_div(
                F.log_softmax(logits_adv, dim=1),
                F.softmax(y_pred, dim=1),
                reduction="batchmean",
            )
            loss = (
                self.get_loss(y_pred, y, X=x, training=True)
                + float(self.trades_beta) * robust
            )
        loss.backward()
        return {"loss": loss, "y_pred": y_pred}

    # ------------------------------------------------------------ prediction
    def _fast_predict_proba(self, X):
        """Batched no-grad forward passes over an array, bypassing the DataLoader.

        Same result as skorch's ``predict_proba`` (eval mode, no gradient, the
        predict nonlinearity), at a fraction of the cost for small models.
        """
        from ._attacks import eval_mode

        bs = check_int(self.predict_batch_size, "predict_batch_size", min_value=1)
        nonlin = self._get_predict_nonlinearity()
        outs = []
        with eval_mode(self), torch.no_grad():
            for start in range(0, len(X), bs):
                xb = torch.as_tensor(X[start : start + bs], device=self.device)
                yp = self.infer(xb)
                yp = yp[0] if isinstance(yp, tuple) else yp
                outs.append(nonlin(yp).detach().cpu().numpy())
        if not outs:
            return np.empty((0, len(self.classes_)), dtype=np.float32)
        return np.concatenate(outs, axis=0)

    def predict_proba(self, X):
        """Class probabilities, columns in the order of ``classes_``."""
        fast = (
            not is_dataset(X)
            and not isinstance(X, dict)
            and not torch.is_tensor(X)
            and getattr(self, "iterator_valid__batch_size", None) is None
        )
        if fast and getattr(self, "initialized_", False):
            X = self._validate_X(X)
            self._check_n_features(X, reset=False)
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
        """Predicted labels, in the label type the net was fitted on."""
        proba = self.predict_proba(X)  # first: an unfitted net raises NotFittedError
        return np.asarray(self.classes_)[proba.argmax(axis=1)]

    def embed(self, X):
        """Penultimate-layer embeddings (numpy), used by core-set and BADGE.

        Uses the module's ``features(x)`` method when it has one (``MLP``,
        ``SmallCNN``), else the input of the module's last ``torch.nn.Linear``.
        """
        from ._introspect import penultimate_embedding

        return penultimate_embedding(self, X)
