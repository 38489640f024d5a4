"""UTKFace from a local folder: ages, genders and races in the file names."""

import os
import re
import warnings

import numpy as np
import pandas as pd

from ..utils._validation import check_int, check_option
from ._common import load_descr
from ._face_loading import (
    UTKFACE_RACES,
    _age_binary,
    _check_common,
    _check_target_sensitive,
    _encode,
    _finish,
)
from ._images import (
    _check_root,
    _resolve_inside,
)

__all__ = ["load_utkface"]

_UTKFACE_NAME = re.compile(
    r"^(?P<age>\d{1,3})_(?P<gender>[01])_(?P<race>[0-4])_(?P<date>\d+)"
    r"\.jpg(?:\.chip\.jpg)?$",
    re.IGNORECASE,
)


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
