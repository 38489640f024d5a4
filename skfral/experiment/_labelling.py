"""Label your own data: which rows should a person label next, and why.

:func:`query_batch` is ``skfral query``: it fits the robust model on the
labelled rows of DATA (rows with an empty target are the unlabelled pool),
runs a query strategy on the pool and writes ``to_label.csv``: one row per
picked sample with its id, its original columns (the image path for images),
its group, the score and its parts, a one-line reason, and an empty target
column to fill. :func:`skfral.experiment.merge_labels` (``skfral merge``)
brings the answers back; :func:`fit_model`, :func:`predict` and :func:`audit`
use the final model.

The state folder (default: ``<DATA name>.skfral/`` next to DATA) keeps::

    settings.json      the settings of the last query
    history.json       every batch: ids, time, strategy, scores, DATA's SHA-256
    model/             the robust model fitted for the last batch (save_model)
    batch_<k>.csv      batch k as written to to_label.csv
    to_label.csv       the pending batch (unless --to-label names another file)

Asking again while DATA is unchanged since the last batch returns that same
pending batch (nothing is refitted or rewritten). Every file of a query is
written to a staging folder first and renamed into place at the end, with
Ctrl-C and SIGTERM held back for those renames: an interrupted query leaves
DATA and the state folder as they were.
"""

import datetime
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..nn import load_model, save_model
from ..query import STRATEGIES, get_strategy
from ..utils._validation import check_int, check_random_state, check_real
from ._label_data import (
    commit,
    interruptible,
    read_labelling_data,
    stage_dir,
    write_table,
)
from ._label_files import (  # noqa: F401 (names of the state folder, re-exported)
    FORMATS,
    HISTORY,
    MODEL,
    SETTINGS,
    TO_LABEL,
    default_state_dir,
)
from ._label_pick import (
    COLD_START,
    _cold_reason,
    _run_strategy,
    _stratified_split,
    build_model,
    cold_start_pick,
)
from ._store import dump_json

__all__ = ["QueryResult", "default_state_dir", "query_batch"]


@dataclass
class QueryResult:
    """What :func:`query_batch` picked and where it wrote it.

    Parameters
    ----------
    batch : pandas.DataFrame
        One row per picked sample (as in ``to_label.csv``).
    to_label : pathlib.Path
        The file to fill (``to_label.csv``, or the Label Studio tasks file).
    state_dir : pathlib.Path
        The state folder.
    batch_number : int
        1 for the first batch.
    cold_start : bool
        Whether the batch was a cold-start pick (too few labels).
    pending : bool
        True when DATA had not changed since the last batch, which is returned
        again as it was.
    message : str
        One line for the user (why a cold start, or that the batch is pending).
    """

    batch: pd.DataFrame
    to_label: Path
    state_dir: Path
    batch_number: int
    cold_start: bool
    pending: bool
    message: str


def read_history(state_dir):
    """The query history of a state folder (a list of dicts; empty when none)."""
    file = Path(state_dir) / HISTORY
    if not file.is_file():
        return []
    try:
        history = json.loads(file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"state folder {str(state_dir)!r} has an unreadable {HISTORY} ({exc}): "
            "move the folder away to start a new history."
        ) from None
    return history


# ------------------------------------------------------------------ the batch
def _batch_frame(data, rows, scores, parts, reasons):
    out = pd.DataFrame({data.id_name: data.ids[rows]})
    if data.kind == "images":
        out["image"] = data.image_paths[rows]
    others = [c for c in data.frame.columns if c not in (data.target, data.id_name)]
    for col in others:
        if col not in out.columns:
            out[col] = data.frame[col].iloc[rows].to_numpy()
    out["group"] = data.groups[rows]
    out["score"] = scores
    for key, values in parts.items():
        out[key] = values
    out["reason"] = reasons
    out[data.target] = ""
    return out


def _check_args(budget, strategy, val_size, min_labels, fmt):
    budget = check_int(budget, "budget", min_value=1)
    if not isinstance(strategy, str) or strategy not in STRATEGIES:
        get_strategy(strategy)  # the "did you mean" error
    val_size = check_real(val_size, "val_size", min_value=0.0, max_value=0.9)
    min_labels = check_int(min_labels, "min_labels", min_value=0)
    if fmt not in FORMATS:
        raise ValueError(
            f"format={fmt!r} is not valid: expected one of {', '.join(FORMATS)}."
        )
    return budget, val_size, min_labels


