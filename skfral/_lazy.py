"""Lazy package exports (PEP 562): a name's module is imported on first use.

A package lists ``{".module": ("name", ...)}`` and keeps a plain ``__all__``;
:func:`lazy_exports` returns the module-level ``__getattr__`` and ``__dir__``.
``from package import name``, ``package.name``, ``dir(package)`` and
``from package import *`` all work as with eager imports, but importing the
package itself costs nothing (the command line parses its arguments without
torch, skorch or fairlearn).
"""

import importlib

__all__ = ["lazy_exports"]


def lazy_exports(package, exports, public):
    """``(__getattr__, __dir__)`` for ``package`` exporting ``exports`` lazily.

    Parameters
    ----------
    package : str
        The package's ``__name__``.
    exports : dict of str to tuple of str
        Relative module name (``"._runner"``) to the names it exports.
    public : list of str
        The package's ``__all__``; every name in it must be in ``exports``.

    Returns
    -------
    getattr_, dir_ : callable
        Assign them to the package's ``__getattr__`` and ``__dir__``.

    Examples
    --------
    >>> getattr_, dir_ = lazy_exports("skfral", {"._version": ("__version__",)},
    ...                               ["__version__"])
    >>> getattr_("__version__") == __import__("skfral").__version__
    True
    """
    where = {name: module for module, names in exports.items() for name in names}
    missing = sorted(set(public) - set(where))
    if missing:
        raise ImportError(f"{package}.__all__ names {missing} without a module")

    def __getattr__(name):
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module, package), name)
        setattr(importlib.import_module(package), name, value)  # once
        return value

    def __dir__():
        namespace = vars(importlib.import_module(package))
        return sorted(set(namespace) | set(where))

    return __getattr__, __dir__
