"""Face image loaders for local folders: UTKFace, CelebA and FairFace.

Pure numpy + pandas + PIL. Nothing here reaches the network: the user downloads
the data set and passes its folder. Every file path is resolved and must stay
inside that folder (see :mod:`._images`).

Bad input, the same in every loader: a folder without any image of the
layout is an error; an unreadable file (empty, not an image, a truncated
JPEG or PNG) is left out with one warning that counts and names the files
(the Bunch's ``skipped`` lists them all; if no image is readable it is an
error); images of any size are resized to ``size``; grayscale, palette and
RGBA images are converted to RGB.
"""

import os
import re
import warnings

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

from ..utils._validation import check_bool, check_int, check_option, did_you_mean
from ._common import load_descr
from ._images import (
    LazyImageArray,
    _check_files_exist,
    _check_n_jobs,
    _check_root,
    _check_size,
    _find_unreadable,
    _load_image,
    _parallel_map,
    _resolve_inside,
)

__all__ = ["load_celeba", "load_fairface", "load_utkface"]

UTKFACE_RACES = ("White", "Black", "Asian", "Indian", "Others")
FAIRFACE_RACES = (
    "White",
    "Black",
    "Latino_Hispanic",
    "East Asian",
    "Southeast Asian",
    "Indian",
    "Middle Eastern",
)
FAIRFACE_AGE_BINS = (
    "0-2",
    "3-9",
    "10-19",
    "20-29",
    "30-39",
    "40-49",
    "50-59",
    "60-69",
    "more than 70",
)
_FAIRFACE_AGE_LOW = {
    b: (70 if b == "more than 70" else int(b.split("-")[0])) for b in FAIRFACE_AGE_BINS
}
_GENDERS = ("Male", "Female")
_UTKFACE_NAME = re.compile(
    r"^(?P<age>\d{1,3})_(?P<gender>[01])_(?P<race>[0-4])_(?P<date>\d+)"
    r"\.jpg(?:\.chip\.jpg)?$",
    re.IGNORECASE,
)


# ---------------------------------------------------------------------------
# Shared pieces of the loaders
# ---------------------------------------------------------------------------


def _unknown(name, value, valid):
    hint = did_you_mean(value, valid).strip()  # "(did you mean 'x'?)" or ""
    listed = ", ".join(repr(v) for v in valid)
    did = f" D{hint[2:-1]}" if hint else ""
    return ValueError(f"{name}={value!r} is not valid: expected one of {listed}.{did}")


def _feature_names(size):
    height, width = size
    return np.array(
        [f"{c}_{i}_{j}" for c in "RGB" for i in range(height) for j in range(width)],
        dtype=object,
    )


def _age_binary(age, threshold):
    return (np.asarray(age) >= threshold).astype(np.int64)


def _decode_all(resolved, root, size, n_jobs):
    """Decode every file; ``(array, {position: reason})`` of what failed."""
    out = np.empty((len(resolved), 3, *size), dtype=np.float32)
    failures = {}

    def work(start, stop):
        for i in range(start, stop):
            try:
                out[i] = _load_image(resolved[i], root, size)
            except ValueError as exc:
                if not isinstance(exc.__cause__, OSError):
                    raise  # a path leaving the folder is an error, never skipped
                failures[i] = str(exc.__cause__)

    _parallel_map(work, len(resolved), n_jobs)
    return out, failures


def _skip_unreadable(root, resolved, relpaths, lazy, size, n_jobs):
    """Leave out the files that are not readable images, with one warning.

    Returns ``(keep mask, decoded array or None, {relpath: reason})``. Lazy
    loading checks each file's signature and end marker only (no decoding);
    eager loading also decodes every file.
    """
    problems = _find_unreadable([str(p) for p in resolved], n_jobs)
    keep = np.ones(len(resolved), dtype=bool)
    keep[list(problems)] = False
    data = None
    if not lazy:
        positions = np.flatnonzero(keep)
        data, failures = _decode_all(
            [resolved[i] for i in positions], root, size, n_jobs
        )
        if failures:
            bad = positions[sorted(failures)]
            problems.update({positions[k]: v for k, v in failures.items()})
            keep[bad] = False
            data = data[np.isin(positions, bad, invert=True)]
    skipped = {relpaths[i]: problems[i] for i in sorted(problems)}
    if skipped:
        listed = "; ".join(
            f"could not read image {name!r} ({why})"
            for name, why in list(skipped.items())[:5]
        )
        more = f"; and {len(skipped) - 5} more" if len(skipped) > 5 else ""
        if not keep.any():
            raise ValueError(
                f"no readable image in {str(root)!r}: all {len(skipped)} image "
                f"file(s) are unreadable: {listed}{more}."
            )
        warnings.warn(
            f"skipped {len(skipped)} unreadable image file(s) of {len(relpaths)} in "
            f"{str(root)!r}: {listed}{more}. They are left out of the data; the "
            "Bunch's 'skipped' entry lists them all.",
            UserWarning,
            stacklevel=4,
        )
    return keep, data, skipped


