"""One cell of the grid: split, start (or resume), then query-teach-evaluate rounds."""

import time
from contextlib import contextmanager

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline
from tqdm.auto import tqdm

from .._modal_compat import require_modal
from ..datasets import fral_split
from ..metrics import fairness_report
from ..nn import final_net, get_net_state, set_net_state, set_torch_threads
from ..query import STRATEGIES, get_strategy
from ..utils._validation import take_rows
from ._catalog import build_estimator, load_dataset
from ._columns import floor_row, report_row
from ._interrupt import interrupt_guard, raise_if_interrupted
from ._progress import phase_text
from ._schedule import cell_threads
from ._settings import derive_seed, eval_attack_for, seeded
from ._store import CellStore, jsonable, row_from_record

__all__ = ["load_source", "run_cell", "run_cell_keyed", "split_cell"]


def load_source(source):
    """``(X, y, s)`` of a checked data set (a registry name or the user's data)."""
    kind, value = source
    return load_dataset(value) if kind == "registry" else value


def _materialised(X):
    """A lazily loaded part as an array (labelled sets are small); others as given."""
    if hasattr(X, "subset") and not isinstance(X, np.ndarray | pd.DataFrame):
        return np.asarray(X)
    return X


def _stack(blocks):
    blocks = [_materialised(b) for b in blocks]
    if isinstance(blocks[0], pd.DataFrame):
        return pd.concat(blocks, ignore_index=True)
    return np.concatenate(blocks)


def split_cell(X, y, s, seed, settings):
    """The paired split of one (data set, seed): the same for every strategy.

    ``X`` parts keep their type (array, DataFrame with a fresh 0..n-1 index,
    or a lazy image array); labels and groups are numpy arrays. Everything is
    indexed by position.
    """

    parts = fral_split(
        X,
        y,
        s,
        initial_size=settings.initial_size,
        val_size=settings.val_size,
        test_size=settings.test_size,
        min_group_size=getattr(settings, "min_group_size", None),
        random_state=derive_seed(seed, 0, "split"),
    )
    merged = parts.pop("merged_groups", {})
    n_pool = len(parts.pool_idx)
    if settings.pool_size is not None and settings.pool_size < n_pool:
        rng = np.random.RandomState(derive_seed(seed, 1, "split"))
        keep = np.sort(rng.choice(n_pool, settings.pool_size, replace=False))
        for key in ("X_pool", "y_pool", "s_pool", "pool_idx"):
            parts[key] = take_rows(parts[key], keep)
    for key in list(parts):
        value = parts[key]
        if isinstance(value, pd.DataFrame) and key.startswith("X_"):
            parts[key] = value.reset_index(drop=True)
        elif key.startswith("X_") and hasattr(value, "subset"):
            parts[key] = value  # lazy images stay lazy
        else:
            parts[key] = np.asarray(value)
    parts["X_initial"] = _materialised(parts["X_initial"])
    parts["merged_groups"] = merged
    return parts


def _set_model_seed(estimator, seed):
    net = final_net(estimator)
    if "random_state" in net.get_params(deep=False):
        net.set_params(random_state=seed)


def _new_learner(models, estimator, strategy):
    learner = models.ActiveLearner(estimator=estimator, query_strategy=strategy)
    # modAL's ActiveLearner forwards force_all_finite to fit instead of keeping it:
    # set it on the learner so that tables with missing values reach the pipeline.
    learner.force_all_finite = False
    return learner


