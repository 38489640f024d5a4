"""One validation hook for every skfral estimator: ``_parameter_constraints``.

Attacks, nets and query strategies declare what each ``__init__`` parameter
accepts in a class attribute, the way scikit-learn and imbalanced-learn do::

    class PGD(ParamsValidationMixin, BaseEstimator):
        _parameter_constraints = {
            "eps": [Interval(Real, 0, None, closed="left")],
            "norm": [StrOptions(("linf", "l2"))],
            "random_state": ["random_state"],
        }

and call ``self._validate_params()`` once, at their public entry (``fit``,
``perturb``, ``__call__``). A bad value raises :class:`InvalidParameterError`
(a ``ValueError`` *and* a ``TypeError``, as in scikit-learn) in skfral's
message style -- the argument, the value received and what was expected::

    n_candidates=0 is invalid: expected an integer >= 1.
    n_steps=2.5 has type float: expected an integer.
    norm='l1' is not valid: expected one of 'linf', 'l2'.

This module is the only one that imports ``sklearn.utils._param_validation``
(a private scikit-learn module): if scikit-learn changes it, this file is the
one place to fix. Everything else imports the constraint classes from here.

Two rules are stricter than scikit-learn's: a bool is not a number (``True``
does not satisfy ``Interval(Integral, ...)``), and a number interval over the
reals holds finite numbers only (NaN and infinity are refused).
"""

import copy
from numbers import Integral, Real

import numpy as np
from sklearn.utils import _param_validation as _skl

# Re-exported constraint vocabulary (scikit-learn's), so no other module imports
# the private scikit-learn module.
HasMethods = _skl.HasMethods
Hidden = _skl.Hidden
Interval = _skl.Interval
RealNotInt = _skl.RealNotInt


class Options(_skl.Options):
    """scikit-learn's ``Options``, keeping the order the options are given in.

    Parameters
    ----------
    type : type
        The type of the valid values.
    options : iterable
        The valid values, listed in this order in messages.
    deprecated : iterable or None, default=None
        Options marked as deprecated.
    """

    def __init__(self, type, options, *, deprecated=None):
        self.ordered = tuple(options)
        super().__init__(type, set(self.ordered), deprecated=set(deprecated or ()))


class StrOptions(Options):
    """scikit-learn's ``StrOptions`` in a given order (see :class:`Options`).

    Parameters
    ----------
    options : iterable of str
        The valid strings, listed in this order in messages.
    deprecated : iterable of str or None, default=None
        Options marked as deprecated.
    """

    def __init__(self, options, *, deprecated=None):
        super().__init__(str, options, deprecated=deprecated)


__all__ = [
    "HasMethods",
    "Hidden",
    "Interval",
    "InvalidParameterError",
    "Options",
    "ParamsValidationMixin",
    "Predicate",
    "RealNotInt",
    "StrOptions",
    "describe_constraints",
    "invalid_value_for",
    "make_constraint",
    "validate_parameter_constraints",
]


class InvalidParameterError(_skl.InvalidParameterError):
    """A parameter of a skfral estimator has a bad type or value.

    Subclass of scikit-learn's ``InvalidParameterError``, itself both a
    ``ValueError`` and a ``TypeError``: code that catches either keeps working.
    """


class Predicate(_skl._Constraint):
    """A constraint given by a function and the words that describe it.

    For settings no stock constraint expresses (a pair of weights, a tuple of
    sizes). A value failing it is reported as ``name=value is invalid:
    expected <description>.``

    Parameters
    ----------
    func : callable
        ``func(value) -> bool``, True when ``value`` is valid.
    description : str
        What a valid value is, e.g. ``"a pair of numbers (w_adv, w_mod)"``.
    invalid : object, default=None
        An example of a bad value, for the common parameter-validation test.

    Examples
    --------
    >>> pair = Predicate(lambda v: isinstance(v, tuple) and len(v) == 2, "a pair")
    >>> validate_parameter_constraints({"w": [pair]}, {"w": (1, 2, 3)}, "f")
    Traceback (most recent call last):
    ...
    skfral.utils._param_validation.InvalidParameterError: w=(1, 2, 3) is invalid: \
expected a pair.
    """

    def __init__(self, func, description, *, invalid=None):
        super().__init__()
        self.func = func
        self.description = description
        self.invalid = invalid

    def is_satisfied_by(self, val):
        try:
            return bool(self.func(val))
        except Exception:  # a predicate that cannot even look at val: not satisfied
            return False

    def __str__(self):
        return self.description


