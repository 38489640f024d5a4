"""``run_fral``: data sets x strategies x seeds, round by round, parallel, resumable."""

import os
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from numbers import Integral, Real

import joblib
import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.pipeline import Pipeline

from .. import __version__
from .._modal_compat import require_modal
from ..nn import PGD, final_net
from ..query import STRATEGIES, get_strategy
from ..utils._validation import check_int
from ._registry import (
    DATASETS,
    build_estimator,
    check_user_data,
    load_dataset,
    unknown_name_message,
)
from ._store import CellStore, RunStore, jsonable, row_from_record

__all__ = [
    "run_fral",
    "derive_seed",
    "TIMING_COLUMNS",
    "RESULT_COLUMNS",
    "VALIDATION_COLUMNS",
]

ID_COLUMNS = (
    "dataset",
    "strategy",
    "base_strategy",
    "seed",
    "round",
    "n_labels",
    "n_queried",
    "n_pool",
)
METRIC_COLUMNS = (
    "worst_group_standard_accuracy",
    "worst_group_robust_accuracy",
    "worst_group_standard_balanced_accuracy",
    "worst_group_robust_balanced_accuracy",
    "standard_accuracy_gap",
    "robust_accuracy_gap",
    "standard_accuracy",
    "robust_accuracy",
    "standard_balanced_accuracy",
    "robust_balanced_accuracy",
    "worst_group_class_standard_recall",
    "worst_group_class_robust_recall",
    "majority_class_level",
    "worst_group_standard",
    "worst_group_robust",
    "n_test",
    "n_groups",
)
VALIDATION_COLUMNS = (
    "val_worst_group_standard_accuracy",
    "val_worst_group_robust_accuracy",
    "val_worst_group_standard_balanced_accuracy",
    "val_worst_group_robust_balanced_accuracy",
)
"""The same worst-group metrics on the validation set: what defaults and
variants are chosen from (never the test set)."""
TIMING_COLUMNS = ("query_seconds", "train_seconds", "eval_seconds")
"""Wall-clock columns: the only ones that differ between identical runs."""
RESULT_COLUMNS = ID_COLUMNS + METRIC_COLUMNS + VALIDATION_COLUMNS + TIMING_COLUMNS
"""Columns of the table returned by :func:`run_fral`, in order."""

_PURPOSES = {"split": 0, "model": 1, "query": 2, "eval": 3}
_ATTACK_KEYS = ("eps", "step_size", "n_steps", "norm", "clip_min", "clip_max")
# Dispatch expensive cells first so that the last ones to finish are short.
_COST = {"fal": 10.0, "badge": 2.0, "coreset": 2.0, "jin": 1.5}
_KNOWN_STATE = {"standard_estimator_", "n_standard_fits_"}
_LOCAL_BACKENDS = (
    "LokyBackend",
    "MultiprocessingBackend",
    "ThreadingBackend",
    "SequentialBackend",
)