@interruptible
def query_batch(
    data,
    *,
    target,
    sensitive,
    id_column=None,
    budget=20,
    strategy="jin",
    state_dir=None,
    to_label=None,
    val_size=0.25,
    min_labels=20,
    format="csv",
    image_folder=None,
    image_size=32,
    net_params=None,
    strategy_params=None,
    random_state=0,
):
    """Pick the next rows for a person to label, and say why (``skfral query``).

    Fits the robust model on the labelled rows of ``data`` (for strategies
    that rank groups on validation, JIN included, a part ``val_size`` of
    every (group, class) cell is held out for that), runs ``strategy`` on the
    unlabelled rows and writes the batch to ``to_label``. With too few labels
    (fewer than ``min_labels``, fewer than two classes, a class with a single
    label, or a group without a validation row for strategies that need one)
    the batch is a **cold start**: group- and class-stratified random
    (:func:`cold_start_pick`), and every row's reason says why.

    Parameters
    ----------
    data : str or path-like
        A CSV, TSV or Parquet table (empty target = unlabelled), or with
        ``image_folder`` the labels CSV of the images.
    target : str
        The label column.
    sensitive : str or list of str
        The group column(s).
    id_column : str or None, default=None
        A column of unique ids; ``None``: the row number (from 0).
    budget : int, default=20
        Rows per batch.
    strategy : str, default="jin"
        A name of :data:`skfral.query.STRATEGIES`.
    state_dir : str, path-like or None, default=None
        The state folder; ``None``: :func:`default_state_dir` ``(data)``.
    to_label : str, path-like or None, default=None
        Where to write the batch; ``None``: ``to_label.csv`` (or
        ``to_label.json`` with ``format="label-studio"``) in ``state_dir``.
    val_size : float, default=0.25
        Share of every labelled (group, class) cell held out for validation
        (strategies that need it only).
    min_labels : int, default=20
        Fewer labelled rows than this give a cold start.
    format : {"csv", "label-studio"}, default="csv"
        ``"label-studio"`` also writes Label Studio tasks (JSON, to import)
        next to the CSV.
    image_folder : str, path-like or None, default=None
        The images' folder (``data`` is then the labels CSV). Also writes
        ``to_label.html``, a contact sheet of the batch.
    image_size : int, default=32
        Images are resized to squares of this side.
    net_params : dict or None, default=None
        ``set_params`` of the robust net (e.g. ``{"max_epochs": 10}``).
    strategy_params : dict or None, default=None
        Keyword arguments of the strategy.
    random_state : int, default=0
        Batch ``k`` uses the seed ``random_state + k``.

    Returns
    -------
    result : QueryResult
    """
    budget, val_size, min_labels = _check_args(
        budget, strategy, val_size, min_labels, format
    )
    seed0 = check_int(random_state, "random_state", min_value=0)
    data = read_labelling_data(
        data,
        target=target,
        sensitive=sensitive,
        id_column=id_column,
        image_folder=image_folder,
        image_size=image_size,
    )
    state = Path(state_dir) if state_dir is not None else default_state_dir(data.path)
    history = read_history(state)
    if history and history[-1]["data_sha256"] == data.sha256:
        last = history[-1]
        batch = pd.read_csv(
            state / last["batch_file"], dtype=str, keep_default_na=False
        )
        return QueryResult(
            batch=batch,
            to_label=Path(last["to_label"]),
            state_dir=state,
            batch_number=int(last["batch"]),
            cold_start=bool(last["cold_start"]),
            pending=True,
            message=(
                f"batch {last['batch']} ({len(batch)} rows) is still pending: DATA has "
                f"not changed since it was written. Fill {last['to_label']} and run "
                "skfral merge first; it is returned as it was."
            ),
        )
    pool = np.flatnonzero(~data.labelled)
    if len(pool) == 0:
        raise ValueError(
            f"data={str(data.path)!r} has no unlabelled row (every {target!r} is "
            "filled): nothing to query."
        )
    number = len(history) + 1
    seed = seed0 + number
    rng = check_random_state(seed)
    labelled = data.labelled
    lab_rows = np.flatnonzero(labelled)
    val_mask = None
    if STRATEGIES[strategy].requires_validation:
        keys = [
            f"{g}\x1f{c}"
            for g, c in zip(data.groups[lab_rows], data.y[labelled], strict=True)
        ]
        val_mask = _stratified_split(keys, val_size, rng)
    why = _cold_reason(data, labelled, strategy, min_labels, val_mask)
    classes = data.classes
    model = None
    if why is not None:
        rows = cold_start_pick(data, budget, rng)
        scores = np.full(len(rows), np.nan)
        parts = {}
        reasons = [
            f"{COLD_START}: {why}; group- and class-stratified random pick"
        ] * len(rows)
        message = (
            f"too few labels for {strategy} ({why}): batch {number} is a cold start, "
            "a group- and class-stratified random pick."
        )
    else:
        val_rows = lab_rows[val_mask] if val_mask is not None else lab_rows[:0]
        fit_rows = lab_rows[~val_mask] if val_mask is not None else lab_rows
        model = build_model(data, classes, seed, net_params)
        rows, scores, parts, reasons = _run_strategy(
            strategy, strategy_params, data, model, fit_rows, val_rows, budget, seed
        )
        message = (
            f"batch {number}: {len(rows)} rows picked by {strategy} from "
            f"{len(pool)} unlabelled rows ({len(fit_rows)} labelled rows fitted, "
            f"{len(val_rows)} held out for validation)."
        )
    batch = _batch_frame(data, rows, scores, parts, reasons)
    to_label = Path(to_label) if to_label is not None else state / TO_LABEL
    settings = {
        "data": str(data.path),
        "image_folder": None if image_folder is None else str(image_folder),
        "target": target,
        "sensitive": data.sensitive,
        "id_column": id_column,
        "id_name": data.id_name,
        "budget": budget,
        "strategy": strategy,
        "val_size": val_size,
        "min_labels": min_labels,
        "format": format,
        "image_size": image_size,
        "net_params": net_params or {},
        "random_state": seed0,
        "classes": classes,
    }
    entry = {
        "batch": number,
        "time": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "strategy": strategy,
        "cold_start": why is not None,
        "reason": message,
        "ids": batch[data.id_name].tolist(),
        "scores": [None if not np.isfinite(v) else float(v) for v in scores],
        "data_sha256": data.sha256,
        "n_labelled": int(labelled.sum()),
        "batch_file": f"batch_{number:03d}.csv",
        "to_label": str(to_label),
    }
    _write_query(
        state, data, batch, to_label, settings, [*history, entry], model, format
    )
    return QueryResult(
        batch=batch,
        to_label=to_label,
        state_dir=state,
        batch_number=number,
        cold_start=why is not None,
        pending=False,
        message=message,
    )


