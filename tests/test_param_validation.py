"""Every estimator's settings checked by one hook (imbalanced-learn's ``check_param_validation``).

Each public estimator that declares ``_parameter_constraints`` (every query
strategy, found by :func:`skfral.utils.discovery.all_strategies`, and every
class of :mod:`skfral.nn` that declares them: attacks and nets) is given, for
each constrained parameter, a value of a type no constraint accepts and, for
each constraint, a value just outside it. ``_validate_params()`` -- the one hook
-- must raise a clear error that names the parameter and the value and says
what was expected. For the strategies the same bad values are also passed
through the public entry (``strategy(net, X_pool, ...)``), which must refuse
them before doing any work.
"""

import inspect
import re

import numpy as np
import pytest
from sklearn.base import clone

from skfral import nn
from skfral.utils._param_validation import (
    Interval,
    InvalidParameterError,
    StrOptions,
    invalid_value_for,
    make_constraint,
    validate_parameter_constraints,
)
from skfral.utils.discovery import all_strategies


class _NotAParameter:
    """No constraint accepts this: not a number, string, array, bool or None."""

    def __repr__(self):
        return "_NotAParameter()"


def _estimators():
    pairs = [(cls.__name__, cls) for _, cls in all_strategies()]
    for name in nn.__all__:
        obj = getattr(nn, name)
        if inspect.isclass(obj) and "_parameter_constraints" in dir(obj):
            pairs.append((name, obj))
    return sorted(pairs)


ESTIMATORS = _estimators()


def _instance(cls):
    try:
        return cls()
    except TypeError:  # nets need their module
        return cls(nn.MLP)


def _bad_values(constraints):
    """``[(kind, value)]``: a wrong type, then a value outside each constraint."""
    made = [make_constraint(c) for c in constraints]
    out = [("type", _NotAParameter())]
    for c in made:
        try:
            bad = invalid_value_for(c)
        except NotImplementedError:
            continue
        probe = {"p": [*constraints]}
        try:
            validate_parameter_constraints(probe, {"p": bad}, "probe")
        except InvalidParameterError:
            out.append((f"outside {c}", bad))
    return out


def _cases():
    cases = []
    for name, cls in ESTIMATORS:
        for param, constraints in cls._parameter_constraints.items():
            if isinstance(constraints, str):  # "no_validation"
                continue
            for kind, bad in _bad_values(constraints):
                # ids must not depend on set order (hash seeds differ between
                # pytest-xdist workers): sort the options a constraint prints
                kind = re.sub(
                    r"\{([^{}]*)\}",
                    lambda m: "{" + ", ".join(sorted(m.group(1).split(", "))) + "}",
                    kind,
                )
                cases.append(pytest.param(cls, param, bad, id=f"{name}-{param}-{kind}"))
    return cases


def test_discovery_finds_strategies_attacks_and_nets():
    names = {name for name, _ in ESTIMATORS}
    assert {"JINQueryStrategy", "EntropySampling", "FALSampling"} <= names
    assert "PGD" in names  # the attacks declare their constraints too


@pytest.mark.parametrize("name, cls", ESTIMATORS, ids=[n for n, _ in ESTIMATORS])
def test_constraints_name_real_parameters(name, cls):
    params = set(_instance(cls).get_params(deep=False))
    constrained = set(cls._parameter_constraints)
    assert constrained <= params, f"stale constraints: {sorted(constrained - params)}"
    if not hasattr(cls, "initialize"):  # strategies and attacks: every parameter
        assert params <= constrained, f"unconstrained: {sorted(params - constrained)}"
    # defaults are valid
    _instance(cls)._validate_params()


@pytest.mark.parametrize("cls, param, bad", _cases())
def test_bad_value_gives_a_clear_error(cls, param, bad):
    estimator = _instance(cls)
    estimator.set_params(**{param: bad})
    with pytest.raises((ValueError, TypeError)) as info:
        estimator._validate_params()
    message = str(info.value)
    assert message.startswith(f"{param}={bad!r}"), message
    assert "expected" in message, message


# ------------------------------------------------ strategies: the public entry
@pytest.fixture(scope="module")
def fitted():
    rng = np.random.RandomState(0)
    X = rng.randn(40, 3).astype(np.float32)
    y = (X[:, 0] > 0).astype(int)
    s = np.tile([0, 1], 20)
    net = nn.RobustNeuralNetClassifier(
        nn.MLP, module__n_features=3, max_epochs=1, attack_n_steps=1, random_state=0
    ).fit(X, y)
    return net, X, y, s


STRATEGY_CASES = [
    c for c in _cases() if c.values[0] in {cls for _, cls in all_strategies()}
]


@pytest.mark.parametrize("cls, param, bad", STRATEGY_CASES)
def test_strategy_call_refuses_bad_settings_first(cls, param, bad, fitted, monkeypatch):
    net, X, y, s = fitted
    strategy = cls().set_params(**{param: bad})
    # nothing is predicted before the settings are checked
    monkeypatch.setattr(
        type(net), "predict_proba", lambda *a, **k: pytest.fail("predicted")
    )
    with pytest.raises((ValueError, TypeError), match=re.escape(f"{param}={bad!r}")):
        strategy(net, X, 2, sensitive_features=s, X_labelled=X, y_labelled=y)


# ------------------------------------------------------- the wrapper itself
def test_messages_in_our_style():
    from numbers import Integral, Real

    constraints = {
        "n": [Interval(Integral, 1, None, closed="left")],
        "eps": [Interval(Real, 0, None, closed="left")],
        "norm": [StrOptions(("linf", "l2"))],
        "adversarial": [StrOptions(("pgd", "trades")), None],
        "seed": ["random_state"],
        "flag": ["boolean"],
    }
    expected = {
        ("n", 0): "n=0 is invalid: expected an integer >= 1.",
        ("n", 2.5): "n=2.5 has type float: expected an integer.",
        ("n", True): "n=True has type bool: expected an integer.",
        ("eps", float("nan")): "eps=nan is invalid: expected a finite number >= 0.",
        ("eps", None): "eps=None has type NoneType: expected a number.",
        ("norm", "l1"): "norm='l1' is not valid: expected one of 'linf', 'l2'.",
        ("adversarial", "fgsm"): (
            "adversarial='fgsm' is not valid: expected one of 'pgd', 'trades', None."
        ),
        ("seed", "a"): "seed='a' has type str: expected None, an int or a RandomState.",
        ("flag", 1): "flag=1 has type int: expected True or False.",
    }
    for (name, value), message in expected.items():
        with pytest.raises(InvalidParameterError) as info:
            validate_parameter_constraints(constraints, {name: value}, "f")
        assert str(info.value) == message
        assert isinstance(info.value, ValueError) and isinstance(info.value, TypeError)
    validate_parameter_constraints(
        constraints, {"n": np.int64(3), "flag": np.True_, "seed": None}, "f"
    )


def test_clone_keeps_constraints_working():
    from skfral.query import JINQueryStrategy

    twin = clone(JINQueryStrategy(weights=(1.0, 0.0)))
    twin._validate_params()
    with pytest.raises(ValueError, match=r"weights=\(0, 0\) is invalid"):
        twin.set_params(weights=(0, 0))._validate_params()
