"""The one place that knows modAL's quirks.

modAL-python 0.4.2.1 (its last release, 2023) predates scikit-learn 1.8 and
pandas 2:

* ``ActiveLearner.fit`` / ``teach`` / ``_add_training_data`` call
  ``sklearn.utils.check_X_y(..., force_all_finite=...)``. scikit-learn 1.6
  renamed the argument to ``ensure_all_finite`` and 1.8 removed the old name, so
  these calls raise ``TypeError`` (modAL issue #196).
* ``modAL.utils.data.data_vstack`` stacks DataFrames with ``DataFrame.append``,
  removed in pandas 2.0.
* ``modAL.utils.data.retrieve_rows`` wraps ``X[I]`` in a bare ``except:``, which
  also catches ``KeyboardInterrupt`` and ``SystemExit``: Ctrl-C during a query
  then ends in ``<class 'numpy.ndarray'> datatype is not supported``.
* ``ActiveLearner`` checks that every input is finite before ``teach`` even
  when its estimator imputes missing values itself, and an
  ``ActiveLearner(..., force_all_finite=False)`` forwards the flag to
  ``estimator.fit`` (``Pipeline.fit does not accept the force_all_finite
  parameter``).

:func:`apply` patches exactly these names inside modAL's own loaded modules
(wherever they hold the original function), and only where the installed
modAL / scikit-learn / pandas need it. The pandas fix also stacks ``Series``
labels and array blocks taught after a DataFrame (given the DataFrame's
columns). ``retrieve_rows`` lets ``KeyboardInterrupt`` and ``SystemExit``
through. ``ActiveLearner`` keeps ``force_all_finite`` for its own check
instead of passing it to ``fit``, and by default leaves the finiteness check to
an estimator that validates its own input: a :class:`~sklearn.pipeline.Pipeline`
(an imputer step handles NaN; otherwise a step raises its own clear error) or
an estimator whose scikit-learn tags say ``allow_nan``. Pass
``force_all_finite=True`` to keep modAL's check. It is idempotent.

Importing :mod:`skfral` calls :func:`install`, which patches modAL at once if it
is already imported, and otherwise adds an import hook (:data:`sys.meta_path`)
that patches it as soon as modAL's learners are imported: ``import skfral``
itself imports neither modAL nor torch, so the command line answers at once.
:func:`require_modal` gives an actionable ImportError when modAL is missing,
is the wrong package (``pip install modAL`` installs Modal's cloud client) or
of an unsupported version.
"""

import functools
import importlib
import inspect
import re
import sys

MODAL_VERSION_PREFIX = "0.4.2"
MODAL_INSTALL = 'pip install --no-deps "modAL-python==0.4.2.1"'
MODAL_FIX = "pip uninstall modal modAL; pip install --no-deps modAL-python==0.4.2.1"

_state = {"applied": False, "patched": ()}

# ``apply`` runs once this module (imported by every ``import modAL``) has run.
_TRIGGER = "modAL.models.learners"


def _distribution_version(name):
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return None


def _modal_version():
    return _distribution_version("modAL-python")


def _wrong_package():
    """``"modal <version>"`` when Modal's cloud client is installed, else None.

    pip's names are case-insensitive: ``pip install modAL`` installs ``modal``.
    """
    found = _distribution_version("modal")
    return None if found is None else f"modal {found}"


def require_modal():
    """Import and return :mod:`modAL.models`, or raise an actionable ImportError.

    The message says what is installed instead (nothing, Modal's client
    ``modal`` that ``pip install modAL`` brings, another modAL-python version,
    or a ``modAL`` module without ``modAL.models.ActiveLearner``) and the
    command that fixes it.
    """
    found = _modal_version()
    wrong = _wrong_package()
    if found is None:
        if wrong is not None:
            raise ImportError(
                f"skfral needs modAL-python 0.4.2.x, but the installed package is "
                f"{wrong}, Modal's cloud client (`pip install modAL` installs it: "
                f"pip names are case-insensitive). Fix: {MODAL_FIX}"
            )
        raise ImportError(
            "skfral needs modAL-python 0.4.2.x, which is not installed. Install it "
            "without its dependencies (its metadata pins skorch==0.9.0): "
            f"{MODAL_INSTALL}"
        )
    if not found.startswith(MODAL_VERSION_PREFIX):
        raise ImportError(
            f"skfral needs modAL-python {MODAL_VERSION_PREFIX}.x but {found} is "
            f"installed (its query API differs). Replace it with: {MODAL_INSTALL}"
        )
    try:
        models = importlib.import_module("modAL.models")
        models.ActiveLearner  # noqa: B018  (the wrong package has no learner)
    except (ImportError, AttributeError) as exc:
        module = sys.modules.get("modAL")
        where = getattr(module, "__file__", None) or "nowhere"
        also = f"; {wrong} is installed too" if wrong is not None else ""
        raise ImportError(
            f"modAL-python {found} is installed, but `import modAL` gives a module "
            f"without modAL.models.ActiveLearner (loaded from {where}{also}): {exc}. "
            f"Fix: {MODAL_FIX}"
        ) from None
    apply()
    return models


