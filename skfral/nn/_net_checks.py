"""Every check of :class:`~skfral.nn.RobustNeuralNetClassifier`: its settings and its data.

Moved out of ``_net.py`` as they were (issue 27). One module holds every check;
each kind of input has one entry:

- settings: ``_check_hyperparameters`` does the work; skorch's hook
  ``_validate_params`` calls it outside a fit, ``_settings_scope`` once for a
  whole fit or initialize, and ``_current_settings`` reads the scope's answer
  (skorch's own ``_validate_params`` cannot run before the net is set up, so the
  scope does not go through the hook);
- training data: ``_check_fit_data`` (``fit``, ``partial_fit`` and skorch's
  ``check_data`` all go through it);
- prediction inputs: ``_validate_X``.

The input-scale warning lives here too.
"""

import contextlib
import math
import warnings
from collections import namedtuple
from numbers import Integral

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import column_or_1d
from skorch.utils import is_dataset
from torch.utils.data import DataLoader

from ..utils._param_validation import (
    InvalidParameterError,
    validate_parameter_constraints,
)
from ..utils._validation import check_int
from ._attack_checks import (
    _as_bound,
    check_clip_range,
    check_input_array,
    default_step_size,
)
from ._data import (
    check_amp_dtype,
    check_device,
    check_lazy_array,
    is_lazy_array,
    load_rows,
)
from ._net_io import FEATURE_PARAMS
from ._skorch_plumbing import eval_mode

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


class _NetChecks:
    """Settings and data checks (a mixin of RobustNeuralNetClassifier)."""

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
