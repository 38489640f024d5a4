"""The data of a labelling loop: a table or an image folder with blank labels.

Read-only helpers shared by :mod:`._labelling` (query), :mod:`._label_merge`
and :mod:`._label_model`: reading DATA (rows with an empty target are the
unlabelled pool), row ids, file hashes, and the all-or-nothing commit of the
files a command writes (staged first, renamed at the end with Ctrl-C and
SIGTERM held back for the few renames).
"""

import contextlib
import functools
import hashlib
import os
import shutil
import signal
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..utils._files import fsync_dir
from ..utils._validation import did_you_mean

__all__ = ["LabellingData", "read_labelling_data"]

ROW = "row"
"""Name of the id column when DATA has no id column: the row number (from 0)."""
_CSV = (".csv", ".tsv")
_PARQUET = (".parquet", ".pq")


@dataclass
class LabellingData:
    """DATA of a labelling loop, as read (never written by reading it).

    Attributes
    ----------
    path : pathlib.Path
        The file whose target column is filled (the table, or the labels CSV
        of an image folder).
    kind : {"table", "images"}
    frame : pandas.DataFrame
        Every column of the file, as read.
    X : pandas.DataFrame or ndarray
        The features (a table's other columns; images as float32 NCHW in
        [0, 1]).
    y : pandas.Series of object
        The labels as text; missing for the unlabelled rows.
    groups : ndarray of object
        The group of every row (several sensitive columns joined with ",").
    ids : ndarray of object
        The id of every row (the id column as text, or the row number).
    id_name : str
        The id column's name (``"row"`` for row numbers; ``"file"`` for images).
    target, sensitive : str, list of str
    sha256 : str
        Of the file's bytes.
    """

    path: Path
    kind: str
    frame: pd.DataFrame
    X: object
    y: pd.Series
    groups: np.ndarray
    ids: np.ndarray
    id_name: str
    target: str
    sensitive: list
    sha256: str
    image_paths: np.ndarray | None = None
    info: dict = field(default_factory=dict)

    @property
    def labelled(self):
        """Boolean mask of the rows with a label."""
        return self.y.notna().to_numpy()

    @property
    def classes(self):
        """The labels in use, sorted as text."""
        return sorted(self.y.dropna().unique().tolist(), key=str)


