"""One entry point for face-image folders, and a generator of small fake ones.

:func:`load_image_folder` dispatches on the folder's layout to
:func:`load_utkface`, :func:`load_celeba` or :func:`load_fairface`;
:func:`make_face_folder` writes a small folder in one of those layouts (files
named and annotated as the real data sets are) whose images carry a learnable
signal of every attribute, for tests, examples and benchmarks. numpy, pandas
and PIL only.
"""

import inspect
import os
from pathlib import Path

import numpy as np
from PIL import Image

from ..utils._validation import check_int, check_random_state, unknown_option_error
from ._celeba import load_celeba
from ._face_loading import FAIRFACE_RACES
from ._fairface import load_fairface
from ._images import _parallel_map
from ._utkface import load_utkface

__all__ = ["load_image_folder", "make_face_folder"]

_LOADERS = {"utkface": load_utkface, "celeba": load_celeba, "fairface": load_fairface}
_FIXED = ("path", "size", "target", "sensitive", "lazy", "n_jobs")


def load_image_folder(
    path,
    *,
    layout,
    target,
    sensitive,
    image_size=64,
    lazy=True,
    n_jobs=None,
    **options,
):
    """Load a face-image folder in the UTKFace, CelebA or FairFace layout.

    The one entry point used by ``skfral run --image-folder``: it calls
    :func:`load_utkface`, :func:`load_celeba` or :func:`load_fairface` and
    returns their Bunch. Images are read lazily by default (a
    :class:`LazyImageArray`, decoded batch by batch on threads), so a pool of
    any size fits in memory.

    Bad input: a folder with no image of the layout is an error; an
    unreadable file (empty, not an image, a truncated JPEG or PNG) is left out
    with one warning that counts and names the files (``skipped`` in the Bunch
    lists them all); images of any size are resized to ``image_size``
    (bilinear, aspect ratio not kept); grayscale, palette and RGBA images are
    converted to RGB. With ``lazy=True`` the files are checked without being
    decoded (signature and end marker); a file damaged inside is reported,
    by name, when it is first read.

    Parameters
    ----------
    path : str or path-like
        The folder, laid out as the data set is published (see the loader of
        each layout).
    layout : {"utkface", "celeba", "fairface", "labels-csv"}
        The folder's layout. ``"labels-csv"``: a CSV (option ``labels_file``)
        lists each image's file, label (blank: not labelled yet) and group;
        see :func:`skfral.datasets._labels_csv.load_labels_csv` (used by
        ``skfral query --image-folder``).
    target : str
        Attribute to predict: ``"age"``, ``"gender"`` or ``"race"`` for
        UTKFace and FairFace; one of the 40 attributes of
        ``list_attr_celeba.txt`` (e.g. ``"Smiling"``) for CelebA.
    sensitive : str
        Attribute that defines the groups (same choices as ``target``).
    image_size : int or tuple of (int, int), default=64
        Output ``(height, width)`` of every image (an int for a square).
    lazy : bool, default=True
        If True, ``data`` is a :class:`LazyImageArray`; if False, a float32
        array of shape (n_images, 3, height, width) in memory.
    n_jobs : int or None, default=None
        Threads that check and decode images: ``None`` uses ``min(8,
        os.cpu_count())``, ``-1`` every CPU.
    **options : dict
        Options of the layout's loader: ``age_threshold`` and
        ``on_malformed`` (UTKFace), ``split`` (CelebA, FairFace),
        ``age_threshold`` (FairFace), ``return_X_y``.

    Returns
    -------
    data : Bunch
        The loader's Bunch: ``data``, ``target``, ``sensitive``,
        ``target_names``, ``sensitive_names``, ``feature_names``,
        ``filenames``, ``frame``, ``skipped`` and ``DESCR`` (or ``(data,
        target, sensitive)`` with ``return_X_y=True``).

    See Also
    --------
    make_face_folder : Write a small generated folder in one of the layouts.
    load_utkface, load_celeba, load_fairface : The loader of each layout.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from skfral.datasets import load_image_folder, make_face_folder
    >>> tmp = tempfile.TemporaryDirectory()
    >>> folder = make_face_folder(Path(tmp.name) / "faces", n_images=20,
    ...                           image_size=16, random_state=0)
    >>> faces = load_image_folder(folder, layout="utkface", target="gender",
    ...                           sensitive="race", image_size=16)
    >>> faces.data.shape, faces.data[:2].shape, faces.target.shape
    ((20, 3, 16, 16), (2, 3, 16, 16), (20,))
    >>> tmp.cleanup()
    """
    if layout == "labels-csv":  # a CSV of file, label (blank: unlabelled), group
        from ._labels_csv import load_labels_csv

        return load_labels_csv(
            path, target=target, sensitive=sensitive, image_size=image_size, **options
        )
    if layout not in _LOADERS:
        raise unknown_option_error("layout", layout, list(_LOADERS), what="layout")
    loader = _LOADERS[layout]
    accepted = [p for p in inspect.signature(loader).parameters if p not in _FIXED]
    for name in options:
        if name not in accepted:
            raise unknown_option_error(
                "options", name, accepted, what=f"option of the {layout!r} layout"
            )
    return loader(
        path,
        size=image_size,
        target=target,
        sensitive=sensitive,
        lazy=lazy,
        n_jobs=n_jobs,
        **options,
    )


