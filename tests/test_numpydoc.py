"""numpydoc validation of the public API (issue 18).

Every public class and function of the six subpackages, and every public
method a class defines itself, must have a docstring that documents each of
its parameters with a description and names no parameter it does not have.
Query strategies and attacks also carry See Also and References sections.

Methods that a class inherits, or that override a hook of skorch's or
scikit-learn's base classes without changing its meaning (``initialize``,
``infer``, ``get_dataset``, ...), are documented by those libraries and are
not checked here.
"""

import importlib
import inspect

import pytest

numpydoc_validate = pytest.importorskip("numpydoc.validate")

PUBLIC_MODULES = (
    "skfral.nn",
    "skfral.metrics",
    "skfral.query",
    "skfral.datasets",
    "skfral.experiment",
    "skfral.utils",
)
# Missing docstring, undocumented / unknown parameters, parameters with no
# description, wrong parameter order.
CHECKS = ("GL08", "PR01", "PR02", "PR03", "PR07")


def _mixins(cls):
    """skfral's private mixins of ``cls`` (e.g. the parts of RobustNeuralNetClassifier
    split out of skfral/nn/_net.py): their methods count as the class's own."""
    return [
        k
        for k in cls.__mro__[1:]
        if k.__module__.startswith("skfral.")
        and k.__name__.startswith("_")
        and k.__bases__ == (object,)
    ]


def _defined_here(cls, name):
    """True when ``cls`` (or one of its private mixins) defines ``name`` and no
    other base class already had it."""
    own = [cls, *_mixins(cls)]
    if not any(name in vars(k) for k in own):
        return False
    return not any(hasattr(base, name) for base in cls.__mro__[1:] if base not in own)


def _own_members(cls):
    members = {}
    for k in reversed([cls, *_mixins(cls)]):
        members.update(vars(k))
    return members


def public_objects():
    paths = []
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            obj = getattr(module, name)
            if not (inspect.isclass(obj) or inspect.isfunction(obj)):
                continue
            paths.append(f"{module_name}.{name}")
            if not inspect.isclass(obj):
                continue
            for attr, value in _own_members(obj).items():
                if attr.startswith("_") and attr != "__call__":
                    continue
                if not (inspect.isfunction(value) or isinstance(value, property)):
                    continue
                if isinstance(value, property) or not _defined_here(obj, attr):
                    continue
                paths.append(f"{module_name}.{name}.{attr}")
    return sorted(set(paths))


@pytest.mark.parametrize("path", public_objects())
def test_public_docstring_is_valid(path):
    result = numpydoc_validate.validate(path)
    errors = [f"{code}: {msg}" for code, msg in result["errors"] if code in CHECKS]
    assert not errors, f"{path}:\n" + "\n".join(errors)


def _strategies_and_attacks():
    from skfral import nn
    from skfral.utils.discovery import all_strategies

    names = [f"skfral.query.{cls.__name__}" for _, cls in all_strategies()]
    for name in ("PGD", "FGSM", "APGD"):
        if hasattr(nn, name):
            names.append(f"skfral.nn.{name}")
    return sorted(names)


@pytest.mark.parametrize("path", _strategies_and_attacks())
def test_strategies_and_attacks_have_references_and_see_also(path):
    module_name, _, name = path.rpartition(".")
    obj = getattr(importlib.import_module(module_name), name)
    doc = inspect.getdoc(obj) or ""
    assert "\nReferences\n----------" in doc, f"{path} has no References section"
    assert "\nSee Also\n--------" in doc, f"{path} has no See Also section"
