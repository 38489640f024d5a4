"""Checking ``run_fral``'s arguments once, at the entry, into one settings object.

Everything here runs before any training: the names of data sets and
strategies, the seeds, the attacks, the run-wide :class:`Settings` and the
configuration that the manifest of an ``out_dir`` records.
"""

import os
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from numbers import Integral, Real

import joblib
import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone

from ..datasets import SmallGroupWarning
from ..nn import PGD, attack_from_net
from ..query import STRATEGIES, get_strategy
from ..utils._validation import check_int, check_sensitive_features
from ._catalog import DATASETS, check_user_data, unknown_name_message

__all__ = [
    "MIN_TEST_ROWS",
    "MIN_VAL_ROWS",
    "Cell",
    "Settings",
    "derive_seed",
    "split_group_counts",
    "small_groups",
    "warn_small_groups",
]

_PURPOSES = {"split": 0, "model": 1, "query": 2, "eval": 3}
_ATTACK_KEYS = (
    "eps",
    "step_size",
    "n_steps",
    "norm",
    "clip_min",
    "clip_max",
    "batch_size",
)
_RESERVED = {"X_val", "y_val", "sensitive_features_val", "random_state"}
MIN_TEST_ROWS = 30
"""A group with fewer test rows than this gets a :class:`SmallGroupWarning`."""
MIN_VAL_ROWS = 20
"""A group with fewer validation rows than this gets a :class:`SmallGroupWarning`."""
_SPLIT_PARTS = (("pool", "pool"), ("initial", "initial"), ("val", "validation"))


# ---------------------------------------------------------------- randomness
def derive_seed(seed, round_, purpose):
    """The integer seed of one use of randomness, from ``(seed, round, purpose)``.

    ``numpy.random.SeedSequence([seed, round, purpose_code])``: independent
    streams for the split (``"split"``), the model (``"model"``), the query
    (``"query"``) and the evaluation attack (``"eval"``). It depends neither on
    the strategy (paired comparisons) nor on what ran before (a resumed run
    draws the same numbers).

    Parameters
    ----------
    seed : int
        The cell's seed.
    round_ : int
        The round (0 for the split and the initial model).
    purpose : {"split", "model", "query", "eval"}
        What the number seeds.

    Returns
    -------
    seed : int
        In ``[0, 2**31)``.

    Examples
    --------
    >>> from skfral.experiment import derive_seed
    >>> derive_seed(0, 1, "model") == derive_seed(0, 1, "model")
    True
    >>> derive_seed(0, 1, "model") != derive_seed(0, 2, "model")
    True
    """
    code = _PURPOSES[purpose]
    state = np.random.SeedSequence([int(seed), int(round_), code]).generate_state(1)
    return int(state[0] & 0x7FFFFFFF)


