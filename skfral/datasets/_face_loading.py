"""What the face loaders share: label constants, decoding, skipping, the Bunch.

The loaders, one module per layout: :mod:`._utkface`, :mod:`._celeba`,
:mod:`._fairface`.

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

import warnings

import numpy as np
from sklearn.utils import Bunch

from ..utils._validation import check_bool, check_option, did_you_mean
from ._images import (
    LazyImageArray,
    _check_n_jobs,
    _check_size,
    _find_unreadable,
    _load_image,
    _parallel_map,
)

__all__ = ["FAIRFACE_AGE_BINS", "FAIRFACE_RACES", "UTKFACE_RACES"]

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
