"""CelebA (aligned and cropped) from a local folder: 40 binary attributes."""

import numpy as np
import pandas as pd

from ..utils._validation import check_option
from ._common import load_descr
from ._face_loading import (
    _check_common,
    _finish,
    _unknown,
)
from ._images import (
    _check_files_exist,
    _check_root,
    _resolve_inside,
)

__all__ = ["load_celeba"]


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
