"""One cell of the grid: split, start (or resume), then query-teach-evaluate rounds."""

import time

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from .._modal_compat import require_modal
from ..nn import final_net
from ..query import STRATEGIES, get_strategy
from ..utils._validation import take_rows
from ._columns import report_row
from ._progress import phase_text
from ._registry import build_estimator, load_dataset
from ._schedule import cell_threads, raise_if_interrupted
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
    """Every round of one (data set, strategy, seed); returns its table rows."""
    from tqdm.auto import tqdm

    from ..metrics import fairness_report
    from ..nn._checkpoint import get_net_state, set_net_state, set_torch_threads

    models = require_modal()
    mode = "share" if settings.torch_threads is None else "explicit"
    previous_threads = set_torch_threads(cell_threads(settings), mode=mode)
    bar = None
    try:
        X, y, s = load_source(cell.source)
        classes = np.unique(y)
        sp = split_cell(X, y, s, cell.seed, settings)
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
        bar = tqdm(
            total=settings.n_rounds + 1,
            initial=len(records),
            desc=f"{cell.dataset}/{cell.strategy}/seed {cell.seed}",
            unit="round",
            disable=not settings.progress,
            leave=False,
        )

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
        eval_template = eval_attack_for(final_net(est), settings.eval_attack)
        remaining = np.arange(len(y_pool))
        base = {
            "dataset": cell.dataset,
            "strategy": cell.strategy,
            "base_strategy": cell.short,
            "seed": cell.seed,
        }

        def evaluate(learner, r, query_s, train_s):
            attack = seeded(eval_template, derive_seed(cell.seed, r, "eval"))
            bar.set_postfix_str(phase_text("evaluate", r, sp), refresh=True)
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
                **base,
                "round": r,
                "n_labels": int(len(learner.y_training)),
                "n_queried": int(r * settings.budget),
                "n_pool": int(len(remaining)),
                **report_row(report, val_report),
                "query_seconds": query_s,
                "train_seconds": train_s,
                "eval_seconds": eval_s,
            }
            return row_from_record(jsonable(row))

        def save(learner, r, row, queried):
            bar.update(1)
            if store is None:
                return
            # the strategy owns what it keeps between queries (JIN: its standard model)
            state = {
                "robust": get_net_state(learner.estimator),
                "strategy": strategy.state_dict(),
            }
            store.write_round(r, jsonable(row), queried, state)

        learner = _new_learner(models, est, strategy)
        if not records:
            t0 = time.perf_counter()
            learner.teach(sp.X_initial, sp.y_initial)
            row = evaluate(learner, 0, np.nan, time.perf_counter() - t0)
            rows.append(row)
            save(learner, 0, row, [])
            start = 1
        else:
            k = len(records) - 1
            queried = [
                np.asarray(rec["queried"], dtype=np.int64) for rec in records[1:]
            ]
            X_lab = _stack([sp.X_initial, *(take_rows(X_pool, q) for q in queried)])
            y_lab = np.concatenate([sp.y_initial, *(y_pool[q] for q in queried)])
            if queried:
                remaining = np.setdiff1d(remaining, np.concatenate(queried))
            learner.X_training, learner.y_training = X_lab, y_lab
            _set_model_seed(est, derive_seed(cell.seed, k, "model"))
            state = store.read_state(k)
            if isinstance(est, Pipeline) and len(est.steps) > 1:
                est[:-1].fit(X_lab, y_lab)
            set_net_state(est, state["robust"])
            strategy.load_state_dict(
                _strategy_state(state), estimator=learner.estimator
            )
            start = k + 1

        for r in range(start, settings.n_rounds + 1):
            strategy.set_params(random_state=derive_seed(cell.seed, r, "query"))
            t0 = time.perf_counter()
            bar.set_postfix_str(phase_text("query", r, sp), refresh=True)
            idx, _ = learner.query(
                take_rows(X_pool, remaining),
                n_instances=settings.budget,
                sensitive_features=s_pool[remaining],
            )
            query_s = time.perf_counter() - t0
            raise_if_interrupted()  # modAL's query may swallow a Ctrl-C
            idx = np.asarray(idx, dtype=np.int64)
            picked = remaining[idx]
            remaining = np.delete(remaining, idx)
            _set_model_seed(learner.estimator, derive_seed(cell.seed, r, "model"))
            t0 = time.perf_counter()
            bar.set_postfix_str(phase_text("train", r, sp), refresh=True)
            learner.teach(_materialised(take_rows(X_pool, picked)), y_pool[picked])
            train_s = time.perf_counter() - t0
            row = evaluate(learner, r, query_s, train_s)
            rows.append(row)
            save(learner, r, row, picked)
        return rows
    except Exception:
        # a Ctrl-C that a library turned into another error (modAL's query
        # retries the strategy in a bare except:, then fails on its result)
        raise_if_interrupted()
        raise
    finally:
        if bar is not None:
            bar.close()
        set_torch_threads(previous_threads)


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