def _write_query(state, data, batch, to_label, settings, history, model, fmt):
    """Stage every file of a query, then rename them all into place.

    Files go to a staging folder on the same file system as their target
    (the state folder, and the folder of ``to_label`` when it is elsewhere),
    so that every rename is atomic.
    """
    staging = stage_dir(state)
    outside = to_label.parent.resolve() != state.resolve()
    side = stage_dir(to_label.parent) if outside else staging
    try:
        moves = []
        files = {}
        files[history[-1]["batch_file"]] = lambda p: write_table(batch, p, "csv")
        files[SETTINGS] = lambda p: p.write_text(dump_json(settings), encoding="utf-8")
        for name, writer in files.items():
            writer(staging / name)
            moves.append((staging / name, state / name))
        staged = side / ("to_label" + (to_label.suffix or ".csv"))
        write_table(batch, staged, "csv")
        moves.append((staged, to_label))
        if fmt == "label-studio":
            from ._label_studio import label_studio_config, label_studio_tasks

            tasks = side / "to_label.tasks.json"
            tasks.write_text(
                json.dumps(label_studio_tasks(batch, data), indent=1) + "\n",
                encoding="utf-8",
            )
            moves.append((tasks, to_label.with_suffix(".json")))
            config = side / "to_label.label_config.xml"
            config.write_text(label_studio_config(data), encoding="utf-8")
            moves.append((config, to_label.with_suffix(".label_config.xml")))
        if data.kind == "images":
            from ._label_sheet import contact_sheet_html

            sheet = side / "to_label.html"
            sheet.write_text(contact_sheet_html(batch, data), encoding="utf-8")
            moves.append((sheet, to_label.with_suffix(".html")))
        if model is not None:
            save_model(
                model,
                staging / MODEL,
                metadata=_model_metadata(data, settings),
            )
            moves.append((staging / MODEL, state / MODEL))
        # the history is renamed last: it records a batch only once all is in place
        (staging / HISTORY).write_text(dump_json(history), encoding="utf-8")
        moves.append((staging / HISTORY, state / HISTORY))
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(side, ignore_errors=True)
        raise
    commit(moves, staging)
    if outside:
        shutil.rmtree(side, ignore_errors=True)


def _model_metadata(data, settings):
    meta = {
        "kind": data.kind,
        "target": data.target,
        "sensitive": data.sensitive,
        "id_column": settings.get("id_column"),
        "classes": [str(c) for c in data.classes],
        "image_size": settings.get("image_size"),
    }
    if data.kind == "table":
        meta["features"] = [str(c) for c in data.X.columns]
    return meta


def load_state_model(state_dir):
    """The model fitted for the last batch of a state folder (and its metadata)."""
    return load_model(Path(state_dir) / MODEL)