def _finish(
    root,
    resolved,
    relpaths,
    frame,
    target,
    target_names,
    sensitive,
    sensitive_names,
    size,
    lazy,
    return_X_y,
    descr,
    n_jobs,
):
    keep, data, skipped = _skip_unreadable(root, resolved, relpaths, lazy, size, n_jobs)
    if not keep.all():
        resolved = [p for p, k in zip(resolved, keep) if k]
        relpaths = [p for p, k in zip(relpaths, keep) if k]
        frame = frame[keep].reset_index(drop=True)
        target = np.asarray(target)[keep]
        sensitive = np.asarray(sensitive)[keep]
    if lazy:
        data = LazyImageArray._from_checked(root, resolved, relpaths, size, n_jobs)
    target = np.asarray(target, dtype=np.int64)
    sensitive = np.asarray(sensitive, dtype=object)
    if return_X_y:
        return data, target, sensitive
    return Bunch(
        data=data,
        target=target,
        sensitive=sensitive,
        target_names=np.asarray(target_names, dtype=object),
        sensitive_names=np.asarray(sensitive_names, dtype=object),
        feature_names=_feature_names(size),
        filenames=np.asarray(relpaths, dtype=object),
        frame=frame,
        skipped=skipped,
        DESCR=descr,
    )


def _check_common(size, lazy, return_X_y, n_jobs):
    return (
        _check_size(size),
        check_bool(lazy, "lazy"),
        check_bool(return_X_y, "return_X_y"),
        _check_n_jobs(n_jobs),
    )


def _check_target_sensitive(target, sensitive, options):
    check_option(target, "target", options)
    check_option(sensitive, "sensitive", options)
    if target == sensitive:
        raise ValueError(
            f"target={target!r} and sensitive={sensitive!r} are the same attribute: "
            "expected two different ones."
        )


def _encode(codes, target, sensitive, age_threshold, races):
    """Target codes and names, group labels and names from per-attribute codes.

    ``codes`` maps "age" (0 young, 1 old), "gender" (0 Male, 1 Female) and
    "race" (index into ``races``) to int arrays.
    """
    names = {
        "age": [f"<{age_threshold}", f">={age_threshold}"],
        "gender": list(_GENDERS),
        "race": list(races),
    }
    target_names = ["young", "old"] if target == "age" else names[target]
    groups = np.array(names[sensitive], dtype=object)[codes[sensitive]]
    return codes[target], target_names, groups, names[sensitive]


# ---------------------------------------------------------------------------
# UTKFace
# ---------------------------------------------------------------------------