# ------------------------------------------------------------------ a cell
def run_cell(cell, settings):
    """Every round of one (data set, strategy, seed); returns its table rows.

    Finished rounds on disk are reused; the cell resumes after the last one.
    A round is written only when its query, fit and evaluation all finished
    without an interrupt (:mod:`skfral.experiment._interrupt`).
    """
    models = require_modal()
    mode = "share" if settings.torch_threads is None else "explicit"
    with interrupt_guard(), _torch_threads(cell_threads(settings), mode):
        run = _CellRun(cell, settings)
        if run.complete:
            return run.rows
        with _round_bar(cell, settings, initial=len(run.rows)) as bar:
            run.bar = bar
            try:
                first = run.start(models)
                bar.update(len(run.rows) - bar.n)
                for r in range(first, settings.n_rounds + 1):
                    run.play_round(r)
                    bar.update(1)
            except Exception:
                # a Ctrl-C that a library turned into another error (modAL's
                # query retries the strategy in a bare except:, then fails on
                # its result)
                raise_if_interrupted()
                raise
        return run.rows


@contextmanager
def _torch_threads(n_threads, mode):
    previous = set_torch_threads(n_threads, mode=mode)
    try:
        yield
    finally:
        set_torch_threads(previous)


@contextmanager
def _round_bar(cell, settings, *, initial):
    bar = tqdm(
        total=settings.n_rounds + 1,
        initial=initial,
        desc=f"{cell.dataset}/{cell.strategy}/seed {cell.seed}",
        unit="round",
        disable=not settings.progress,
        leave=False,
    )
    try:
        yield bar
    finally:
        bar.close()