# ---------------------------------------------------------------- randomness
def derive_seed(seed, round_, purpose):
    """The integer seed of one use of randomness, from ``(seed, round, purpose)``.

    ``numpy.random.SeedSequence([seed, round, purpose_code])``: independent
    streams for the split (``"split"``), the model (``"model"``), the query
    (``"query"``) and the evaluation attack (``"eval"``). It depends neither on
    the strategy (paired comparisons) nor on what ran before (a resumed run
    draws the same numbers).

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


# ----------------------------------------------------------------- arguments
def _canon(obj):
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
            str(k): _canon(v) for k, v in sorted(obj.items(), key=lambda kv: str(kv[0]))
        }
    if isinstance(obj, list | tuple):
        return [_canon(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return obj.tolist() if obj.size <= 64 else {"array_sha": joblib.hash(obj)}
    if isinstance(obj, BaseEstimator):
        return {
            "class": f"{type(obj).__module__}.{type(obj).__qualname__}",
            "params": _canon(obj.get_params(deep=False)),
        }
    if isinstance(obj, type) or callable(obj):
        name = getattr(obj, "__qualname__", type(obj).__qualname__)
        return f"{getattr(obj, '__module__', '?')}.{name}"
    try:
        return {"object_sha": joblib.hash(obj)}
    except Exception:  # pragma: no cover
        return f"{type(obj).__module__}.{type(obj).__qualname__}"


def _check_seeds(seeds):
    if isinstance(seeds, Integral) and not isinstance(seeds, bool):
        n = check_int(seeds, "seeds", min_value=1)
        return list(range(n))
    if isinstance(seeds, str) or not hasattr(seeds, "__iter__"):
        raise TypeError(
            f"seeds={seeds!r} has type {type(seeds).__name__}: expected a number of "
            "seeds "
            "(int >= 1, meaning 0..seeds-1) or a list of non-negative ints."
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


def _check_datasets(datasets):
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


def _check_strategies(strategies):
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
        reserved = sorted(
            set(params) & {"X_val", "y_val", "sensitive_features_val", "random_state"}
        )
        if reserved:
            raise ValueError(
                f"strategies[{label!r}] sets {reserved}: the runner sets these itself "
                "(validation split and per-round seeds); remove them."
            )
        strategy = get_strategy(short, **params)  # unknown parameters -> TypeError
        check_settings = getattr(strategy, "_check_settings", None)
        if callable(check_settings):
            check_settings()  # bad settings fail now, not after round 0 of every cell
        out[label] = (short, params)
    return out


def _attack_params(attack):
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


def _eval_attack_for(net, eval_attack):
    """The evaluation attack (unseeded template) for a net, default PGD-20."""
    base = {
        "eps": getattr(net, "attack_eps", 0.1),
        "step_size": None,
        "n_steps": max(20, int(getattr(net, "attack_n_steps", 10))),
        "norm": getattr(net, "attack_norm", "linf"),
        "clip_min": getattr(net, "attack_clip_min", None),
        "clip_max": getattr(net, "attack_clip_max", None),
    }
    if eval_attack is None:
        return PGD(**base)
    if isinstance(eval_attack, Integral) and not isinstance(eval_attack, bool):
        base["n_steps"] = check_int(eval_attack, "eval_attack", min_value=1)
        return PGD(**base)
    if isinstance(eval_attack, Mapping):
        unknown = sorted(set(eval_attack) - set(_ATTACK_KEYS))
        if unknown:
            raise ValueError(
                f"eval_attack has unknown key(s) {unknown}: expected some of "
                f"{list(_ATTACK_KEYS)}."
            )
        return PGD(**{**base, **eval_attack})
    if callable(getattr(eval_attack, "perturb", None)) and isinstance(
        eval_attack, BaseEstimator
    ):
        return clone(eval_attack)
    raise TypeError(
        f"eval_attack={eval_attack!r} has type {type(eval_attack).__name__}: "
        "expected None "
        "(PGD-20 with the training eps), a number of PGD steps, a dict of PGD "
        "settings or "
        "an attack estimator with perturb(net, X, y)."
    )


def _check_eval_strength(label, net, attack):
    """Warn when the evaluation attack is weaker than the training attack."""
    train_steps = getattr(net, "attack_n_steps", None)
    train_eps = getattr(net, "attack_eps", None)
    steps = getattr(attack, "n_steps", None)
    eps = getattr(attack, "eps", None)
    if train_steps is not None and steps is not None and steps < train_steps:
        warnings.warn(
            f"data set {label!r}: the evaluation attack has n_steps={steps}, fewer "
            "than the "
            f"training attack's attack_n_steps={train_steps}; robust accuracy will be "
            f"overestimated. Use eval_attack with at least {train_steps} steps "
            "(default: "
            "max(20, training steps)).",
            UserWarning,
            stacklevel=4,
        )
    if train_eps is not None and eps is not None and eps < train_eps:
        warnings.warn(
            f"data set {label!r}: the evaluation attack has eps={eps}, smaller than "
            "the "
            f"training attack_eps={train_eps}; robust accuracy will be overestimated.",
            UserWarning,
            stacklevel=4,
        )


# --------------------------------------------------------------------- cells
@dataclass
class _Settings:
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


@dataclass
class _Cell:
    dataset: str
    source: tuple
    strategy: str
    short: str
    params: dict
    seed: int
    order: tuple = field(default=(0, 0, 0))


def _load(source):
    kind, value = source
    return load_dataset(value) if kind == "registry" else value


def _split(X, y, s, seed, settings):
    """The paired split of one (data set, seed): same for every strategy."""
    from ..datasets import fral_split

    parts = fral_split(
        X,
        y,
        s,
        initial_size=settings.initial_size,
        val_size=settings.val_size,
        test_size=settings.test_size,
        random_state=derive_seed(seed, 0, "split"),
    )
    n_pool = len(parts.pool_idx)
    if settings.pool_size is not None and settings.pool_size < n_pool:
        rng = np.random.RandomState(derive_seed(seed, 1, "split"))
        keep = np.sort(rng.choice(n_pool, settings.pool_size, replace=False))
        for key in ("X_pool", "y_pool", "s_pool", "pool_idx"):
            parts[key] = parts[key][keep]
    for key in list(parts):
        parts[key] = np.asarray(parts[key])
    return parts


def _strategy_state(strategy):
    """JIN's warm-started standard model (state dicts) and its memo."""
    from ..nn._checkpoint import get_net_state

    model = getattr(strategy, "standard_estimator_", None)
    if model is None:
        return {}
    memo = getattr(strategy, "_standard_memo", None) or {}
    return {
        "standard": get_net_state(model),
        "n_fits": int(getattr(strategy, "n_standard_fits_", 0)),
        "memo_n": int(memo.get("n", -1)),
        "memo_hash": str(memo.get("hash", "")),
    }


