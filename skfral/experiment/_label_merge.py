"""``skfral merge``: bring a person's labels back into DATA, all or nothing.

:func:`merge_labels` reads a filled ``to_label.csv`` (or a Label Studio JSON,
JSON_MIN or CSV export), checks every row, and only when every row is right
writes DATA again (atomic replace, the previous version kept as
``<DATA>.bak``). Any bad row fails the whole merge with the list of every bad
row; DATA is then left byte for byte as it was.
"""

import shutil
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ._label_data import (
    ROW,
    _label_text,
    commit,
    file_sha256,
    interruptible,
    read_raw_table,
    stage_dir,
    table_format,
    write_table,
)
from ._label_studio import ID_KEY, read_label_studio_json

__all__ = ["MergeResult", "merge_labels"]


@dataclass
class MergeResult:
    """What :func:`merge_labels` did.

    Parameters
    ----------
    data : pathlib.Path
        The table that was merged into.
    backup : pathlib.Path or None
        The previous version of DATA (``None`` when nothing changed).
    n_merged : int
        Rows whose empty label was filled.
    n_unchanged : int
        Rows already labelled with the same value.
    n_blank : int
        Rows of the labels file left blank (not merged; still unlabelled).
    """

    data: Path
    backup: Path | None
    n_merged: int
    n_unchanged: int
    n_blank: int


def _labels_from_csv(path, id_name, target):
    frame, _ = read_raw_table(path, "labels", as_text=True)
    if len(frame) == 0:
        raise ValueError(
            f"labels={str(path)!r} is empty (a header and no row): expected the filled "
            "batch (to_label.csv)."
        )
    id_col = id_name if id_name in frame.columns else ID_KEY
    for name, arg in ((id_col, "id"), (target, "target")):
        if name not in frame.columns:
            want = f"{id_name!r} (or {ID_KEY!r})" if arg == "id" else repr(target)
            raise ValueError(
                f"labels={str(path)!r} has no column {want}: expected the id and "
                f"target columns of to_label.csv; it has {', '.join(frame.columns)}."
            )
    return [
        (str(rid).strip(), (str(lab).strip() or None), f"line {k + 2}")
        for k, (rid, lab) in enumerate(zip(frame[id_col], frame[target], strict=True))
    ]