def make_constraint(constraint):
    """scikit-learn's ``make_constraint``, knowing :class:`Predicate` too.

    A ``Hidden(c)`` comes back as ``c`` made, with ``hidden=True`` set on a
    copy (the class-level constraint objects are never modified).
    """
    if isinstance(constraint, _skl._Constraint):  # already made (Predicate too)
        return constraint
    if isinstance(constraint, _skl.Hidden):
        made = copy.copy(make_constraint(constraint.constraint))
        made.hidden = True
        return made
    return _skl.make_constraint(constraint)


# ----------------------------------------------------------------- checking
def _is_number(val, kind):
    if isinstance(val, bool | np.bool_):
        return False
    return isinstance(val, kind)


def _satisfied(constraint, val):
    """scikit-learn's test, plus: no bools as numbers, finite reals only."""
    if isinstance(constraint, _skl.Interval):
        if not _is_number(val, constraint.type):
            return False
        if constraint.type is not Integral and not np.isfinite(val):
            return False
        return constraint.is_satisfied_by(val)
    if isinstance(constraint, _skl._RandomStates):
        if isinstance(val, bool | np.bool_):
            return False
    return constraint.is_satisfied_by(val)


def _type_fits(constraint, val):
    """Whether ``val`` has the right *type* for ``constraint`` (value aside)."""
    if isinstance(constraint, _skl.Interval):
        return _is_number(val, constraint.type)
    if isinstance(constraint, _skl.Options):
        return isinstance(val, constraint.type)
    if isinstance(constraint, _skl._RandomStates):
        return _is_number(val, Integral)
    if isinstance(constraint, Predicate):
        return True
    return _satisfied(constraint, val)


def _bound(left, right, closed, number):
    lo_in = closed in ("left", "both")
    hi_in = closed in ("right", "both")
    if left is not None and right is not None:
        return (
            f"{number} in {'[' if lo_in else '('}{left}, {right}{']' if hi_in else ')'}"
        )
    if left is not None:
        return f"{number} {'>=' if lo_in else '>'} {left}"
    if right is not None:
        return f"{number} {'<=' if hi_in else '<'} {right}"
    return number


def _describe(constraint, *, values):
    """Words for one constraint; ``values=False`` describes its type only."""
    if isinstance(constraint, _skl.Interval):
        number = {Integral: "an integer", Real: "a finite number"}.get(
            constraint.type, "a finite float"
        )
        if not values:
            return {Integral: "an integer", Real: "a number"}.get(
                constraint.type, "a float"
            )
        return _bound(constraint.left, constraint.right, constraint.closed, number)
    if isinstance(constraint, _skl.Options):
        return "one of " + ", ".join(repr(o) for o in _ordered(constraint))
    if isinstance(constraint, _skl._NoneConstraint):
        return "None"
    if isinstance(constraint, _skl._Booleans):
        return "True or False"
    if isinstance(constraint, _skl._RandomStates):
        seed = "an int in [0, 4294967295]" if values else "an int"
        return f"None, {seed} or a RandomState"
    if isinstance(constraint, _skl.HasMethods):
        names = " and ".join(constraint.methods)
        plural = "s" if len(constraint.methods) > 1 else ""
        return f"an object with a {names} method{plural}"
    if isinstance(constraint, _skl._Callables):
        return "a callable"
    if isinstance(constraint, _skl._ArrayLikes):
        return "an array-like"
    if isinstance(constraint, _skl._InstancesOf):
        name = {Integral: "integer", Real: "number"}.get(
            constraint.type, constraint.type.__name__
        )
        article = "an" if name[0] in "aeiou" else "a"
        return f"{article} {name}"
    return str(constraint)


def _ordered(constraint):
    ordered = getattr(constraint, "ordered", None)
    return ordered if ordered is not None else sorted(constraint.options, key=str)


def _join(parts):
    parts = list(dict.fromkeys(parts))  # no repeats, order kept
    return parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} or {parts[-1]}"