def load_utkface(
    path,
    *,
    size=(32, 32),
    target="age",
    sensitive="gender",
    age_threshold=30,
    lazy=False,
    return_X_y=False,
    n_jobs=None,
    on_malformed="raise",
):
    """Load UTKFace from a local folder (never downloads).

    The folder holds the images directly, named as published:
    ``[age]_[gender]_[race]_[date&time].jpg`` (the aligned and cropped
    release appends ``.chip.jpg``), with gender 0 male and 1 female and race
    0 to 4 for White, Black, Asian, Indian and Others. Other files are
    ignored; sub-folders are not searched. Licence: non-commercial research
    only (see ``DESCR``).

    Parameters
    ----------
    path : str or path-like
        The folder (e.g. ``.../UTKFace``).
    size : int or tuple of (int, int), default=(32, 32)
        Output ``(height, width)`` of every image. Images of another size
        are resized (bilinear; the aspect ratio is not kept); grayscale,
        palette and RGBA images are converted to RGB. An unreadable file is
        left out with one warning that counts and names them (see
        ``skipped`` below).
    target : {"age", "gender", "race"}, default="age"
        ``"age"``: 1 (old) when age >= ``age_threshold``, else 0 (young);
        ``"gender"``: 0 male, 1 female; ``"race"``: 0..4 as in the file names.
    sensitive : {"gender", "race", "age"}, default="gender"
        Group labels: ``"Male"``/``"Female"``; the race names; or
        ``"<T"``/``">=T"`` for ``T = age_threshold``.
    age_threshold : int, default=30
        Age (in years) from which a person counts as old.
    lazy : bool, default=False
        If True, ``data`` is a :class:`LazyImageArray` that reads images on
        indexing (for folders too large for memory).
    return_X_y : bool, default=False
        If True, return ``(data, target, sensitive)`` instead of a Bunch.
    n_jobs : int or None, default=None
        Threads that check and decode the images (and, with ``lazy=True``,
        decode every batch read later): ``None`` uses ``min(8,
        os.cpu_count())``, ``-1`` every CPU, ``1`` one thread.
    on_malformed : {"raise", "skip"}, default="raise"
        What to do with a ``.jpg`` whose name does not follow the pattern
        (the public release has a few): raise a ValueError naming it, or leave
        it out with a warning.

    Returns
    -------
    data : Bunch
        ``data`` (float32 array of shape (n, 3, height, width) in [0, 1], or
        a LazyImageArray), ``target`` (int64), ``sensitive`` (str labels),
        ``target_names``, ``sensitive_names``, ``feature_names``,
        ``filenames`` (relative to ``path``, sorted), ``frame`` (DataFrame of
        filename, age, gender, race from the file names), ``skipped``
        (unreadable file -> reason) and ``DESCR``.
    (data, target, sensitive) : tuple
        If ``return_X_y`` is True.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from PIL import Image
    >>> from skfral.datasets import load_utkface
    >>> tmp = tempfile.TemporaryDirectory()
    >>> folder = Path(tmp.name)  # a folder in the data set's layout
    >>> for name in ["25_0_0_20170101.jpg", "61_1_2_20170102.jpg.chip.jpg"]:
    ...     Image.new("RGB", (4, 4), (200, 100, 0)).save(folder / name)
    >>> faces = load_utkface(folder, size=(8, 8))
    >>> faces.data.shape, faces.target.tolist(), faces.sensitive.tolist()
    ((2, 3, 8, 8), [0, 1], ['Male', 'Female'])
    >>> tmp.cleanup()
    """
    size, lazy, return_X_y, n_jobs = _check_common(size, lazy, return_X_y, n_jobs)
    _check_target_sensitive(target, sensitive, ("age", "gender", "race"))
    age_threshold = check_int(age_threshold, "age_threshold", min_value=1)
    check_option(on_malformed, "on_malformed", ("raise", "skip"))
    root = _check_root(path, "UTKFace")

    rows, malformed = [], []
    with os.scandir(root) as entries:
        names = sorted(e.name for e in entries)
    for name in names:
        if not name.lower().endswith((".jpg", ".jpeg")):
            continue
        resolved = _resolve_inside(root, name, "UTKFace file")
        if not resolved.is_file():
            continue
        match = _UTKFACE_NAME.match(name)
        if match is None:
            malformed.append(name)
            continue
        rows.append(
            (
                name,
                resolved,
                int(match["age"]),
                int(match["gender"]),
                int(match["race"]),
            )
        )
    if malformed:
        shown = ", ".join(repr(m) for m in malformed[:5])
        more = f" and {len(malformed) - 5} more" if len(malformed) > 5 else ""
        message = (
            f"{len(malformed)} UTKFace file name(s) in {str(root)!r} are malformed: "
            f"{shown}{more}. Expected [age]_[gender]_[race]_[date&time].jpg with "
            "gender 0 (male) or 1 (female) and race 0-4 (White, Black, Asian, Indian, "
            "Others)"
        )
        if on_malformed == "raise":
            raise ValueError(message + "; pass on_malformed='skip' to leave them out.")
        warnings.warn(message + "; they were skipped.", UserWarning, stacklevel=2)
    if not rows:
        raise FileNotFoundError(
            f"no UTKFace image in {str(root)!r}: expected files named "
            "[age]_[gender]_[race]_[date&time].jpg directly in this folder."
        )

    relpaths = [r[0] for r in rows]
    resolved = [r[1] for r in rows]
    age = np.array([r[2] for r in rows], dtype=np.int64)
    gender = np.array([r[3] for r in rows], dtype=np.int64)
    race = np.array([r[4] for r in rows], dtype=np.int64)
    frame = pd.DataFrame(
        {"filename": relpaths, "age": age, "gender": gender, "race": race}
    )

    codes = {"age": _age_binary(age, age_threshold), "gender": gender, "race": race}
    y, target_names, s, sensitive_names = _encode(
        codes, target, sensitive, age_threshold, UTKFACE_RACES
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
        load_descr("utkface.rst"),
        n_jobs,
    )