# ------------------------------------------------------------ configuration
def canon(obj):
    """A JSON-able description of ``obj`` for the config hash (no memory addresses)."""
    if obj is None or isinstance(obj, bool | str):
        return obj
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, Integral):
        return int(obj)
    if isinstance(obj, Real):
        return float(obj) if np.isfinite(obj) else str(obj)
    if isinstance(obj, Mapping):
        return {
            str(k): canon(v) for k, v in sorted(obj.items(), key=lambda kv: str(kv[0]))
        }
    if isinstance(obj, list | tuple):
        return [canon(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return obj.tolist() if obj.size <= 64 else {"array_sha": joblib.hash(obj)}
    if isinstance(obj, BaseEstimator):
        return {
            "class": f"{type(obj).__module__}.{type(obj).__qualname__}",
            "params": canon(obj.get_params(deep=False)),
        }
    if isinstance(obj, type) or callable(obj):
        name = getattr(obj, "__qualname__", type(obj).__qualname__)
        return f"{getattr(obj, '__module__', '?')}.{name}"
    try:
        return {"object_sha": joblib.hash(obj)}
    except Exception:  # pragma: no cover
        return f"{type(obj).__module__}.{type(obj).__qualname__}"


# ----------------------------------------------------------------- the grid
def check_seeds(seeds):
    """``seeds`` as a list of distinct non-negative ints (an int k: 0..k-1)."""
    if isinstance(seeds, Integral) and not isinstance(seeds, bool):
        n = check_int(seeds, "seeds", min_value=1)
        return list(range(n))
    if isinstance(seeds, str) or not hasattr(seeds, "__iter__"):
        raise TypeError(
            f"seeds={seeds!r} has type {type(seeds).__name__}: expected a number of "
            "seeds (int >= 1, meaning 0..seeds-1) or a list of non-negative ints."
        )
    out = [check_int(s, "seeds[...]", min_value=0) for s in seeds]
    if not out:
        raise ValueError("seeds=[] is empty: expected at least one seed.")
    if len(set(out)) != len(out):
        raise ValueError(f"seeds={out} has duplicates: expected distinct seeds.")
    return out


def _split_names(value):
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return list(value)


def check_datasets(datasets):
    """``{label: ("registry", name) | ("data", (X, y, s))}`` in the given order."""
    if isinstance(datasets, Mapping):
        items = list(datasets.items())
    elif isinstance(datasets, str) or hasattr(datasets, "__iter__"):
        items = [(name, name) for name in _split_names(datasets)]
    else:
        raise TypeError(
            f"datasets={datasets!r} has type {type(datasets).__name__}: expected names "
            f"({', '.join(DATASETS)}) or a dict name -> (X, y, s)."
        )
    if not items:
        raise ValueError(f"datasets is empty: expected some of {', '.join(DATASETS)}.")
    out = {}
    for label, value in items:
        if not isinstance(label, str) or not label:
            raise TypeError(f"data set name {label!r}: expected a non-empty string.")
        if label in out:
            raise ValueError(
                f"data set {label!r} is given twice: expected distinct names."
            )
        if isinstance(value, str):
            if value not in DATASETS:
                raise ValueError(unknown_name_message("data set", value, DATASETS))
            out[label] = ("registry", value)
        else:
            out[label] = ("data", check_user_data(label, value))
    return out


def check_strategies(strategies):
    """``{label: (short_name, params)}``; every strategy is built once to check it."""
    if isinstance(strategies, Mapping):
        items = list(strategies.items())
    elif isinstance(strategies, str) or hasattr(strategies, "__iter__"):
        items = [(name, name) for name in _split_names(strategies)]
    else:
        raise TypeError(
            f"strategies={strategies!r} has type {type(strategies).__name__}: expected "
            f"names ({', '.join(STRATEGIES)}) or a dict label -> (name, params)."
        )
    if not items:
        raise ValueError(
            f"strategies is empty: expected some of {', '.join(STRATEGIES)}."
        )
    out = {}
    for label, value in items:
        if not isinstance(label, str) or not label:
            raise TypeError(f"strategy label {label!r}: expected a non-empty string.")
        if label in out:
            raise ValueError(
                f"strategy {label!r} is given twice: expected distinct labels."
            )
        if isinstance(value, str):
            short, params = value, {}
        elif (
            isinstance(value, tuple | list)
            and len(value) == 2
            and isinstance(value[1], Mapping)
        ):
            short, params = value[0], dict(value[1])
        else:
            raise TypeError(
                f"strategies[{label!r}]={value!r}: expected a short name or a pair "
                "(short_name, params), e.g. ('jin', {'disagreement': 'js'})."
            )
        if not isinstance(short, str) or short not in STRATEGIES:
            raise ValueError(unknown_name_message("strategy", short, STRATEGIES))
        reserved = sorted(set(params) & _RESERVED)
        if reserved:
            raise ValueError(
                f"strategies[{label!r}] sets {reserved}: the runner sets these itself "
                "(validation split and per-round seeds); remove them."
            )
        strategy = get_strategy(short, **params)  # unknown parameters -> TypeError
        strategy._validate_params()  # bad settings fail now, not after round 0
        out[label] = (short, params)
    return out


def check_flag(value, name):
    """A bool (``np.bool_`` too); a truthy string such as "false" must never delete."""
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"{name}={value!r}: expected True or False.")
    return bool(value)


def check_out_dir(out_dir):
    if out_dir is not None and not isinstance(out_dir, str | os.PathLike):
        raise TypeError(
            f"out_dir={out_dir!r} has type {type(out_dir).__name__}: expected None "
            "or a folder path (str or os.PathLike)."
        )
    return None if out_dir is None else str(out_dir)


def check_min_group_size(min_group_size):
    """None, or an int >= 1 (groups with fewer rows in all are merged)."""
    if min_group_size is None:
        return None
    return check_int(min_group_size, "min_group_size", min_value=1)


def check_n_jobs(n_jobs):
    if n_jobs is None:
        return None
    n_jobs = check_int(n_jobs, "n_jobs", min_value=-(2**31))
    if n_jobs == 0:
        raise ValueError(
            "n_jobs=0 is invalid: expected None, a positive number of parallel "
            "cells or a negative one (-1: all cores)."
        )
    return n_jobs


# ------------------------------------------------------------------ attacks
def attack_params(attack):
    """Final-net ``attack_*`` parameters from a PGD, a dict or None."""
    if attack is None:
        return {}
    if isinstance(attack, PGD):
        params = {k: getattr(attack, k) for k in _ATTACK_KEYS}
    elif isinstance(attack, Mapping):
        unknown = sorted(set(attack) - set(_ATTACK_KEYS))
        if unknown:
            raise ValueError(
                f"attack has unknown key(s) {unknown}: expected some of "
                f"{list(_ATTACK_KEYS)}."
            )
        params = dict(attack)
    else:
        raise TypeError(
            f"attack={attack!r} has type {type(attack).__name__}: expected None (the "
            "estimator's own training attack), a skfral.nn.PGD or a dict of its "
            "settings."
        )
    return {f"attack_{k}": v for k, v in params.items()}


def _net_attack(net, n_steps):
    """The PGD of a net's ``attack_*`` settings with ``n_steps`` steps.

    The evaluation attack's step is PGD's default for its eps and steps.
    """
    return attack_from_net(net, n_steps=n_steps).set_params(step_size=None)


def eval_attack_for(net, eval_attack):
    """The evaluation attack (unseeded template) for a net, default PGD-20."""
    steps = max(20, int(getattr(net, "attack_n_steps", 10)))
    if eval_attack is None:
        return _net_attack(net, steps)
    if isinstance(eval_attack, Integral) and not isinstance(eval_attack, bool):
        return _net_attack(net, check_int(eval_attack, "eval_attack", min_value=1))
    if isinstance(eval_attack, Mapping):
        unknown = sorted(set(eval_attack) - set(_ATTACK_KEYS))
        if unknown:
            raise ValueError(
                f"eval_attack has unknown key(s) {unknown}: expected some of "
                f"{list(_ATTACK_KEYS)}."
            )
        base = _net_attack(net, steps)
        return clone(base).set_params(**eval_attack)
    if callable(getattr(eval_attack, "perturb", None)) and isinstance(
        eval_attack, BaseEstimator
    ):
        return clone(eval_attack)
    raise TypeError(
        f"eval_attack={eval_attack!r} has type {type(eval_attack).__name__}: "
        "expected None (PGD-20 with the training eps), a number of PGD steps, a "
        "dict of PGD settings or an attack estimator with perturb(net, X, y)."
    )


def seeded(attack, seed):
    """A clone of ``attack`` seeded with ``seed`` when it has a ``random_state``."""
    attack = clone(attack)
    if "random_state" in attack.get_params(deep=False):
        attack.set_params(random_state=seed)
    return attack


def check_eval_strength(label, net, attack):
    """Check the evaluation attack's settings; warn when it is weaker than training."""
    validate = getattr(attack, "_validate_params", None)
    if callable(validate):
        validate()  # e.g. eval_attack={"eps": -1} fails now, not after training
    train_steps = getattr(net, "attack_n_steps", None)
    train_eps = getattr(net, "attack_eps", None)
    steps = getattr(attack, "n_steps", None)
    eps = getattr(attack, "eps", None)
    if train_steps is not None and steps is not None and steps < train_steps:
        warnings.warn(
            f"data set {label!r}: the evaluation attack has n_steps={steps}, fewer "
            f"than the training attack's attack_n_steps={train_steps}; robust "
            f"accuracy will be overestimated. Use eval_attack with at least "
            f"{train_steps} steps (default: max(20, training steps)).",
            UserWarning,
            stacklevel=4,
        )
    if train_eps is not None and eps is not None and eps < train_eps:
        warnings.warn(
            f"data set {label!r}: the evaluation attack has eps={eps}, smaller than "
            f"the training attack_eps={train_eps}; robust accuracy will be "
            "overestimated.",
            UserWarning,
            stacklevel=4,
        )


# ------------------------------------------------------------ small groups
def split_group_counts(split):
    """Rows of every group in every part of a split, as a DataFrame.

    Parameters
    ----------
    split : mapping
        A split with ``s_pool``, ``s_initial``, ``s_val`` and ``s_test``
        (:func:`skfral.datasets.fral_split`, or the runner's split of a cell).

    Returns
    -------
    counts : DataFrame
        One row per group (sorted by name), int columns ``all``, ``pool``,
        ``initial``, ``validation`` and ``test``.
    """
    columns = {}
    for key, name in (*_SPLIT_PARTS, ("test", "test")):
        s = split[f"s_{key}"]
        groups = check_sensitive_features(s, len(s), name=f"s_{key}") if len(s) else []
        columns[name] = pd.Series(np.asarray(groups, dtype=object)).value_counts()
    counts = pd.DataFrame(columns).fillna(0).astype(np.int64)
    counts.insert(0, "all", counts.sum(axis=1))
    counts = counts.loc[sorted(counts.index, key=str)]
    counts.index.name = "group"
    return counts


def small_groups(counts):
    """The rows of :func:`split_group_counts` under the test or validation minimum."""
    return counts[
        (counts["test"] < MIN_TEST_ROWS) | (counts["validation"] < MIN_VAL_ROWS)
    ]


def suggested_min_group_size(counts):
    """A ``min_group_size`` whose groups would get the minimum test and val rows."""
    total = counts["all"].sum()
    needs = [MIN_TEST_ROWS * total / max(counts["test"].sum(), 1)]
    if counts["validation"].sum() > 0:
        needs.append(MIN_VAL_ROWS * total / counts["validation"].sum())
    return int(np.ceil(max(needs)))


def small_group_message(label, counts):
    """The text of the small-group warning of one data set, or None."""
    small = small_groups(counts)
    if small.empty:
        return None
    listed = "; ".join(
        f"group {group!r}: {row.test} test and {row.validation} validation rows "
        f"({row['all']} in all)"
        for group, row in small.iterrows()
    )
    n = suggested_min_group_size(counts)
    merged = int(counts.loc[counts["all"] < n, "all"].sum())
    if merged >= n:
        way_out = (
            "Merge the small groups into one group 'merged_small_groups' with "
            "--min-group-size N (config key min_group_size, "
            "run_fral(min_group_size=N); N counts the rows of the whole data set), "
            f"e.g. --min-group-size {n}, or enlarge test_size and val_size."
        )
    else:
        way_out = (
            f"--min-group-size {n} (config key min_group_size, "
            "run_fral(min_group_size=N): groups with fewer than N rows in the whole "
            "data set become one group 'merged_small_groups') would give them only "
            f"{merged} rows together, still too few: enlarge test_size and val_size, "
            "or add data."
        )
    return (
        f"data set {label!r}: {len(small)} group(s) have fewer than {MIN_TEST_ROWS} "
        f"test or {MIN_VAL_ROWS} validation rows, so their worst-group numbers are "
        f"mostly noise (a small group often becomes the worst group by chance): "
        f"{listed}. {way_out}"
    )


def merged_message(label, merged, min_group_size):
    """What ``min_group_size`` merged in one data set, as one line (or None)."""
    if not merged:
        return None
    listed = ", ".join(f"{k!r} ({v})" for k, v in merged.items())
    return (
        f"data set {label!r}: min_group_size={min_group_size} merged {len(merged)} "
        f"group(s) into 'merged_small_groups' ({sum(merged.values())} rows): {listed}."
    )


def warn_small_groups(label, split, *, stacklevel=4):
    """Warn (:class:`SmallGroupWarning`) about a split's small groups.

    Returns the :func:`split_group_counts` table.
    """
    counts = split_group_counts(split)
    message = small_group_message(label, counts)
    if message is not None:
        warnings.warn(message, SmallGroupWarning, stacklevel=stacklevel)
    return counts


# ---------------------------------------------------------------- settings
@dataclass
class Settings:
    """What every cell of one ``run_fral`` call shares (checked at the entry)."""

    n_rounds: int
    budget: int
    initial_size: object
    val_size: object
    test_size: object
    pool_size: object
    estimator: object
    estimator_params: dict
    eval_attack: object
    warm_start: bool
    out_dir: object
    n_workers: int
    torch_threads: object
    progress: bool = False
    default_threads: int = 1
    min_group_size: object = None
    merged_groups: dict = field(default_factory=dict)


@dataclass
class Cell:
    """One (data set, strategy, seed) of the grid."""

    dataset: str
    source: tuple
    strategy: str
    short: str
    params: dict
    seed: int
    order: tuple = field(default=(0, 0, 0))


def dataset_description(source):
    """What the manifest records of a data set: its name, or a hash of the data."""
    kind, value = source
    return value if kind == "registry" else {"data_sha": joblib.hash(value)}


def estimator_description(estimator):
    return "default" if estimator is None else canon(estimator)
