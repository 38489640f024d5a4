"""The one place that knows modAL's quirks.

modAL-python 0.4.2.1 (its last release, 2023) predates scikit-learn 1.8 and
pandas 2:

* ``ActiveLearner.fit`` / ``teach`` / ``_add_training_data`` call
  ``sklearn.utils.check_X_y(..., force_all_finite=...)``. scikit-learn 1.6
  renamed the argument to ``ensure_all_finite`` and 1.8 removed the old name, so
  these calls raise ``TypeError`` (modAL issue #196).
* ``modAL.utils.data.data_vstack`` stacks DataFrames with ``DataFrame.append``,
  removed in pandas 2.0.

:func:`apply` patches exactly these two names inside modAL's own loaded modules
(wherever they hold the original function), and only where the installed
scikit-learn / pandas need it. The pandas fix also stacks ``Series`` labels and
array blocks taught after a DataFrame (given the DataFrame's columns). It is
idempotent and is called when :mod:`skfral` is imported. :func:`require_modal`
gives an actionable ImportError when modAL is missing or of an unsupported
version.
"""

import functools
import importlib
import inspect
import sys

MODAL_VERSION_PREFIX = "0.4.2"
MODAL_INSTALL = 'pip install --no-deps "modAL-python==0.4.2.1"'

_state = {"applied": False, "patched": ()}


def _modal_version():
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("modAL-python")
    except PackageNotFoundError:
        return None


def require_modal():
    """Import and return :mod:`modAL.models`, or raise an actionable ImportError."""
    found = _modal_version()
    if found is None:
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
    apply()
    return importlib.import_module("modAL.models")


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
    _state["applied"] = True
    _state["patched"] = tuple(patched)
    return _state["patched"]