# ---------------------------------------------------------------------------
# CelebA
# ---------------------------------------------------------------------------

_CELEBA_SPLITS = {"train": 0, "valid": 1, "test": 2}


def _read_celeba_attributes(file):
    try:
        with open(file, encoding="utf-8") as fh:
            count_line = fh.readline()
            header = fh.readline().split()
            table = pd.read_csv(fh, sep=r"\s+", header=None, dtype={0: str})
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise ValueError(f"{str(file)!r} is malformed: {exc}") from None
    except pd.errors.EmptyDataError:
        table = pd.DataFrame()
    try:
        count = int(count_line.strip())
    except ValueError:
        raise ValueError(
            f"{str(file)!r} is malformed: line 1 is {count_line.strip()!r}, expected "
            "the number of images."
        ) from None
    if not header:
        raise ValueError(
            f"{str(file)!r} is malformed: line 2 should list the attribute names."
        )
    if table.shape[1] != len(header) + 1:
        raise ValueError(
            f"{str(file)!r} is malformed: rows have {table.shape[1]} fields, expected "
            f"a file name and {len(header)} values (one per attribute of line 2)."
        )
    if len(table) != count:
        raise ValueError(
            f"{str(file)!r} is malformed: line 1 announces {count} images but "
            f"{len(table)} rows follow."
        )
    values = table.iloc[:, 1:]
    bad = ~values.isin([1, -1])
    if bad.to_numpy().any():
        row = int(np.flatnonzero(bad.to_numpy().any(axis=1))[0])
        raise ValueError(
            f"{str(file)!r} is malformed: line {row + 3} ({table.iloc[row, 0]!r}) has "
            "a value other than 1 or -1."
        )
    attributes = pd.DataFrame(values.to_numpy().astype(np.int8), columns=header)
    attributes.insert(0, "filename", table.iloc[:, 0].to_numpy())
    return attributes