def describe_constraints(constraints, *, values=True):
    """What a list of constraints accepts, in words.

    Parameters
    ----------
    constraints : list
        Constraints as written in ``_parameter_constraints`` (or already made).
    values : bool, default=True
        Describe the valid values (bounds, options); ``False`` names the
        accepted types only.

    Returns
    -------
    text : str

    Examples
    --------
    >>> describe_constraints([Interval(Integral, 1, None, closed="left"), None])
    'an integer >= 1 or None'
    >>> describe_constraints([StrOptions(("hard", "kl")), None])
    "one of 'hard', 'kl', None"
    """
    made = [make_constraint(c) for c in constraints]
    made = [c for c in made if not getattr(c, "hidden", False)]
    if (
        made
        and all(isinstance(c, _skl.Options | _skl._NoneConstraint) for c in made)
        and any(isinstance(c, _skl.Options) for c in made)
    ):
        opts = []
        for c in made:
            opts.extend(_ordered(c) if isinstance(c, _skl.Options) else [None])
        return "one of " + ", ".join(repr(o) for o in opts)
    return _join(_describe(c, values=values) for c in made)


def _error(name, value, constraints):
    shown = [c for c in constraints if not getattr(c, "hidden", False)]
    if not any(_type_fits(c, value) for c in shown):
        return InvalidParameterError(
            f"{name}={value!r} has type {type(value).__name__}: expected "
            f"{describe_constraints(shown, values=False)}."
        )
    options_only = all(
        isinstance(c, _skl.Options | _skl._NoneConstraint) for c in shown
    )
    verb = "is not valid" if options_only else "is invalid"
    return InvalidParameterError(
        f"{name}={value!r} {verb}: expected {describe_constraints(shown)}."
    )


def validate_parameter_constraints(parameter_constraints, params, caller_name):
    """Check ``params`` against ``parameter_constraints``; raise in skfral's words.

    Parameters
    ----------
    parameter_constraints : dict
        ``name -> list of constraints`` (scikit-learn's vocabulary: ``Interval``,
        ``StrOptions``, ``Options``, ``HasMethods``, types, ``None``,
        ``"boolean"``, ``"random_state"``, ``"array-like"``, ``callable``) or
        ``"no_validation"``; plus :class:`Predicate`. Parameters without an
        entry are not checked.
    params : dict
        ``name -> value`` (e.g. ``estimator.get_params(deep=False)``).
    caller_name : str
        The class or function checked (kept for scikit-learn parity; the
        message names the parameter, the value and what was expected).

    Raises
    ------
    InvalidParameterError
        For the first parameter that satisfies none of its constraints.

    Examples
    --------
    >>> validate_parameter_constraints(
    ...     {"n_steps": [Interval(Integral, 1, None, closed="left")]},
    ...     {"n_steps": 0}, "PGD")
    Traceback (most recent call last):
    ...
    skfral.utils._param_validation.InvalidParameterError: n_steps=0 is invalid: \
expected an integer >= 1.
    """
    for name, value in params.items():
        constraints = parameter_constraints.get(name)
        if constraints is None or (
            isinstance(constraints, str) and constraints == "no_validation"
        ):
            continue
        made = [make_constraint(c) for c in constraints]
        if any(_satisfied(c, value) for c in made):
            continue
        raise _error(name, value, made)


class ParamsValidationMixin:
    """Adds the one validation hook, ``_validate_params()``, to an estimator.

    The class declares ``_parameter_constraints``; its public entry calls
    ``self._validate_params()`` once. Checks across parameters (a pair of
    weights that must not both be zero) go in an override that calls
    ``super()._validate_params()`` first.
    """

    _parameter_constraints: dict = {}

    def _validate_params(self):
        """Check every parameter against ``_parameter_constraints``.

        Raises
        ------
        InvalidParameterError
            Naming the parameter, the value and what was expected.
        """
        validate_parameter_constraints(
            self._parameter_constraints,
            self.get_params(deep=False),
            caller_name=type(self).__name__,
        )


def invalid_value_for(constraint):
    """A value that fails ``constraint`` (for the common validation test).

    Raises ``NotImplementedError`` where no such value exists (an unbounded
    integer interval) or none can be made.

    Examples
    --------
    >>> invalid_value_for(Interval(Integral, 1, None, closed="left"))
    0
    """
    constraint = make_constraint(constraint)
    if isinstance(constraint, Predicate):
        if constraint.invalid is None:
            raise NotImplementedError
        return constraint.invalid
    if isinstance(constraint, _skl.Options):
        if constraint.type is not str:
            raise NotImplementedError
        return "not " + " or ".join(sorted(constraint.options))
    if isinstance(constraint, _skl.Interval) and constraint.type is not Integral:
        if constraint.left is None and constraint.right is None:
            return np.nan  # finite reals only
    return _skl.generate_invalid_param_val(constraint)
