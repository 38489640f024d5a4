"""The ``labels-csv`` image-folder layout: a CSV lists the images, labels and groups.

One row per image: its file (relative to the folder), its label (blank: not
labelled yet) and its group. The layout of ``skfral query --image-folder DIR
--layout labels-csv --labels-file FILE``, where people label the images a
query picks and ``skfral merge`` fills the blanks. numpy, pandas and PIL only.
"""

from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image, UnidentifiedImageError
from sklearn.utils import Bunch

from ..utils._validation import check_int, did_you_mean

__all__ = ["load_labels_csv"]


def _read_image(path, size):
    with Image.open(path) as im:
        im = im.convert("RGB").resize((size, size), Image.BILINEAR)
        arr = np.asarray(im, dtype=np.float32) / 255.0
    return arr.transpose(2, 0, 1)


def load_labels_csv(
    path,
    *,
    labels_file,
    target="label",
    sensitive="group",
    file_column="file",
    image_size=32,
):
    """Load an image folder described by a labels CSV (blank label = unlabelled).

    Parameters
    ----------
    path : str or path-like
        The image folder.
    labels_file : str or path-like
        A CSV with one row per image: ``file_column`` (a path relative to
        ``path``), ``target`` (the label; blank when not labelled yet) and
        ``sensitive`` (the group; required). Other columns are kept in
        ``frame``.
    target : str, default="label"
        The label column.
    sensitive : str or list of str, default="group"
        The group column(s).
    file_column : str, default="file"
        The column naming the image files.
    image_size : int, default=32
        Every image is converted to RGB and resized to a square of this side.

    Returns
    -------
    data : Bunch
        ``data`` (float32 array of shape (n, 3, image_size, image_size) in
        [0, 1]), ``target`` (the label column as read: missing where blank),
        ``sensitive``, ``frame`` (the labels CSV, every cell as text),
        ``file_column`` and ``image_paths`` (absolute paths).

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from PIL import Image
    >>> from skfral.datasets import load_image_folder
    >>> tmp = Path(tempfile.mkdtemp())
    >>> for name in ("a.png", "b.png"):
    ...     Image.new("RGB", (8, 8), "red").save(tmp / name)
    >>> _ = (tmp / "labels.csv").write_text("file,label,group\\na.png,cat,x\\nb.png,,y\\n")
    >>> out = load_image_folder(tmp, layout="labels-csv", labels_file=tmp / "labels.csv",
    ...                         target="label", sensitive="group", image_size=4)
    >>> out.data.shape, out.target.isna().tolist()
    ((2, 3, 4, 4), [False, True])
    """
    folder = Path(path)
    if not folder.is_dir():
        raise FileNotFoundError(
            f"path={str(folder)!r} is not a folder: expected the folder of the images "
            "named in the labels file."
        )
    labels_file = Path(labels_file)
    if not labels_file.is_file():
        raise FileNotFoundError(
            f"labels_file={str(labels_file)!r} does not exist: expected a CSV with "
            f"{file_column}, {target} and group columns."
        )
    size = check_int(image_size, "image_size", min_value=4)
    try:
        frame = pd.read_csv(labels_file, dtype=str)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise ValueError(
            f"labels_file={str(labels_file)!r} could not be read as CSV "
            f"({str(exc).splitlines()[0] if str(exc) else type(exc).__name__}): "
            f"expected a header line with {file_column}, {target} and the group column."
        ) from None
    names = [sensitive] if isinstance(sensitive, str) else list(sensitive)
    for arg, name in [("file_column", file_column), ("target", target)] + [
        ("sensitive", n) for n in names
    ]:
        if name not in frame.columns:
            raise ValueError(
                f"{arg}={name!r} is not a column of {str(labels_file)!r}"
                f"{did_you_mean(name, list(frame.columns))}: expected one of "
                f"{', '.join(frame.columns)}."
            )
    if len(frame) == 0:
        raise ValueError(
            f"labels_file={str(labels_file)!r} has no data row: expected one row per "
            "image."
        )
    files = frame[file_column]
    if files.isna().any():
        rows = np.flatnonzero(files.isna().to_numpy())[:5].tolist()
        raise ValueError(
            f"{file_column!r} is empty in rows {rows} of {str(labels_file)!r}: every "
            "row needs an image file."
        )
    dup = files[files.duplicated()]
    if len(dup):
        raise ValueError(
            f"{file_column!r} lists {', '.join(sorted(set(dup))[:5])} more than once "
            f"in {str(labels_file)!r}: expected one row per image."
        )
    image_paths, data, bad = [], [], []
    for name in files:
        file = folder / name
        image_paths.append(str(file.resolve()))
        try:
            data.append(_read_image(file, size))
        except (OSError, UnidentifiedImageError, ValueError):
            bad.append(name)
    if bad:
        raise ValueError(
            f"{len(bad)} image(s) named in {str(labels_file)!r} are missing or not "
            f"readable in {str(folder)!r}: {', '.join(bad[:10])}"
            + (" ..." if len(bad) > 10 else "")
            + ". Fix or remove those rows."
        )
    s = frame[names[0]] if len(names) == 1 else frame[names]
    return Bunch(
        data=np.stack(data).astype(np.float32),
        target=frame[target],
        sensitive=s,
        frame=frame,
        file_column=file_column,
        image_paths=image_paths,
    )