def _sklearn_needs_patch():
    from sklearn.utils import check_X_y

    return "force_all_finite" not in inspect.signature(check_X_y).parameters


def _pandas_needs_patch():
    import pandas as pd

    return not hasattr(pd.DataFrame, "append")


def _translate_check_X_y(check_X_y):
    @functools.wraps(check_X_y)
    def check_X_y_compat(*args, force_all_finite=None, **kwargs):
        if force_all_finite is not None:
            kwargs.setdefault("ensure_all_finite", force_all_finite)
        return check_X_y(*args, **kwargs)

    check_X_y_compat.__skfral_compat__ = True
    return check_X_y_compat


def _data_vstack_compat(original):
    import pandas as pd
    import scipy.sparse as sp

    def like(first, block):
        # Blocks taught as arrays after a DataFrame start (or the reverse order
        # of types) are given the first block's columns, as DataFrame.append did.
        if isinstance(block, pd.DataFrame | pd.Series):
            return block
        if isinstance(first, pd.Series):
            return pd.Series(block, name=first.name)
        return pd.DataFrame(block, columns=first.columns)

    @functools.wraps(original)
    def data_vstack(blocks):
        first = blocks[0]
        if isinstance(first, pd.DataFrame | pd.Series) and not any(
            sp.issparse(b) for b in blocks
        ):
            return pd.concat([like(first, b) for b in blocks])
        return original(blocks)

    data_vstack.__skfral_compat__ = True
    return data_vstack


def _retrieve_rows_needs_patch(retrieve_rows):
    """True when ``retrieve_rows`` has a bare ``except:`` (every 0.4.2.x)."""
    try:
        source = inspect.getsource(retrieve_rows)
    except (OSError, TypeError):
        return False
    return re.search(r"except\s*:", source) is not None


def _retrieve_rows_compat(original):
    import numpy as np
    import pandas as pd
    import scipy.sparse as sp

    @functools.wraps(original)
    def retrieve_rows(X, I):  # noqa: E741  (modAL's argument name)
        try:
            return X[I]
        except (KeyboardInterrupt, SystemExit):
            raise
        except Exception:
            pass
        # modAL's own fallbacks, with interrupts let through
        if sp.issparse(X):
            return X.tocsr()[I].asformat(X.getformat())
        if isinstance(X, pd.DataFrame):
            return X.iloc[I]
        if isinstance(X, list):
            return np.array(X)[I].tolist()
        if isinstance(X, dict):
            return {key: retrieve_rows(value, I) for key, value in X.items()}
        raise TypeError(f"{type(X)} datatype is not supported")

    retrieve_rows.__skfral_compat__ = True
    return retrieve_rows


def _validates_its_own_input(estimator):
    """A Pipeline, or an estimator whose tags allow NaN: it checks its input itself."""
    from sklearn.pipeline import Pipeline

    if isinstance(estimator, Pipeline):
        return True
    try:
        from sklearn.utils import get_tags

        return bool(get_tags(estimator).input_tags.allow_nan)
    except Exception:  # not a scikit-learn estimator: keep modAL's check
        return False


def _learner_init_needs_patch(cls):
    return "force_all_finite" not in inspect.signature(cls.__init__).parameters