# ---------------------------------------------------------------------------
# make_face_folder
# ---------------------------------------------------------------------------

CELEBA_ATTRIBUTES = (
    "5_o_Clock_Shadow Arched_Eyebrows Attractive Bags_Under_Eyes Bald Bangs Big_Lips "
    "Big_Nose Black_Hair Blond_Hair Blurry Brown_Hair Bushy_Eyebrows Chubby "
    "Double_Chin Eyeglasses Goatee Gray_Hair Heavy_Makeup High_Cheekbones Male "
    "Mouth_Slightly_Open Mustache Narrow_Eyes No_Beard Oval_Face Pale_Skin "
    "Pointy_Nose Receding_Hairline Rosy_Cheeks Sideburns Smiling Straight_Hair "
    "Wavy_Hair Wearing_Earrings Wearing_Hat Wearing_Lipstick Wearing_Necklace "
    "Wearing_Necktie Young"
).split()
_RACE_SHARES = {
    "utkface": (0.45, 0.2, 0.15, 0.12, 0.08),
    "fairface": (0.3, 0.15, 0.15, 0.12, 0.1, 0.1, 0.08),
    "celeba": (0.8, 0.2),  # skin tone: not pale / pale (Pale_Skin)
}
_FAIRFACE_BINS = ((0, "0-2"), (3, "3-9"), (10, "10-19"), (20, "20-29"), (30, "30-39"))
_FAIRFACE_BINS += ((40, "40-49"), (50, "50-59"), (60, "60-69"), (70, "more than 70"))


def _attributes(layout, n, rng):
    """Per-image attributes: race/tone index, gender, age, smiling, glasses."""
    shares = np.asarray(_RACE_SHARES[layout])
    race = rng.choice(len(shares), size=n, p=shares)
    minority = race >= max(2, len(shares) - 2) if layout != "celeba" else race == 1
    gender = (rng.rand(n) < 0.5).astype(np.int64)  # 1 female
    # Class imbalance inside the minority groups (as in the real data sets).
    old = rng.rand(n) < np.where(minority, 0.25, 0.5)
    age = np.where(old, rng.randint(30, 91, size=n), rng.randint(1, 30, size=n))
    smiling = rng.rand(n) < np.where(minority, 0.3, 0.5)
    glasses = rng.rand(n) < 0.15
    # Hard samples: the picture shows the other value of a binary attribute,
    # more often in the minority groups (the accuracy ceiling is lower there).
    flip_rate = np.where(minority, 0.12, 0.04)
    flips = {k: rng.rand(n) < flip_rate for k in ("gender", "old", "smiling")}
    return {
        "shown_gender": gender ^ flips["gender"],
        "shown_old": old ^ flips["old"],
        "shown_smiling": smiling ^ flips["smiling"],
        "race": race,
        "minority": minority,
        "gender": gender,
        "age": age,
        "old": old,
        "smiling": smiling,
        "glasses": glasses,
    }


def _tints(n_races):
    angles = np.linspace(0, 2 * np.pi, n_races, endpoint=False)
    return 0.12 * np.stack(
        [np.cos(angles), np.cos(angles + 2.1), np.cos(angles + 4.2)], axis=1
    )