def file_sha256(path):
    """SHA-256 hex digest of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def table_format(path, arg="data"):
    """``"csv"``, ``"tsv"`` or ``"parquet"`` from the file name."""
    name = Path(path).name.lower()
    if name.endswith(_CSV):
        return "tsv" if name.endswith(".tsv") else "csv"
    if name.endswith(_PARQUET):
        return "parquet"
    raise ValueError(
        f"{arg}={str(path)!r} has an unknown extension: expected a table file ending "
        f"in {', '.join(_CSV + _PARQUET)} (labelling writes the file back, so "
        "compressed tables are not accepted)."
    )


def _as_names(value, arg):
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()] or [value]
    if (
        isinstance(value, list | tuple)
        and value
        and all(isinstance(v, str) for v in value)
    ):
        return list(value)
    raise TypeError(
        f"{arg}={value!r} has type {type(value).__name__}: expected a column name or a "
        "list of column names."
    )


def _label_text(column):
    """A label column as text (integral floats as ints); blanks as missing."""
    col = column
    if pd.api.types.is_float_dtype(col.dtype):
        values = col.dropna()
        if len(values) and np.all(np.floor(values) == values):
            col = col.astype("Int64")
    values = []
    for v in col.astype(object).tolist():
        text = (
            None
            if v is None or v is pd.NA or (isinstance(v, float) and v != v)
            else str(v).strip()
        )
        values.append(text or None)
    out = pd.Series(values, dtype=object)
    return pd.Series(
        out.to_numpy(dtype=object), index=column.index, name=column.name, dtype=object
    )


def read_raw_table(path, arg="data", *, as_text=False):
    """Read a CSV/TSV/Parquet file (``as_text``: every cell as its exact text)."""
    path = Path(path)
    fmt = table_format(path, arg)
    if not path.is_file():
        raise FileNotFoundError(
            f"{arg}={str(path)!r} does not exist: expected a CSV, TSV or Parquet table."
        )
    if path.stat().st_size == 0:
        raise ValueError(
            f"{arg}={str(path)!r} is empty: expected a header line and one row per "
            "sample."
        )
    if fmt == "parquet":
        return pd.read_parquet(path), fmt
    sep = "\t" if fmt == "tsv" else ","
    try:
        if as_text:
            frame = pd.read_csv(
                path, sep=sep, dtype=str, keep_default_na=False, na_filter=False
            )
        else:
            frame = pd.read_csv(path, sep=sep, low_memory=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ValueError(
            f"{arg}={str(path)!r} could not be read as {fmt.upper()} ({first}): expected "
            "a table with a header line, saved as UTF-8."
        ) from None
    return frame, fmt


def _check_columns(names, columns, arg, path):
    for name in names:
        if name not in columns:
            raise ValueError(
                f"{arg}={name!r} is not a column of {str(path)!r}"
                f"{did_you_mean(name, list(columns))}: expected one of "
                f"{', '.join(map(str, list(columns)[:20]))}."
            )


def _groups_of(frame, sensitive, path):
    for name in sensitive:
        missing = frame[name].isna().to_numpy()
        if missing.any():
            rows = np.flatnonzero(missing)[:5].tolist()
            raise ValueError(
                f"sensitive={name!r} has {int(missing.sum())} missing value(s) in "
                f"{str(path)!r} (rows {rows}, counting from 0): every row needs a group."
            )
    parts = [_label_text(frame[name]).astype(str) for name in sensitive]
    groups = parts[0]
    for part in parts[1:]:
        groups = groups + "," + part
    return groups.to_numpy(dtype=object)


def _ids_of(frame, id_column, path):
    if id_column is None:
        return np.arange(len(frame)).astype(object), ROW
    _check_columns([id_column], frame.columns, "id", path)
    ids = _label_text(frame[id_column])
    if ids.isna().any():
        rows = np.flatnonzero(ids.isna().to_numpy())[:5].tolist()
        raise ValueError(
            f"id={id_column!r} is empty in rows {rows} of {str(path)!r}: every row "
            "needs an id."
        )
    dup = ids[ids.duplicated(keep=False)]
    if len(dup):
        raise ValueError(
            f"id={id_column!r} has duplicate values in {str(path)!r} "
            f"({', '.join(sorted(set(dup))[:5])}): expected one row per id."
        )
    return ids.to_numpy(dtype=object), id_column


def read_labelling_data(
    data,
    *,
    target,
    sensitive,
    id_column=None,
    image_folder=None,
    image_size=32,
    allow_missing_target=False,
):
    """Read DATA; rows with an empty target are the unlabelled pool.

    Parameters
    ----------
    data : str or path-like
        A CSV, TSV or Parquet table; with ``image_folder``, the labels CSV
        (one row per image: its file name relative to the folder, the label,
        the group).
    target : str
        The label column (empty cells: unlabelled).
    sensitive : str or list of str
        The group column(s); every row needs a group.
    id_column : str or None, default=None
        A column of unique row ids; ``None`` uses the row number (from 0).
        Images are identified by their file column (``"file"``).
    image_folder : str, path-like or None, default=None
        The folder of the images named in ``data``.
    image_size : int, default=32
        Images are resized to ``image_size`` x ``image_size`` (RGB).
    allow_missing_target : bool, default=False
        A table without the target column reads as entirely unlabelled
        (for predictions on new data).

    Returns
    -------
    data : LabellingData
    """
    if not isinstance(target, str):
        raise TypeError(
            f"target={target!r} has type {type(target).__name__}: expected the name of "
            "the label column (a str)."
        )
    sensitive = _as_names(sensitive, "sensitive")
    path = Path(data)
    if image_folder is not None:
        from ..datasets import load_image_folder

        bunch = load_image_folder(
            image_folder,
            layout="labels-csv",
            labels_file=path,
            target=target,
            sensitive=sensitive[0] if len(sensitive) == 1 else sensitive,
            image_size=image_size,
        )
        frame = bunch.frame
        y = _label_text(frame[target])
        return LabellingData(
            path=path,
            kind="images",
            frame=frame,
            X=bunch.data,
            y=y,
            groups=_groups_of(frame, sensitive, path),
            ids=frame[bunch.file_column].astype(str).to_numpy(dtype=object),
            id_name=bunch.file_column,
            target=target,
            sensitive=sensitive,
            sha256=file_sha256(path),
            image_paths=np.asarray(bunch.image_paths, dtype=object),
        )
    frame, fmt = read_raw_table(path)
    if len(frame) == 0:
        raise ValueError(
            f"data={str(path)!r} has no data row: expected one row per sample."
        )
    if allow_missing_target and target not in frame.columns:
        frame = frame.assign(**{target: pd.Series([None] * len(frame), dtype=object)})
    _check_columns([target], frame.columns, "target", path)
    _check_columns(sensitive, frame.columns, "sensitive", path)
    if target in sensitive or target == id_column:
        raise ValueError(
            f"target={target!r} is also the group or id column: expected the label in "
            "a column of its own."
        )
    y = _label_text(frame[target])
    groups = _groups_of(frame, sensitive, path)
    ids, id_name = _ids_of(frame, id_column, path)
    drop = [target, *sensitive] + ([id_column] if id_column else [])
    X = frame.drop(columns=drop)
    if X.shape[1] == 0:
        raise ValueError(
            f"data={str(path)!r} has no feature column besides target={target!r}, "
            f"sensitive={sensitive!r} and id={id_column!r}."
        )
    return LabellingData(
        path=path,
        kind="table",
        frame=frame,
        X=X,
        y=y,
        groups=groups,
        ids=ids,
        id_name=id_name,
        target=target,
        sensitive=sensitive,
        sha256=file_sha256(path),
        info={"format": fmt},
    )


def take(X, rows):
    """Rows of a DataFrame or an array."""
    if isinstance(X, pd.DataFrame):
        return X.iloc[rows].reset_index(drop=True)
    return X[rows]


# ------------------------------------------------------------------ writing
def stage_dir(near):
    """A new hidden staging folder in ``near`` (same file system as the targets)."""
    near = Path(near)
    near.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(dir=near, prefix=".skfral-staging-"))


@contextlib.contextmanager
def held_signals():
    """Hold SIGINT and SIGTERM back (main thread) while the block runs.

    A Ctrl-C or SIGTERM that arrives during the renames of a commit is
    delivered right after them: the command then stops with every file new,
    never with some new and some old. The signals are recorded by Python-level
    handlers (which always run in the main thread), not blocked with
    ``pthread_sigmask``: a mask holds only the calling thread, and the kernel
    hands a process-directed signal to any other thread (torch's, a test
    runner's) that does not block it.
    """
    if threading.current_thread() is not threading.main_thread():
        yield  # pragma: no cover - handlers can only be set in the main thread
        return
    received = []

    def record(signum, frame):
        received.append(signum)

    old = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            old[sig] = signal.signal(sig, record)
        except (ValueError, OSError):  # pragma: no cover
            pass
    try:
        yield
    finally:
        for sig, previous in old.items():
            signal.signal(sig, previous)
    for signum in received[:1]:  # delivered now, to the handler held back
        previous = old.get(signum)
        if callable(previous):
            previous(signum, None)
        elif previous == signal.SIG_DFL:
            if signum == signal.SIGINT:
                raise KeyboardInterrupt
            signal.raise_signal(signum)


class _Stopped(BaseException):
    """A Ctrl-C or SIGTERM, raised past code that swallows KeyboardInterrupt.

    skorch's ``fit`` catches KeyboardInterrupt to end training early and
    returns normally; a labelling command must stop instead, without writing.
    """


def interruptible(func):
    """Run ``func`` with Ctrl-C and SIGTERM raising KeyboardInterrupt out of it.

    While ``func`` runs (in the main thread), SIGINT and SIGTERM raise an
    exception that no ``except KeyboardInterrupt`` inside catches (skorch
    ends training early on KeyboardInterrupt and carries on); it becomes a
    KeyboardInterrupt when it leaves ``func``, after the staged files were
    removed.
    """

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        if threading.current_thread() is not threading.main_thread():
            return func(*args, **kwargs)

        def handler(signum, frame):
            raise _Stopped(signum)

        old = {}
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                old[sig] = signal.signal(sig, handler)
            except (ValueError, OSError):  # pragma: no cover
                pass
        try:
            return func(*args, **kwargs)
        except _Stopped:
            raise KeyboardInterrupt from None
        finally:
            for sig, previous in old.items():
                signal.signal(sig, previous)

    return wrapper


def commit(moves, staging):
    """Rename every staged file or folder into place, then remove ``staging``.

    Parameters
    ----------
    moves : list of (staged_path, target_path)
        Files are replaced with :func:`os.replace`; a folder that exists at
        its target is first moved into ``staging`` (and removed with it).
    staging : path
    """
    staging = Path(staging)
    with held_signals():
        for i, (src, dst) in enumerate(moves):
            dst = Path(dst)
            dst.parent.mkdir(parents=True, exist_ok=True)
            if Path(src).is_dir() and dst.exists():
                os.replace(dst, staging / f".old-{i}")
            os.replace(src, dst)
        for folder in {Path(dst).parent for _, dst in moves}:
            fsync_dir(folder)
        shutil.rmtree(staging, ignore_errors=True)


def write_table(frame, path, fmt=None):
    """Write a frame as CSV/TSV (text kept as is) or Parquet, to ``path``."""
    fmt = fmt or table_format(path)
    if fmt == "parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False, sep="\t" if fmt == "tsv" else ",")