def _learner_init_compat(original):
    from .utils._validation import check_bool

    @functools.wraps(original)
    def __init__(self, *args, force_all_finite=None, **kwargs):
        original(self, *args, **kwargs)  # without the flag: it is not a fit argument
        if force_all_finite is None:
            force_all_finite = not _validates_its_own_input(self.estimator)
        self.force_all_finite = check_bool(force_all_finite, "force_all_finite")

    __init__.__skfral_compat__ = True
    return __init__


def _replace_in_modal_modules(name, original, replacement):
    """Rebind ``name`` wherever a loaded modAL module holds ``original``."""
    patched = []
    for module_name, module in sorted(sys.modules.items()):
        if module_name != "modAL" and not module_name.startswith("modAL."):
            continue
        if getattr(module, name, None) is original:
            setattr(module, name, replacement)
            patched.append(f"{module_name}.{name}")
    return patched


def apply():
    """Patch modAL for the installed scikit-learn and pandas (idempotent).

    Returns
    -------
    patched : tuple of str
        Names of the patched attributes (empty when nothing was needed or modAL
        is not installed).
    """
    if _state["applied"]:
        return _state["patched"]
    try:
        learners = importlib.import_module("modAL.models.learners")
        data = importlib.import_module("modAL.utils.data")
    except ImportError:
        # modAL is optional at import time; require_modal() explains the fix.
        return ()
    patched = []
    check_X_y = learners.check_X_y
    if _sklearn_needs_patch() and not getattr(check_X_y, "__skfral_compat__", False):
        patched += _replace_in_modal_modules(
            "check_X_y", check_X_y, _translate_check_X_y(check_X_y)
        )
    data_vstack = data.data_vstack
    if _pandas_needs_patch() and not getattr(data_vstack, "__skfral_compat__", False):
        patched += _replace_in_modal_modules(
            "data_vstack", data_vstack, _data_vstack_compat(data_vstack)
        )
    retrieve_rows = data.retrieve_rows
    if not getattr(
        retrieve_rows, "__skfral_compat__", False
    ) and _retrieve_rows_needs_patch(retrieve_rows):
        patched += _replace_in_modal_modules(
            "retrieve_rows", retrieve_rows, _retrieve_rows_compat(retrieve_rows)
        )
    learner_cls = learners.ActiveLearner
    init = learner_cls.__dict__.get("__init__")
    if (
        init is not None
        and not getattr(init, "__skfral_compat__", False)
        and _learner_init_needs_patch(learner_cls)
    ):
        learner_cls.__init__ = _learner_init_compat(init)
        patched.append("modAL.models.learners.ActiveLearner.__init__")
    _state["applied"] = True
    _state["patched"] = tuple(patched)
    return _state["patched"]


class _PatchAfterExec:
    """A module loader that runs ``apply`` once modAL's learners have run.

    Every other attribute is the wrapped loader's (``get_source``,
    ``get_filename``, ``is_package``...), so tracebacks, :mod:`inspect` and
    resources behave as without the hook.
    """

    def __init__(self, loader):
        self._loader = loader

    def __getattr__(self, name):
        return getattr(self._loader, name)

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        self._loader.exec_module(module)
        if module.__name__ == _TRIGGER:
            apply()


class _ModalImportHook:
    """Meta-path finder: patches modAL when (and only when) it is imported."""

    def find_spec(self, fullname, path, target=None):
        if fullname != _TRIGGER:
            return None
        for finder in sys.meta_path:
            if isinstance(finder, _ModalImportHook):
                continue
            find_spec = getattr(finder, "find_spec", None)
            spec = None if find_spec is None else find_spec(fullname, path, target)
            if spec is not None:
                break
        else:
            return None
        if spec.loader is not None and hasattr(spec.loader, "exec_module"):
            spec.loader = _PatchAfterExec(spec.loader)
        return spec


def install():
    """Patch modAL now if it is imported, else when it is (idempotent).

    Called by ``import skfral``. modAL imports torch, so the patch waits for
    modAL's own import (a :data:`sys.meta_path` hook) instead of importing it.

    Returns
    -------
    patched : tuple of str or None
        What :func:`apply` patched when modAL was already imported, else None
        (the hook is installed and patches on modAL's import).
    """
    if _TRIGGER in sys.modules:
        return apply()
    if not any(isinstance(finder, _ModalImportHook) for finder in sys.meta_path):
        sys.meta_path.insert(0, _ModalImportHook())
    return None