@interruptible
def merge_labels(
    data,
    labels,
    *,
    target,
    id_column=None,
    classes=None,
    backup=True,
):
    """Merge filled labels into DATA (``skfral merge``): all rows or none.

    Every row of ``labels`` is checked first; the merge fails with one
    ValueError listing **every** bad row: an id that is not in DATA, an id
    given twice, an id already labelled with another value, a class that is
    not known (the known ones are named), and an empty labels file. Rows left
    blank are not merged (they stay unlabelled) and are counted. On any error
    DATA is not written.

    DATA is written as a new file renamed over the old one (atomic); with
    ``backup`` the previous version is kept as ``<DATA>.bak``. A CSV or TSV
    is read and written as text: every cell but the filled ones keeps its
    exact text (the quoting of the file may change).

    Parameters
    ----------
    data : str or path-like
        The CSV, TSV or Parquet table (or an image folder's labels CSV).
    labels : str or path-like
        The filled ``to_label.csv`` (columns: the id, e.g. ``row``, and the
        target), or a Label Studio export: JSON, JSON_MIN (``.json``) or CSV
        (id column ``skfral_id``).
    target : str
        The label column of DATA (and of the labels file).
    id_column : str or None, default=None
        DATA's id column (``None``: row numbers, the ``row`` column of
        ``to_label.csv``). For an image labels CSV, pass its file column
        (``"file"``).
    classes : list of str or None, default=None
        The classes allowed. ``None``: those already in DATA (any label is
        accepted while DATA has none).
    backup : bool, default=True
        Keep the previous version of DATA as ``<DATA>.bak``.

    Returns
    -------
    result : MergeResult
    """
    data = Path(data)
    labels = Path(labels)
    fmt = table_format(data, "data")
    if not labels.is_file():
        raise FileNotFoundError(
            f"labels={str(labels)!r} does not exist: expected the filled to_label.csv "
            "or a Label Studio export."
        )
    if labels.stat().st_size == 0:
        raise ValueError(
            f"labels={str(labels)!r} is empty: expected the filled to_label.csv or a "
            "Label Studio export."
        )
    before = file_sha256(data) if data.is_file() else None
    if fmt == "parquet":
        frame, _ = read_raw_table(data)
    else:
        frame, _ = read_raw_table(data, as_text=True)
    if target not in frame.columns:
        raise ValueError(
            f"target={target!r} is not a column of {str(data)!r}: expected one of "
            f"{', '.join(map(str, frame.columns))}."
        )
    if id_column is not None and id_column not in frame.columns:
        raise ValueError(
            f"id={id_column!r} is not a column of {str(data)!r}: expected one of "
            f"{', '.join(map(str, frame.columns))}."
        )
    current = _label_text(frame[target])
    if id_column is None:
        ids = [str(i) for i in range(len(frame))]
        id_name = ROW
    else:
        ids = _label_text(frame[id_column]).astype(str).tolist()
        id_name = id_column
    position = {rid: k for k, rid in enumerate(ids)}
    if labels.suffix.lower() == ".json":
        rows = read_label_studio_json(labels, target)
    else:
        rows = _labels_from_csv(labels, id_name, target)
    if not rows:
        raise ValueError(
            f"labels={str(labels)!r} holds no row: expected the filled batch."
        )
    known = (
        sorted({str(c) for c in classes})
        if classes is not None
        else sorted(current.dropna().unique().tolist(), key=str)
    )
    bad, seen, fills = [], {}, {}
    n_blank = n_same = 0
    for rid, label, where in rows:
        if rid in seen:
            bad.append(f"{where}: id {rid!r} given twice (also {seen[rid]})")
            continue
        seen[rid] = where
        if rid not in position:
            bad.append(f"{where}: unknown id {rid!r} (not a {id_name} of {data.name})")
            continue
        if label is None:
            n_blank += 1
            continue
        if known and label not in known:
            bad.append(
                f"{where}: unknown class {label!r} for id {rid!r} (known classes: "
                f"{', '.join(map(repr, known))}; pass classes=... / --classes to add one)"
            )
            continue
        old = current.iloc[position[rid]]
        if old is not None and old == label:
            n_same += 1
            continue
        if old is not None:
            bad.append(
                f"{where}: id {rid!r} is already labelled {old!r} in {data.name}, "
                f"not {label!r}"
            )
            continue
        fills[position[rid]] = label
    if bad:
        raise ValueError(
            f"labels={str(labels)!r} has {len(bad)} bad row(s); nothing was merged, "
            f"{data.name} is unchanged: " + "; ".join(bad)
        )
    if not fills and not n_same:
        raise ValueError(
            f"labels={str(labels)!r} has no filled label ({n_blank} blank row(s)): "
            f"fill the {target!r} column first."
        )
    if not fills:
        return MergeResult(data, None, 0, n_same, n_blank)
    new = frame.copy()
    col = new[target]
    if fmt == "parquet":
        col = col.astype(object)
        for pos, label in fills.items():
            col.iloc[pos] = label
        if pd.api.types.is_numeric_dtype(frame[target].dtype):
            col = pd.to_numeric(col, errors="raise")
    else:
        col = col.copy()
        for pos, label in fills.items():
            col.iloc[pos] = label
    new[target] = col
    staging = stage_dir(data.parent)
    try:
        staged = staging / data.name
        write_table(new, staged, fmt)
        moves = []
        bak = data.with_name(data.name + ".bak") if backup else None
        if bak is not None:
            shutil.copy2(data, staging / bak.name)
            moves.append((staging / bak.name, bak))
        moves.append((staged, data))
        if file_sha256(data) != before:
            raise RuntimeError(
                f"{str(data)!r} changed while the merge ran: nothing was merged; run "
                "it again."
            )
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    commit(moves, staging)
    return MergeResult(data, bak, len(fills), n_same, n_blank)
