"""``run_fral``: data sets x strategies x seeds, round by round, parallel, resumable.

The pieces live in their own modules: the table's columns (``_columns``),
the argument checks and settings (``_settings``), one cell (``_cell``:
split, start, resume, rounds) and the scheduling over workers
(``_schedule``); this module puts them together.
"""

from collections.abc import Mapping

import numpy as np
import pandas as pd

from .. import __version__
from .._modal_compat import require_modal
from ..nn import final_net
from ..query import STRATEGIES
from ..utils._validation import check_int
from . import _cell, _schedule
from ._catalog import build_estimator
from ._cell import load_source, split_cell
from ._columns import RESULT_COLUMNS, TIMING_COLUMNS, VALIDATION_COLUMNS
from ._interrupt import interrupt_guard, raise_if_interrupted
from ._settings import (
    Cell,
    Settings,
    attack_params,
    canon,
    check_datasets,
    check_eval_strength,
    check_flag,
    check_min_group_size,
    check_n_jobs,
    check_out_dir,
    check_seeds,
    check_strategies,
    dataset_description,
    derive_seed,
    estimator_description,
    eval_attack_for,
    warn_small_groups,
)
from ._stats import warn_if_trivial
from ._store import CellStore, RunStore, row_from_record

__all__ = [
    "run_fral",
    "derive_seed",
    "TIMING_COLUMNS",
    "RESULT_COLUMNS",
    "VALIDATION_COLUMNS",
]


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
    min_group_size=None,
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
        ``X`` may be a numeric array, NCHW images (also a lazily loaded
        :class:`~skfral.datasets.LazyImageArray`) or a **raw pandas
        DataFrame** with categorical columns and missing values: then the
        default estimator (and any estimator that is not a Pipeline) is
        preceded by :func:`skfral.datasets.make_tabular_preprocessor`, fitted
        on the labelled set at every round; a Pipeline is used as given.
        ``s`` may hold several columns (intersectional groups). Rows are
        taken by position; nothing given is modified.
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
        cells, giving the same table as an uninterrupted run. The folder
        grows: a call that adds data sets, strategies or seeds reuses the
        finished cells. Also writes ``results.csv`` (this call's table) at
        the end. See :mod:`skfral.experiment._store`.
    overwrite : bool, default=False
        When ``out_dir`` holds results of a different configuration (any
        setting but the grid of data sets, strategies and seeds, or a label
        given other settings), delete them (otherwise a ValueError is
        raised).
    n_jobs : int or None, default=1
        Cells run in parallel through joblib: local processes (loky) by
        default; inside ``with joblib.parallel_config("dask"):`` (with a
        ``distributed.Client``) or ``parallel_config("ray")`` (after
        ``ray.util.joblib.register_ray()``) the cells go to the cluster
        unchanged. With ``out_dir``, the workers must see the same file
        system.
    torch_threads : int or None, default=None
        Torch threads inside each cell; ``None`` means ``max(1, cores //
        parallel cells)`` on a local backend and 1 on dask or ray, so that
        parallel cells never oversubscribe the cores. A UserWarning is issued
        when ``torch_threads`` x parallel cells exceeds the cores.
    progress : bool, default=True
        Show tqdm progress bars on stderr: one over cells, and one over the
        rounds of each running cell.
    min_group_size : int or None, default=None
        Merge the groups with fewer rows than this in the whole data set into
        one group named ``"merged_small_groups"`` (every data set, before
        splitting; see :func:`skfral.datasets.merge_small_groups`); the
        table's ``df.attrs["merged_groups"]`` says which groups were merged
        (``{data set: {group: rows}}``). Without it, a
        :class:`~skfral.datasets.SmallGroupWarning` names every group with
        fewer than 30 test or 20 validation rows.

    Returns
    -------
    results : pandas.DataFrame
        One row per (dataset, strategy, seed, round), columns
        :data:`RESULT_COLUMNS`: ``dataset, strategy`` (label),
        ``base_strategy`` (short name), ``seed, round, n_labels, n_queried,
        n_pool`` (pool left), the worst-group standard and robust accuracy and
        their balanced versions, gaps, overall accuracies, worst (group,
        class) recalls, ``majority_class_level`` (the trivial rule's
        worst-group accuracy), the worst groups' names and their test rows
        (``worst_group_standard_n_test``, ``worst_group_robust_n_test``), ``n_test``,
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
    data = check_datasets(datasets)
    strats = check_strategies(strategies)
    seed_list = check_seeds(seeds)
    n_rounds = check_int(n_rounds, "n_rounds", min_value=1)
    budget = check_int(budget, "budget", min_value=1)
    if pool_size is not None:
        pool_size = check_int(pool_size, "pool_size", min_value=1)
    if estimator_params is not None and not isinstance(estimator_params, Mapping):
        raise TypeError(
            f"estimator_params={estimator_params!r}: expected a dict of the final "
            "net's parameters, e.g. {'max_epochs': 10}."
        )
    warm_start = check_flag(warm_start, "warm_start")
    overwrite = check_flag(overwrite, "overwrite")
    progress = check_flag(progress, "progress")
    out_dir = check_out_dir(out_dir)
    n_jobs = check_n_jobs(n_jobs)
    if torch_threads is not None:
        torch_threads = check_int(torch_threads, "torch_threads", min_value=1)
    net_params = {**dict(estimator_params or {}), **attack_params(attack)}
    settings = Settings(
        n_rounds=n_rounds,
        budget=budget,
        initial_size=initial_size,
        val_size=val_size,
        test_size=test_size,
        pool_size=pool_size,
        estimator=estimator,
        estimator_params=net_params,
        eval_attack=eval_attack,
        warm_start=warm_start,
        out_dir=out_dir,
        n_workers=1,
        torch_threads=torch_threads,
        progress=progress,
        min_group_size=check_min_group_size(min_group_size),
    )
    for label, source in data.items():
        _check_against_data(label, source, strats, seed_list[0], settings)

    config = {
        "datasets": {k: dataset_description(v) for k, v in data.items()},
        "strategies": {k: [short, canon(p)] for k, (short, p) in strats.items()},
        "seeds": seed_list,
        "n_rounds": n_rounds,
        "budget": budget,
        "initial_size": canon(initial_size),
        "val_size": canon(val_size),
        "test_size": canon(test_size),
        "pool_size": pool_size,
        "estimator": estimator_description(estimator),
        "estimator_params": canon(net_params),
        "eval_attack": canon(eval_attack),
        "warm_start": warm_start,
    }
    if settings.min_group_size is not None:  # absent: older folders still match
        config["min_group_size"] = settings.min_group_size
    if out_dir is not None:
        RunStore(out_dir).open(config, overwrite=overwrite, version=__version__)

    cells = [
        Cell(dlabel, source, slabel, short, params, seed, order=(i, j, seed))
        for i, (dlabel, source) in enumerate(data.items())
        for j, (slabel, (short, params)) in enumerate(strats.items())
        for seed in seed_list
    ]
    results = {}
    todo = []
    for cell in cells:
        if out_dir is not None:
            store = CellStore(out_dir, cell.dataset, cell.strategy, cell.seed)
            recs = store.finished_rounds()
            if len(recs) >= n_rounds + 1:
                results[cell.order] = [
                    row_from_record(r["row"]) for r in recs[: n_rounds + 1]
                ]
                continue
        todo.append(cell)

    workers = _schedule.n_workers(n_jobs, len(todo))
    local = _schedule.local_backend()
    _schedule.check_threads(torch_threads, workers, local=local)
    settings.n_workers = workers
    settings.default_threads = _schedule.default_threads(workers, local=local)
    if todo:
        _schedule.check_busy(torch_threads, settings.default_threads, local=local)

    def collect(order, rows):
        results[order] = rows

    # SIGINT/SIGTERM: the run stops and no half-finished round is written
    with interrupt_guard():
        _schedule.run_cells(
            todo,
            settings,
            n_jobs,
            run=_cell.run_cell_keyed,
            total=len(cells),
            done=len(results),
            progress=progress,
            on_result=collect,
        )
        raise_if_interrupted()  # one that a library swallowed between two cells
        rows = [row for cell in cells for row in results[cell.order]]
        df = pd.DataFrame(rows, columns=list(RESULT_COLUMNS))
        df.attrs["merged_groups"] = dict(settings.merged_groups)
        if out_dir is not None:
            RunStore(out_dir).write_results(df, n_rounds=n_rounds)
    warn_if_trivial(df)  # TrivialModelWarning: not above the majority floor
    return df


def _check_against_data(label, source, strats, seed, settings):
    """Every check that needs the data, before any training starts."""
    X, y, s = load_source(source)
    sp = split_cell(X, y, s, seed, settings)
    if sp["merged_groups"]:
        settings.merged_groups[label] = dict(sp["merged_groups"])
    warn_small_groups(label, sp, stacklevel=4)
    n_pool = len(sp.y_pool)
    n_rounds, budget = settings.n_rounds, settings.budget
    if n_rounds * budget > n_pool:
        raise ValueError(
            f"n_rounds * budget = {n_rounds} * {budget} = {n_rounds * budget} "
            f"labels exceed the pool of data set {label!r} ({n_pool} samples): "
            "lower budget or n_rounds, or enlarge the pool (raise pool_size, or "
            "lower initial_size, val_size or test_size)."
        )
    for part, arg in (("val", "val_size"), ("test", "test_size")):
        if len(sp[f"y_{part}"]) == 0:
            size = getattr(settings, arg)
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
            f"val_size={settings.val_size!r} gives data set {label!r} a validation "
            f"set without group(s) {sorted(missing, key=str)[:5]} of the pool: "
            f"strategies {needs_val} rank groups on it; raise val_size."
        )
    est = build_estimator(
        settings.estimator, X, np.unique(y), 0, settings.estimator_params
    )
    net = final_net(est)
    # The settings half of the net's _validate_params (skorch's half checks
    # argument names against the initialised modules, which do not exist yet).
    check_net = getattr(net, "_check_hyperparameters", None)
    if callable(check_net):
        check_net()  # e.g. lr=nan fails now, not when the first cell starts
    check_eval_strength(label, net, eval_attack_for(net, settings.eval_attack))