def _restore_strategy(strategy, state, learner):
    from ..nn._checkpoint import set_net_state

    if not state:
        return
    template = getattr(strategy, "standard_estimator", None)
    model = clone(template if template is not None else learner.estimator)
    if template is None:
        final_net(model).set_params(adversarial=None)
    set_net_state(model, state["standard"])
    strategy.standard_estimator_ = model
    strategy.n_standard_fits_ = state["n_fits"]
    if state["memo_n"] >= 0:
        strategy._standard_memo = {
            "n": state["memo_n"],
            "hash": state["memo_hash"],
            "source": id(learner.estimator),
        }


def _unknown_state(strategy):
    return sorted(
        a
        for a in vars(strategy)
        if a.endswith("_") and not a.startswith("_") and a not in _KNOWN_STATE
    )


def _set_model_seed(estimator, seed):
    net = final_net(estimator)
    if "random_state" in net.get_params(deep=False):
        net.set_params(random_state=seed)


def _report_row(report):
    names = ("worst_group_standard", "worst_group_robust")
    row = {}
    for key in METRIC_COLUMNS:
        src = "n_samples" if key == "n_test" else key
        value = report.get(src, np.nan)
        row[key] = str(value) if key in names else value
    return row


def _run_cell(cell, settings):
    """Every round of one (data set, strategy, seed); returns its table rows."""
    from ..metrics import fairness_report
    from ..nn._checkpoint import get_net_state, set_net_state, set_torch_threads

    models = require_modal()
    threads = settings.torch_threads
    if threads is None:
        threads = max(1, joblib.cpu_count() // max(1, settings.n_workers))
    previous_threads = set_torch_threads(threads)
    try:
        X, y, s = _load(cell.source)
        classes = np.unique(y)
        sp = _split(X, y, s, cell.seed, settings)
        X_pool, y_pool, s_pool = sp.X_pool, sp.y_pool, sp.s_pool
        store = None
        records = []
        if settings.out_dir is not None:
            store = CellStore(settings.out_dir, cell.dataset, cell.strategy, cell.seed)
            store.cleanup()
            records = store.finished_rounds()[: settings.n_rounds + 1]
            if records and not store.has_state(len(records) - 1):
                records = []  # state lost: recompute the cell from round 0
        rows = [row_from_record(rec["row"]) for rec in records]
        if len(records) == settings.n_rounds + 1:
            return rows

        est = build_estimator(
            settings.estimator,
            X,
            classes,
            derive_seed(cell.seed, 0, "model"),
            settings.estimator_params,
        )
        if settings.warm_start:
            final_net(est).set_params(warm_start=True)
        params = dict(cell.params)
        if STRATEGIES[cell.short].requires_validation:
            params.update(
                X_val=sp.X_val, y_val=sp.y_val, sensitive_features_val=sp.s_val
            )
        strategy = get_strategy(cell.short, **params)
        eval_template = _eval_attack_for(final_net(est), settings.eval_attack)
        remaining = np.arange(len(y_pool))
        base = {
            "dataset": cell.dataset,
            "strategy": cell.strategy,
            "base_strategy": cell.short,
            "seed": cell.seed,
        }

        def evaluate(learner, r, query_s, train_s):
            attack = clone(eval_template).set_params(
                random_state=derive_seed(cell.seed, r, "eval")
            )
            t0 = time.perf_counter()
            report = fairness_report(
                learner.estimator,
                sp.X_test,
                sp.y_test,
                sensitive_features=sp.s_test,
                attack=attack,
            )
            val_report = fairness_report(
                learner.estimator,
                sp.X_val,
                sp.y_val,
                sensitive_features=sp.s_val,
                attack=attack,
            )
            eval_s = time.perf_counter() - t0
            val_row = {c: val_report[c[len("val_") :]] for c in VALIDATION_COLUMNS}
            row = {
                **base,
                "round": r,
                "n_labels": int(len(learner.y_training)),
                "n_queried": int(r * settings.budget),
                "n_pool": int(len(remaining)),
                **_report_row(report),
                **val_row,
                "query_seconds": query_s,
                "train_seconds": train_s,
                "eval_seconds": eval_s,
            }
            return row_from_record(jsonable(row))

        def save(learner, r, row, queried):
            if store is None:
                return
            state = {
                "robust": get_net_state(learner.estimator),
                "strategy": _strategy_state(strategy),
            }
            unknown = _unknown_state(strategy)
            if r == 1 and unknown:
                warnings.warn(
                    f"strategy {cell.strategy!r} keeps fitted state {unknown} between "
                    "queries that the runner cannot checkpoint: a resumed run may "
                    "differ from an uninterrupted one.",
                    UserWarning,
                    stacklevel=2,
                )
            store.write_round(r, jsonable(row), queried, state)

        if not records:
            t0 = time.perf_counter()
            learner = models.ActiveLearner(
                estimator=est,
                query_strategy=strategy,
                X_training=sp.X_initial,
                y_training=sp.y_initial,
            )
            row = evaluate(learner, 0, np.nan, time.perf_counter() - t0)
            rows.append(row)
            save(learner, 0, row, [])
            start = 1
        else:
            k = len(records) - 1
            queried = [
                np.asarray(rec["queried"], dtype=np.int64) for rec in records[1:]
            ]
            X_lab, y_lab = sp.X_initial, sp.y_initial
            for q in queried:
                X_lab = np.concatenate([X_lab, X_pool[q]])
                y_lab = np.concatenate([y_lab, y_pool[q]])
            if queried:
                remaining = np.setdiff1d(remaining, np.concatenate(queried))
            learner = models.ActiveLearner(estimator=est, query_strategy=strategy)
            learner.X_training, learner.y_training = X_lab, y_lab
            _set_model_seed(est, derive_seed(cell.seed, k, "model"))
            state = store.read_state(k)
            if isinstance(est, Pipeline) and len(est.steps) > 1:
                est[:-1].fit(X_lab, y_lab)
            set_net_state(est, state["robust"])
            _restore_strategy(strategy, state.get("strategy"), learner)
            start = k + 1

        for r in range(start, settings.n_rounds + 1):
            strategy.set_params(random_state=derive_seed(cell.seed, r, "query"))
            t0 = time.perf_counter()
            idx, _ = learner.query(
                X_pool[remaining],
                n_instances=settings.budget,
                sensitive_features=s_pool[remaining],
            )
            query_s = time.perf_counter() - t0
            picked = remaining[np.asarray(idx, dtype=np.int64)]
            remaining = np.delete(remaining, np.asarray(idx, dtype=np.int64))
            _set_model_seed(learner.estimator, derive_seed(cell.seed, r, "model"))
            t0 = time.perf_counter()
            learner.teach(X_pool[picked], y_pool[picked])
            train_s = time.perf_counter() - t0
            row = evaluate(learner, r, query_s, train_s)
            rows.append(row)
            save(learner, r, row, picked)
        return rows
    finally:
        set_torch_threads(previous_threads)


def _n_workers(n_jobs):
    """Parallel workers under the active joblib backend (for torch threads)."""
    from joblib.parallel import get_active_backend

    backend, _ = get_active_backend()
    n = joblib.effective_n_jobs(n_jobs)
    if type(backend).__name__ not in _LOCAL_BACKENDS:  # dask, ray: the cluster's slots
        n = max(n, joblib.effective_n_jobs(-1))
    return max(1, int(n))


def _estimator_description(estimator):
    if estimator is None:
        return "default"
    return _canon(estimator)


# ----------------------------------------------------------------------- API
def run_fral(
    datasets,
    strategies,
    *,
    seeds,
    n_rounds,
    budget,
    initial_size,
    val_size=0.15,
    test_size=0.2,
    pool_size=None,
    estimator=None,
    estimator_params=None,
    attack=None,
    eval_attack=None,
    warm_start=False,
    out_dir=None,
    overwrite=False,
    n_jobs=1,
    torch_threads=None,
    progress=True,
):
    """Run Fair Robust Active Learning for data sets x strategies x seeds.

    Each *cell* (data set, strategy, seed) splits the data with
    :func:`skfral.datasets.fral_split` (initial labelled set, pool,
    validation, test), then runs ``n_rounds`` active-learning rounds through a
    real ``modAL.models.ActiveLearner``. **Round 0** is the model trained on
    the initial labelled set. Each later round queries ``budget`` pool samples
    with the strategy (from the previous round's model), reveals their labels,
    retrains the robust net on the whole labelled set and evaluates it on the
    test set with :func:`skfral.metrics.fairness_report` under the evaluation
    attack. So round ``r`` has ``initial + r * budget`` labels and the run
    spends ``n_rounds * budget`` labels per cell.

    Parameters
    ----------
    datasets : str, list of str or dict
        Names of :data:`~skfral.experiment.DATASETS` (``synthetic``,
        ``adult``, ``adult_race``, ``german``, ``german_age``, ``digits``; a
        comma-separated string works too), or a dict ``name -> (X, y, s)``
        (or a Bunch with ``data``, ``target``, ``sensitive``) for your data.
    strategies : str, list of str or dict
        Short names of :data:`skfral.query.STRATEGIES`, or a dict ``label ->
        short_name`` or ``label -> (short_name, params)`` for variants, e.g.
        ``{"jin": "jin", "jin_js": ("jin", {"disagreement": "js"})}``. The
        runner passes the validation split and per-round seeds itself.
    seeds : int or list of int
        An int ``k`` means seeds ``0..k-1``. Every strategy sees the same
        split and the same model seeds for a given (data set, seed): the
        comparisons are paired.
    n_rounds : int
        Query rounds after round 0 (>= 1).
    budget : int
        Labels queried per round. ``n_rounds * budget`` must not exceed the
        pool.
    initial_size : int or float
        Size of the initial labelled set (count, or fraction of the data).
    val_size, test_size : int or float, default=0.15, 0.2
        Validation (used by the fair strategies) and test sets, as in
        :func:`~skfral.datasets.fral_split`.
    pool_size : int or None, default=None
        Keep a random subset of this many pool samples (the same for every
        strategy); ``None`` keeps the whole rest of the data.
    estimator : None, callable or estimator, default=None
        ``None`` builds :func:`~skfral.experiment.default_estimator` per data
        set (MLP with PGD-AT at eps 0.1 for tabular data, SmallCNN at eps
        8/255 clipped to [0, 1] for images); a callable
        ``(n_features_or_shape, n_classes, random_state) -> estimator``; or an
        estimator template (a skfral net or a Pipeline ending in one) that is
        cloned. The final net's ``classes`` is set to every label of the data
        when it is ``None``.
    estimator_params : dict or None, default=None
        ``set_params`` of the final net, e.g. ``{"max_epochs": 10}``.
    attack : None, skfral.nn.PGD or dict, default=None
        The *training* attack: ``None`` keeps the estimator's own (PGD-10 for
        the defaults); a PGD or a dict with keys among ``eps, step_size,
        n_steps, norm, clip_min, clip_max`` sets the net's ``attack_*``
        parameters. Query strategies use the same attack.
    eval_attack : None, int, dict or attack, default=None
        The evaluation attack. ``None``: PGD with the training eps, norm and
        clipping and ``max(20, training steps)`` steps (PGD-20 against PGD-10
        training); an int: that many PGD steps; a dict: PGD settings over
        those defaults; or an attack estimator. A UserWarning is issued when
        it has fewer steps or a smaller eps than the training attack. It is
        seeded per round.
    warm_start : bool, default=False
        Continue training the previous round's robust net instead of
        training from scratch each round.
    out_dir : str, path or None, default=None
        Write every finished round here (atomically) and resume from it: a
        rerun of the same call skips finished rounds and continues unfinished
        cells, giving the same table as an uninterrupted run. Also writes
        ``results.csv`` at the end. See :mod:`skfral.experiment._store`.
    overwrite : bool, default=False
        When ``out_dir`` holds results of a different configuration, delete
        them (otherwise a ValueError is raised).
    n_jobs : int or None, default=1
        Cells run in parallel through joblib: local processes (loky) by
        default; inside ``with joblib.parallel_config("dask"):`` (with a
        ``distributed.Client``) or ``parallel_config("ray")`` (after
        ``ray.util.joblib.register_ray()``) the cells go to the cluster
        unchanged. With ``out_dir``, the workers must see the same file
        system.
    torch_threads : int or None, default=None
        Torch threads inside each cell; ``None`` means
        ``max(1, cpu_count // n_workers)`` so parallel cells do not
        oversubscribe the cores.
    progress : bool, default=True
        Show a tqdm progress bar over cells (on stderr).

    Returns
    -------
    results : pandas.DataFrame
        One row per (dataset, strategy, seed, round), columns
        :data:`RESULT_COLUMNS`: ``dataset, strategy`` (label),
        ``base_strategy`` (short name), ``seed, round, n_labels, n_queried,
        n_pool`` (pool left), the worst-group standard and robust accuracy and
        their balanced versions, gaps, overall accuracies, worst (group,
        class) recalls, ``majority_class_level`` (the trivial rule's
        worst-group accuracy), the worst groups' names, ``n_test``,
        ``n_groups``, the four worst-group metrics on the validation set
        (:data:`VALIDATION_COLUMNS`, ``val_*``: choose variants and defaults
        from these, never from the test columns), and the wall-clock seconds
        of the query, the training and the evaluation (:data:`TIMING_COLUMNS`;
        the query time of round 0 is NaN).

    Notes
    -----
    **Randomness.** The split uses :func:`derive_seed` ``(seed, 0,
    "split")``; round ``r`` uses ``(seed, r, "model")`` for the net,
    ``(seed, r, "query")`` for the strategy and ``(seed, r, "eval")`` for the
    evaluation attack. Nothing depends on the strategy or on the order in
    which cells run, so the table is the same for any ``n_jobs`` and backend
    (on CPU, with the same torch thread count).

    **Resume.** A round's record holds its table row and the pool positions
    it queried; a checkpoint after each round holds the robust net's
    training state (module, optimizer, random stream) and, for JIN, its
    warm-started standard model (``torch.save`` of state dicts, read with
    ``weights_only=True``). A resumed cell rebuilds the labelled set from the
    recorded positions and loads the checkpoint, so it continues exactly.

    Examples
    --------
    >>> from skfral.datasets import make_fral_classification
    >>> from skfral.experiment import run_fral
    >>> X, y, s = make_fral_classification(n_samples=300, random_state=0)
    >>> df = run_fral({"toy": (X, y, s)}, ["random", "entropy"], seeds=1, n_rounds=1,
    ...               budget=10, initial_size=20, estimator_params={"max_epochs": 2,
    ...               "attack_n_steps": 2}, eval_attack=2, progress=False)
    >>> df[["strategy", "round", "n_labels"]].values.tolist()
    [['random', 0, 20], ['random', 1, 30], ['entropy', 0, 20], ['entropy', 1, 30]]
    """
    require_modal()
    data = _check_datasets(datasets)
    strats = _check_strategies(strategies)
    seed_list = _check_seeds(seeds)
    n_rounds = check_int(n_rounds, "n_rounds", min_value=1)
    budget = check_int(budget, "budget", min_value=1)
    if pool_size is not None:
        pool_size = check_int(pool_size, "pool_size", min_value=1)
    if estimator_params is not None and not isinstance(estimator_params, Mapping):
        raise TypeError(
            f"estimator_params={estimator_params!r}: expected a dict of the final "
            "net's "
            "parameters, e.g. {'max_epochs': 10}."
        )
    for name, flag in (
        ("warm_start", warm_start),
        ("overwrite", overwrite),
        ("progress", progress),
    ):
        if not isinstance(flag, bool | np.bool_):
            # a truthy string such as "false" must never delete results (overwrite)
            raise TypeError(f"{name}={flag!r}: expected True or False.")
    if out_dir is not None and not isinstance(out_dir, str | os.PathLike):
        raise TypeError(
            f"out_dir={out_dir!r} has type {type(out_dir).__name__}: expected None "
            "or a folder path (str or os.PathLike)."
        )
    if n_jobs is not None:
        n_jobs = check_int(n_jobs, "n_jobs", min_value=-(2**31))
        if n_jobs == 0:
            raise ValueError(
                "n_jobs=0 is invalid: expected None, a positive number of parallel "
                "cells or a negative one (-1: all cores)."
            )
    net_params = {**dict(estimator_params or {}), **_attack_params(attack)}
    settings = _Settings(
        n_rounds=n_rounds,
        budget=budget,
        initial_size=initial_size,
        val_size=val_size,
        test_size=test_size,
        pool_size=pool_size,
        estimator=estimator,
        estimator_params=net_params,
        eval_attack=eval_attack,
        warm_start=bool(warm_start),
        out_dir=None if out_dir is None else str(out_dir),
        n_workers=_n_workers(n_jobs),
        torch_threads=torch_threads,
    )
    if torch_threads is not None:
        check_int(torch_threads, "torch_threads", min_value=1)

    # Validate everything against the data before any training starts.
    for label, source in data.items():
        X, y, s = _load(source)
        sp = _split(X, y, s, seed_list[0], settings)
        n_pool = len(sp.y_pool)
        if n_rounds * budget > n_pool:
            raise ValueError(
                f"n_rounds * budget = {n_rounds} * {budget} = {n_rounds * budget} "
                f"labels exceed the pool of data set {label!r} ({n_pool} samples): "
                "lower budget or n_rounds, or enlarge the pool (raise pool_size, or "
                "lower initial_size, val_size or test_size)."
            )
        for part, arg, size in (
            ("val", "val_size", val_size),
            ("test", "test_size", test_size),
        ):
            if len(sp[f"y_{part}"]) == 0:
                raise ValueError(
                    f"{arg}={size!r} leaves data set {label!r} "
                    f"without a {'validation' if part == 'val' else 'test'} set: "
                    f"every round is evaluated on it; expected {arg} >= 1."
                )
        needs_val = [
            lab
            for lab, (short, _) in strats.items()
            if STRATEGIES[short].requires_validation
        ]
        missing = set(pd.unique(np.asarray(sp.s_pool, dtype=object).ravel()))
        missing -= set(pd.unique(np.asarray(sp.s_val, dtype=object).ravel()))
        if needs_val and sp.s_pool.ndim == 1 and missing:
            raise ValueError(
                f"val_size={val_size!r} gives data set {label!r} a validation set "
                f"without group(s) {sorted(missing, key=str)[:5]} of the pool: "
                f"strategies {needs_val} rank groups on it; raise val_size."
            )
        est = build_estimator(estimator, X, np.unique(y), 0, net_params)
        check_net = getattr(final_net(est), "_check_hyperparameters", None)
        if callable(check_net):
            check_net()  # e.g. lr=nan fails now, not when the first cell starts
        _check_eval_strength(
            label, final_net(est), _eval_attack_for(final_net(est), eval_attack)
        )

    config = {
        "datasets": {
            k: (v[1] if v[0] == "registry" else {"data_sha": joblib.hash(v[1])})
            for k, v in data.items()
        },
        "strategies": {k: [short, _canon(p)] for k, (short, p) in strats.items()},
        "seeds": seed_list,
        "n_rounds": n_rounds,
        "budget": budget,
        "initial_size": _canon(initial_size),
        "val_size": _canon(val_size),
        "test_size": _canon(test_size),
        "pool_size": pool_size,
        "estimator": _estimator_description(estimator),
        "estimator_params": _canon(net_params),
        "eval_attack": _canon(eval_attack),
        "warm_start": bool(warm_start),
    }
    if out_dir is not None:
        RunStore(out_dir).open(config, overwrite=overwrite, version=__version__)

    cells = []
    for i, (dlabel, source) in enumerate(data.items()):
        for j, (slabel, (short, params)) in enumerate(strats.items()):
            for seed in seed_list:
                cells.append(
                    _Cell(
                        dlabel, source, slabel, short, params, seed, order=(i, j, seed)
                    )
                )

    results = {}
    todo = []
    for cell in cells:
        if out_dir is not None:
            recs = CellStore(
                out_dir, cell.dataset, cell.strategy, cell.seed
            ).finished_rounds()
            if len(recs) >= n_rounds + 1:
                results[cell.order] = [
                    row_from_record(r["row"]) for r in recs[: n_rounds + 1]
                ]
                continue
        todo.append(cell)
    todo.sort(key=lambda c: -_COST.get(c.short, 1.0))

    from tqdm.auto import tqdm

    bar = tqdm(
        total=len(cells),
        initial=len(results),
        desc="FRAL cells",
        unit="cell",
        disable=not progress,
        leave=True,
    )
    try:
        if todo:
            parallel = joblib.Parallel(n_jobs=n_jobs, return_as="generator_unordered")
            outputs = parallel(
                joblib.delayed(_run_cell_keyed)(c, settings) for c in todo
            )
            for order, rows in outputs:
                results[order] = rows
                bar.update(1)
    finally:
        bar.close()

    rows = [row for cell in cells for row in results[cell.order]]
    df = pd.DataFrame(rows, columns=list(RESULT_COLUMNS))
    if out_dir is not None:
        RunStore(out_dir).write_results(df)
    return df


def _run_cell_keyed(cell, settings):
    return cell.order, _run_cell(cell, settings)