def load_celeba(
    path,
    *,
    size=(32, 32),
    target="Smiling",
    sensitive="Male",
    split="all",
    lazy=False,
    return_X_y=False,
    n_jobs=None,
):
    """Load CelebA (aligned and cropped images) from a local folder (never downloads).

    Layout, as published::

        path/
            list_attr_celeba.txt      line 1: number of images; line 2: the 40
                                      attribute names; then "000001.jpg  1 -1 ..."
            list_eval_partition.txt   optional: "000001.jpg 0"
                                      (0 train, 1 valid, 2 test)
            img_align_celeba/000001.jpg ...

    Licence: non-commercial research only (see ``DESCR``).

    Parameters
    ----------
    path : str or path-like
        The CelebA folder.
    size : int or tuple of (int, int), default=(32, 32)
        Output ``(height, width)`` of every image. Images of another size
        are resized (bilinear; the aspect ratio is not kept); grayscale,
        palette and RGBA images are converted to RGB. An unreadable file is
        left out with one warning that counts and names them (see
        ``skipped`` below).
    target : str, default="Smiling"
        One of the 40 attributes of ``list_attr_celeba.txt``; 1 where it is
        present (``1``), else 0.
    sensitive : str, default="Male"
        Another attribute; labels ``"Male"``/``"Female"`` for ``"Male"``,
        else the attribute name / ``"not_<name>"``.
    split : {"all", "train", "valid", "test"}, default="all"
        Official partition to keep (needs ``list_eval_partition.txt``).
    lazy : bool, default=False
        If True, ``data`` is a :class:`LazyImageArray` (images read on indexing).
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
        ``sensitive_names``, ``feature_names``, ``filenames``, ``frame``
        (filename and the 40 attributes as -1/1 int8), ``skipped``
        (unreadable file -> reason) and ``DESCR``.
    (data, target, sensitive) : tuple
        If ``return_X_y`` is True.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from PIL import Image
    >>> from skfral.datasets import load_celeba
    >>> tmp = tempfile.TemporaryDirectory()
    >>> folder = Path(tmp.name)  # a folder in the data set's layout
    >>> (folder / "img_align_celeba").mkdir()
    >>> for name in ["000001.jpg", "000002.jpg"]:
    ...     Image.new("RGB", (4, 4)).save(folder / "img_align_celeba" / name)
    >>> _ = (folder / "list_attr_celeba.txt").write_text(
    ...     "2\\nMale Smiling\\n000001.jpg  1 -1\\n000002.jpg -1  1\\n")
    >>> faces = load_celeba(folder, size=4)
    >>> faces.data.shape, faces.target.tolist(), faces.sensitive.tolist()
    ((2, 3, 4, 4), [0, 1], ['Male', 'Female'])
    >>> tmp.cleanup()
    """
    size, lazy, return_X_y, n_jobs = _check_common(size, lazy, return_X_y, n_jobs)
    check_option(split, "split", ("all", "train", "valid", "test"))
    root = _check_root(path, "CelebA")
    attr_file = _resolve_inside(root, "list_attr_celeba.txt", "CelebA attribute file")
    if not attr_file.is_file():
        raise FileNotFoundError(
            f"list_attr_celeba.txt not found in {str(root)!r}: expected the CelebA "
            "folder with list_attr_celeba.txt and img_align_celeba/."
        )
    attributes = _read_celeba_attributes(attr_file)
    names = list(attributes.columns[1:])
    for arg, value in (("target", target), ("sensitive", sensitive)):
        if value not in names:
            raise _unknown(arg, value, names)
    if target == sensitive:
        raise ValueError(
            f"target={target!r} and sensitive={sensitive!r} are the same attribute: "
            "expected two different ones."
        )

    if split != "all":
        part_file = _resolve_inside(
            root, "list_eval_partition.txt", "CelebA partition file"
        )
        if not part_file.is_file():
            raise FileNotFoundError(
                f"split={split!r} needs list_eval_partition.txt, not found in "
                f"{str(root)!r}: add it or use split='all'."
            )
        try:
            partition = pd.read_csv(part_file, sep=r"\s+", header=None, dtype=str)
        except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise ValueError(f"{str(part_file)!r} is malformed: {exc}") from None
        if partition.shape[1] != 2:
            raise ValueError(
                f"{str(part_file)!r} is malformed: expected two columns, file name and "
                "partition (0, 1 or 2)."
            )
        lookup = dict(zip(partition[0], partition[1]))
        missing = [f for f in attributes["filename"] if f not in lookup]
        if missing:
            raise ValueError(
                f"{len(missing)} image(s) of list_attr_celeba.txt have no partition in "
                f"{str(part_file)!r}, e.g. {missing[0]!r}."
            )
        keep = attributes["filename"].map(lookup) == str(_CELEBA_SPLITS[split])
        attributes = attributes[keep.to_numpy()].reset_index(drop=True)

    image_dir = root / "img_align_celeba"
    if not image_dir.is_dir():
        raise FileNotFoundError(
            f"img_align_celeba/ not found in {str(root)!r}: expected the aligned and "
            "cropped CelebA images there."
        )
    relpaths = [f"img_align_celeba/{f}" for f in attributes["filename"]]
    resolved = [_resolve_inside(root, rel, "CelebA image") for rel in relpaths]
    _check_files_exist(resolved, relpaths, root, "CelebA")

    y = (attributes[target].to_numpy() == 1).astype(np.int64)
    present = attributes[sensitive].to_numpy() == 1
    if sensitive == "Male":
        sensitive_names = ["Female", "Male"]
    else:
        sensitive_names = [f"not_{sensitive}", sensitive]
    s = np.array(sensitive_names, dtype=object)[present.astype(np.int64)]
    return _finish(
        root,
        resolved,
        relpaths,
        attributes,
        y,
        [f"not_{target}", target],
        s,
        sensitive_names,
        size,
        lazy,
        return_X_y,
        load_descr("celeba.rst"),
        n_jobs,
    )


# ---------------------------------------------------------------------------
# FairFace
# ---------------------------------------------------------------------------

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