class _CellRun:
    """One cell between its rounds: split, store, learner, pool positions left.

    The steps, in order: ``__init__`` (data, split, finished rounds on disk),
    :meth:`start` (round 0, or the resumed labelled set and checkpoint), then
    :meth:`play_round` per round (query, teach, evaluate, save). Each step
    checks for an interrupt after the library calls that may swallow one.
    """

    def __init__(self, cell, settings):
        self.cell, self.settings = cell, settings
        self.bar = None  # the cell's progress bar, which shows the phase
        X, y, s = load_source(cell.source)
        self.X, self.classes = X, np.unique(y)
        self.sp = split_cell(X, y, s, cell.seed, settings)
        self.remaining = np.arange(len(self.sp.y_pool))
        self.store = None
        self.records = []
        if settings.out_dir is not None:
            self.store = CellStore(
                settings.out_dir, cell.dataset, cell.strategy, cell.seed
            )
            self.store.cleanup()
            records = self.store.finished_rounds()[: settings.n_rounds + 1]
            if records and not self.store.has_state(len(records) - 1):
                records = []  # state lost: recompute the cell from round 0
            self.records = records
        self.rows = [row_from_record(rec["row"]) for rec in self.records]

    @property
    def complete(self):
        return len(self.rows) == self.settings.n_rounds + 1

    # ------------------------------------------------------------ start
    def start(self, models):
        """Build the model and the strategy; return the first round to play."""
        cell, settings, sp = self.cell, self.settings, self.sp
        est = build_estimator(
            settings.estimator,
            self.X,
            self.classes,
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
        self.strategy = get_strategy(cell.short, **params)
        self.eval_template = eval_attack_for(final_net(est), settings.eval_attack)
        self.learner = _new_learner(models, est, self.strategy)
        if self.records:
            return self._resume(est)
        t0 = time.perf_counter()
        self.learner.teach(sp.X_initial, sp.y_initial)
        train_s = time.perf_counter() - t0
        raise_if_interrupted()  # skorch's fit returns a half-trained net on Ctrl-C
        self._finish_round(0, [], np.nan, train_s)
        return 1

    def _resume(self, est):
        """The labelled set and the state of the last finished round."""
        sp, records = self.sp, self.records
        k = len(records) - 1
        queried = [np.asarray(rec["queried"], dtype=np.int64) for rec in records[1:]]
        X_lab = _stack([sp.X_initial, *(take_rows(sp.X_pool, q) for q in queried)])
        y_lab = np.concatenate([sp.y_initial, *(sp.y_pool[q] for q in queried)])
        if queried:
            self.remaining = np.setdiff1d(self.remaining, np.concatenate(queried))
        self.learner.X_training, self.learner.y_training = X_lab, y_lab
        _set_model_seed(est, derive_seed(self.cell.seed, k, "model"))
        state = self.store.read_state(k)
        if isinstance(est, Pipeline) and len(est.steps) > 1:
            est[:-1].fit(X_lab, y_lab)
        set_net_state(est, state["robust"])
        self.strategy.load_state_dict(
            _strategy_state(state), estimator=self.learner.estimator
        )
        raise_if_interrupted()
        return k + 1

    def _phase(self, name, r):
        if self.bar is not None:
            self.bar.set_postfix_str(phase_text(name, r, self.sp), refresh=True)

    # ------------------------------------------------------------ rounds
    def play_round(self, r):
        """Query ``budget`` pool samples, teach them, evaluate, save round ``r``."""
        picked, query_s = self._query(r)
        train_s = self._teach(r, picked)
        self._finish_round(r, picked, query_s, train_s)

    def _query(self, r):
        sp, remaining = self.sp, self.remaining
        self.strategy.set_params(random_state=derive_seed(self.cell.seed, r, "query"))
        t0 = time.perf_counter()
        self._phase("query", r)
        idx, _ = self.learner.query(
            take_rows(sp.X_pool, remaining),
            n_instances=self.settings.budget,
            sensitive_features=sp.s_pool[remaining],
        )
        query_s = time.perf_counter() - t0
        raise_if_interrupted()  # modAL's query may swallow a Ctrl-C
        idx = np.asarray(idx, dtype=np.int64)
        picked = remaining[idx]
        self.remaining = np.delete(remaining, idx)
        return picked, query_s

    def _teach(self, r, picked):
        sp = self.sp
        _set_model_seed(self.learner.estimator, derive_seed(self.cell.seed, r, "model"))
        t0 = time.perf_counter()
        self._phase("train", r)
        self.learner.teach(
            _materialised(take_rows(sp.X_pool, picked)), sp.y_pool[picked]
        )
        train_s = time.perf_counter() - t0
        raise_if_interrupted()  # skorch's fit returns a half-trained net on Ctrl-C
        return train_s

    def _finish_round(self, r, picked, query_s, train_s):
        """Evaluate round ``r``, then write it (only if nothing interrupted it)."""
        row = self._evaluate(r, query_s, train_s)
        raise_if_interrupted()
        self._save(r, row, picked)
        self.rows.append(row)

    def _evaluate(self, r, query_s, train_s):
        sp, learner = self.sp, self.learner
        attack = seeded(self.eval_template, derive_seed(self.cell.seed, r, "eval"))
        self._phase("evaluate", r)
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
        row = {
            "dataset": self.cell.dataset,
            "strategy": self.cell.strategy,
            "base_strategy": self.cell.short,
            "seed": self.cell.seed,
            "round": r,
            "n_labels": int(len(learner.y_training)),
            "n_queried": int(r * self.settings.budget),
            "n_pool": int(len(self.remaining)),
            **report_row(report, val_report),
            **floor_row(learner.y_training, sp.y_test, sp.s_test),
            "query_seconds": query_s,
            "train_seconds": train_s,
            "eval_seconds": eval_s,
        }
        return row_from_record(jsonable(row))

    def _save(self, r, row, queried):
        if self.store is None:
            return
        # the strategy owns what it keeps between queries (JIN: its standard model)
        state = {
            "robust": get_net_state(self.learner.estimator),
            "strategy": self.strategy.state_dict(),
        }
        raise_if_interrupted()
        self.store.write_round(r, jsonable(row), queried, state)


def _strategy_state(checkpoint):
    """The strategy's state in a round checkpoint.

    Checkpoints written before the strategies saved their own state directly
    wrapped it as ``{"own": state}`` (same format version); both layouts
    resume.
    """
    state = checkpoint.get("strategy") or {}
    if set(state) == {"own"}:
        state = state["own"] or {}
    return state


def run_cell_keyed(cell, settings):
    """``(cell.order, rows)``: what the scheduler collects."""
    return cell.order, run_cell(cell, settings)
