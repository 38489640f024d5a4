"""FairFace from a local folder: age bins, gender and race from label CSVs."""

import numpy as np
import pandas as pd

from ..utils._validation import check_int, check_option
from ._common import load_descr
from ._face_loading import (
    _FAIRFACE_AGE_LOW,
    _GENDERS,
    FAIRFACE_AGE_BINS,
    FAIRFACE_RACES,
    _age_binary,
    _check_common,
    _check_target_sensitive,
    _encode,
    _finish,
)
from ._images import (
    _check_files_exist,
    _check_root,
    _resolve_inside,
)

__all__ = ["load_fairface"]


_FAIRFACE_COLUMNS = ("file", "age", "gender", "race")


def _read_fairface_labels(file):
    try:
        table = pd.read_csv(file, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise ValueError(f"{str(file)!r} is malformed: {exc}") from None
    missing = [c for c in _FAIRFACE_COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(
            f"{str(file)!r} lacks the column(s) {missing}: expected the columns "
            f"file,age,gender,race,service_test (found {list(table.columns)})."
        )
    for column, valid in (
        ("age", FAIRFACE_AGE_BINS),
        ("gender", _GENDERS),
        ("race", FAIRFACE_RACES),
    ):
        bad = ~table[column].isin(valid)
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            listed = ", ".join(repr(v) for v in valid)
            raise ValueError(
                f"{str(file)!r} line {row + 2} ({table['file'].iloc[row]!r}) has "
                f"{column}={table[column].iloc[row]!r}: expected one of {listed}."
            )
    return table


def load_fairface(
    path,
    *,
    size=(32, 32),
    target="age",
    sensitive="gender",
    split="all",
    age_threshold=30,
    lazy=False,
    return_X_y=False,
    n_jobs=None,
):
    """Load FairFace from a local folder (never downloads).

    Layout, as published::

        path/
            fairface_label_train.csv   columns file,age,gender,race,service_test
            fairface_label_val.csv     (file is e.g. "train/1.jpg")
            train/1.jpg ...
            val/1.jpg ...

    Ages are bins (``"0-2"``, ``"3-9"``, ``"10-19"``, ..., ``"more than 70"``);
    race has 7 categories. Licence: CC BY 4.0 (see ``DESCR``).

    Parameters
    ----------
    path : str or path-like
        The FairFace folder.
    size : int or tuple of (int, int), default=(32, 32)
        Output ``(height, width)`` of every image. Images of another size
        are resized (bilinear; the aspect ratio is not kept); grayscale,
        palette and RGBA images are converted to RGB. An unreadable file is
        left out with one warning that counts and names them (see
        ``skipped`` below).
    target : {"age", "gender", "race"}, default="age"
        ``"age"``: 1 (old) when the age bin starts at or above
        ``age_threshold``; ``"gender"``: 0 Male, 1 Female; ``"race"``: index
        into ``FAIRFACE_RACES`` (White, Black, Latino_Hispanic, East Asian,
        Southeast Asian, Indian, Middle Eastern).
    sensitive : {"gender", "race", "age"}, default="gender"
        Group labels: ``"Male"``/``"Female"``, the race names, or
        ``"<T"``/``">=T"`` by age bin.
    split : {"all", "train", "val"}, default="all"
        Which label file(s) to read; ``"all"`` needs both.
    age_threshold : int, default=30
        Must be a bin boundary: 3, 10, 20, 30, 40, 50, 60 or 70.
    lazy : bool, default=False
        If True, ``data`` is a :class:`LazyImageArray`.
    return_X_y : bool, default=False
        If True, return ``(data, target, sensitive)``.
    n_jobs : int or None, default=None
        Threads that check and decode the images (and, with ``lazy=True``,
        decode every batch read later): ``None`` uses ``min(8,
        os.cpu_count())``, ``-1`` every CPU, ``1`` one thread.

    Returns
    -------
    data : Bunch
        ``data``, ``target``, ``sensitive``, ``target_names``,
        ``sensitive_names``, ``feature_names``, ``filenames``, ``frame`` (the
        label rows, with a ``split`` column), ``skipped`` (unreadable file ->
        reason) and ``DESCR``.
    (data, target, sensitive) : tuple
        If ``return_X_y`` is True.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from PIL import Image
    >>> from skfral.datasets import load_fairface
    >>> tmp = tempfile.TemporaryDirectory()
    >>> folder = Path(tmp.name)  # a folder in the data set's layout
    >>> (folder / "train").mkdir()
    >>> Image.new("RGB", (4, 4)).save(folder / "train" / "1.jpg")
    >>> _ = (folder / "fairface_label_train.csv").write_text(
    ...     "file,age,gender,race,service_test\\n"
    ...     "train/1.jpg,30-39,Female,Black,True\\n")
    >>> faces = load_fairface(folder, split="train", size=4, sensitive="race")
    >>> faces.data.shape, faces.target.tolist(), faces.sensitive.tolist()
    ((1, 3, 4, 4), [1], ['Black'])
    >>> tmp.cleanup()
    """
    size, lazy, return_X_y, n_jobs = _check_common(size, lazy, return_X_y, n_jobs)
    _check_target_sensitive(target, sensitive, ("age", "gender", "race"))
    check_option(split, "split", ("all", "train", "val"))
    boundaries = sorted(set(_FAIRFACE_AGE_LOW.values()) - {0})
    age_threshold = check_int(age_threshold, "age_threshold", min_value=1)
    if age_threshold not in boundaries:
        raise ValueError(
            f"age_threshold={age_threshold} is not a FairFace age-bin boundary: "
            f"expected one of {boundaries}."
        )
    root = _check_root(path, "FairFace")

    tables = []
    for part in ("train", "val") if split == "all" else (split,):
        name = f"fairface_label_{part}.csv"
        file = _resolve_inside(root, name, "FairFace label file")
        if not file.is_file():
            raise FileNotFoundError(
                f"{name} not found in {str(root)!r}: expected the FairFace folder with "
                "fairface_label_train.csv, fairface_label_val.csv, train/ and val/"
                + ("; or pass split='train' or split='val'." if split == "all" else ".")
            )
        table = _read_fairface_labels(file)
        table.insert(len(table.columns), "split", part)
        tables.append(table)
    frame = pd.concat(tables, ignore_index=True)
    if frame.empty:
        raise ValueError(f"the FairFace label file(s) in {str(root)!r} list no image.")

    relpaths = frame["file"].tolist()
    resolved = [_resolve_inside(root, rel, "FairFace image") for rel in relpaths]
    _check_files_exist(resolved, relpaths, root, "FairFace")

    age_low = frame["age"].map(_FAIRFACE_AGE_LOW).to_numpy().astype(np.int64)
    gender = (frame["gender"].to_numpy() == "Female").astype(np.int64)
    race_index = {r: i for i, r in enumerate(FAIRFACE_RACES)}
    race = frame["race"].map(race_index).to_numpy().astype(np.int64)
    codes = {
        "age": _age_binary(age_low, age_threshold),
        "gender": gender,
        "race": race,
    }
    y, target_names, s, sensitive_names = _encode(
        codes, target, sensitive, age_threshold, FAIRFACE_RACES
    )
    return _finish(
        root,
        resolved,
        relpaths,
        frame,
        y,
        target_names,
        s,
        sensitive_names,
        size,
        lazy,
        return_X_y,
        load_descr("fairface.rst"),
        n_jobs,
    )