def _draw(size, attrs, i, tints, seed):
    """One image (size, size, 3) uint8 with the attributes of image ``i``."""
    rng = np.random.RandomState(seed)
    h = size
    img = np.full((h, h, 3), 0.45, dtype=np.float64)
    img += tints[attrs["race"][i]]
    amp = 0.08 if attrs["minority"][i] else 0.12
    q = max(1, h // 4)
    # gender: a bright band at the top (male) or at the bottom (female)
    rows = slice(0, q) if attrs["shown_gender"][i] == 0 else slice(h - q, h)
    img[rows, :, :] += amp
    # age: the centre square is brighter for old, darker for young
    c0, c1 = h // 3, h - h // 3
    img[c0:c1, c0:c1, :] += amp if attrs["shown_old"][i] else -amp
    # smiling: a wide bar under the centre; eyeglasses: two dark squares
    m = int(0.72 * h)
    width = (
        slice(h // 5, h - h // 5)
        if attrs["shown_smiling"][i]
        else slice(2 * h // 5, h - 2 * h // 5)
    )
    img[m : m + max(1, h // 8), width, :] += amp
    if attrs["glasses"][i]:
        e = max(1, h // 8)
        y0 = h // 3 - e
        img[y0 : y0 + e, h // 4 : h // 4 + e, :] -= 2 * amp
        img[y0 : y0 + e, h - h // 4 - e : h - h // 4, :] -= 2 * amp
    shift = rng.randint(-max(1, h // 16), max(1, h // 16) + 1, size=2)
    img = np.roll(img, tuple(shift), axis=(0, 1))
    img += rng.normal(0.0, 0.2, size=img.shape)
    return (np.clip(img, 0.0, 1.0) * 255).round().astype(np.uint8)


def _write_images(root, relpaths, size, attrs, seeds, tints, n_jobs=None):
    def work(start, stop):
        for i in range(start, stop):
            pixels = _draw(size, attrs, i, tints, seeds[i])
            Image.fromarray(pixels, "RGB").save(root / relpaths[i], quality=90)

    _parallel_map(work, len(relpaths), n_jobs)


def make_face_folder(
    path, *, layout="utkface", n_images=100, image_size=32, random_state=None
):
    """Write a small generated face-attribute folder in a real data set's layout.

    For tests, examples and benchmarks where the real data cannot be shipped:
    JPEG files named and annotated exactly as UTKFace, CelebA or FairFace
    publish them, so :func:`load_image_folder` reads them as it reads the real
    ones. The pictures are not faces: every attribute is drawn as a simple
    pattern under per-pixel noise and a small random shift, so any of them is
    learnable by a small CNN. Gender is a bright band (top for male, bottom
    for female), age a brighter (old) or darker (young) centre square, smiling
    a wider bar below the centre, eyeglasses two dark squares, and race (skin
    tone for CelebA) a colour tint. The minority groups (the two rarest races;
    pale skin for CelebA) get a weaker pattern and fewer old and smiling
    people, so that a model is less accurate on them, as on the real data.

    Parameters
    ----------
    path : str or path-like
        Folder to create (parents included). It must not exist or be empty:
        nothing is ever overwritten.
    layout : {"utkface", "celeba", "fairface"}, default="utkface"
        ``"utkface"``: ``[age]_[gender]_[race]_[date&time].jpg.chip.jpg``
        files in the folder. ``"celeba"``: ``img_align_celeba/000001.jpg``
        ..., ``list_attr_celeba.txt`` (the 40 attributes; ``Male``,
        ``Young``, ``Smiling``, ``Eyeglasses`` and ``Pale_Skin`` carry the
        patterns, the others are random) and ``list_eval_partition.txt``
        (80/10/10). ``"fairface"``: ``train/1.jpg`` ..., ``val/1.jpg`` ...
        and ``fairface_label_train.csv`` / ``fairface_label_val.csv``
        (80/20; age bins, 7 races).
    n_images : int, default=100
        Number of images (at least 2).
    image_size : int, default=32
        Side of the square images, in pixels (at least 8).
    random_state : int, RandomState instance or None, default=None
        Seeds the attributes and the pixels (the same seed writes the same
        files).

    Returns
    -------
    path : pathlib.Path
        The folder, ready for :func:`load_image_folder`.

    See Also
    --------
    load_image_folder : Read the folder.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from skfral.datasets import load_image_folder, make_face_folder
    >>> tmp = tempfile.TemporaryDirectory()
    >>> folder = make_face_folder(Path(tmp.name) / "celeba", layout="celeba",
    ...                           n_images=10, image_size=16, random_state=0)
    >>> sorted(p.name for p in folder.iterdir())
    ['img_align_celeba', 'list_attr_celeba.txt', 'list_eval_partition.txt']
    >>> faces = load_image_folder(folder, layout="celeba", target="Smiling",
    ...                           sensitive="Male", image_size=16)
    >>> len(faces.target), sorted(set(faces.sensitive))
    (10, ['Female', 'Male'])
    >>> tmp.cleanup()
    """
    if layout not in _LOADERS:
        raise unknown_option_error("layout", layout, list(_LOADERS), what="layout")
    n_images = check_int(n_images, "n_images", min_value=2)
    image_size = check_int(image_size, "image_size", min_value=8)
    rng = check_random_state(random_state, "random_state")
    if not isinstance(path, str | os.PathLike):
        raise TypeError(
            f"path={path!r} has type {type(path).__name__}: expected a str or "
            "os.PathLike naming the folder to create."
        )
    root = Path(path).expanduser()
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise FileExistsError(
            f"path={str(path)!r} already exists and is not an empty folder: expected a "
            "new or empty folder (make_face_folder never overwrites files)."
        )
    root.mkdir(parents=True, exist_ok=True)

    attrs = _attributes(layout, n_images, rng)
    seeds = rng.randint(0, 2**31 - 1, size=n_images)
    tints = _tints(len(_RACE_SHARES[layout]))
    if layout == "utkface":
        relpaths = [
            f"{a}_{g}_{r}_{20170101000000000 + i}.jpg.chip.jpg"
            for i, (a, g, r) in enumerate(
                zip(attrs["age"], attrs["gender"], attrs["race"])
            )
        ]
        _write_images(root, relpaths, image_size, attrs, seeds, tints)
    elif layout == "celeba":
        (root / "img_align_celeba").mkdir()
        relpaths = [f"img_align_celeba/{i + 1:06d}.jpg" for i in range(n_images)]
        _write_images(root, relpaths, image_size, attrs, seeds, tints)
        values = np.where(rng.rand(n_images, len(CELEBA_ATTRIBUTES)) < 0.3, 1, -1)
        known = {
            "Male": attrs["gender"] == 0,
            "Young": ~attrs["old"],
            "Smiling": attrs["smiling"],
            "Eyeglasses": attrs["glasses"],
            "Pale_Skin": attrs["race"] == 1,
        }
        for name, present in known.items():
            values[:, CELEBA_ATTRIBUTES.index(name)] = np.where(present, 1, -1)
        lines = [str(n_images), " ".join(CELEBA_ATTRIBUTES)]
        lines += [
            f"{Path(rel).name} " + " ".join(f"{v:2d}" for v in row)
            for rel, row in zip(relpaths, values)
        ]
        (root / "list_attr_celeba.txt").write_text("\n".join(lines) + "\n")
        part = np.where(
            np.arange(n_images) < 0.8 * n_images,
            0,
            np.where(np.arange(n_images) < 0.9 * n_images, 1, 2),
        )
        (root / "list_eval_partition.txt").write_text(
            "".join(f"{Path(rel).name} {p}\n" for rel, p in zip(relpaths, part))
        )
    else:
        n_train = min(n_images - 1, max(1, int(round(0.8 * n_images))))
        split = np.where(np.arange(n_images) < n_train, "train", "val")
        for part in ("train", "val"):
            (root / part).mkdir()
        numbers = np.where(
            split == "train", np.arange(n_images), np.arange(n_images) - n_train
        )
        relpaths = [f"{s}/{k + 1}.jpg" for s, k in zip(split, numbers)]
        _write_images(root, relpaths, image_size, attrs, seeds, tints)
        lows = np.array([low for low, _ in _FAIRFACE_BINS])
        bins = np.array([name for _, name in _FAIRFACE_BINS], dtype=object)
        age_bin = bins[np.searchsorted(lows, attrs["age"], side="right") - 1]
        for part in ("train", "val"):
            rows = ["file,age,gender,race,service_test"]
            for i in np.flatnonzero(split == part):
                rows.append(
                    f"{relpaths[i]},{age_bin[i]},"
                    f"{('Male', 'Female')[attrs['gender'][i]]},"
                    f"{FAIRFACE_RACES[attrs['race'][i]]},{bool(rng.rand() < 0.5)}"
                )
            (root / f"fairface_label_{part}.csv").write_text("\n".join(rows) + "\n")
    return root
