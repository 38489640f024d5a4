"""Image benchmark with a shifted minority group, from scikit-learn's digits."""

import numpy as np
from sklearn.datasets import load_digits
from sklearn.utils import Bunch

from ..utils._validation import (
    check_bool,
    check_int,
    check_option,
    check_random_state,
    check_real,
    largest_remainder,
)
from ._common import load_descr

__all__ = ["load_group_digits"]

SHIFTS = ("invert", "blur", "rotate")


def _blur(images):
    """3x3 binomial blur ([1, 2, 1] / 4 in each direction), edges repeated."""
    kernel = np.array([0.25, 0.5, 0.25])
    padded = np.pad(images, ((0, 0), (1, 1), (1, 1)), mode="edge")
    rows = sum(w * padded[:, i : i + images.shape[1], :] for i, w in enumerate(kernel))
    return sum(w * rows[:, :, j : j + images.shape[2]] for j, w in enumerate(kernel))


def _apply_shift(images, shifts):
    for name in shifts:
        if name == "invert":
            images = 1.0 - images
        elif name == "blur":
            images = _blur(images)
        else:  # rotate
            images = np.rot90(images, k=1, axes=(1, 2))
    return images


def _check_shift(shift):
    shifts = (shift,) if isinstance(shift, str) else shift
    try:
        shifts = tuple(shifts)
    except TypeError:
        shifts = ()
    if not shifts:
        listed = ", ".join(repr(s) for s in SHIFTS)
        raise ValueError(
            f"shift={shift!r} is invalid: expected one of {listed} or a sequence of "
            "them (applied in order)."
        )
    for name in shifts:
        check_option(name, "shift", SHIFTS)
    return shifts


def load_group_digits(
    *,
    minority_fraction=0.2,
    shift=("invert", "blur"),
    noise=0.1,
    class_imbalance=0.25,
    n_class=10,
    target="digit",
    return_X_y=False,
    random_state=0,
):
    """Load digits with a rarer, visually shifted and harder minority group.

    Built from scikit-learn's bundled :func:`~sklearn.datasets.load_digits`
    (1,797 8x8 images, nothing downloaded). A random ``minority_fraction`` of
    the images forms group 1: it is shifted (by default contrast inversion
    then a 3x3 blur), gets Gaussian pixel noise, and is class-imbalanced (its
    class shares decay geometrically from 1 down to ``class_imbalance``).
    Group 0 keeps the original images. Pixel values are scaled to [0, 1]
    (clipped after the noise).

    Parameters
    ----------
    minority_fraction : float, default=0.2
        Share of the images in the minority group, in (0, 0.5].
    shift : {"invert", "blur", "rotate"} or sequence of them, default=("invert", "blur")
        Transformations of the minority images, applied in order:
        ``"invert"`` maps x to 1 - x, ``"blur"`` is a 3x3 binomial blur,
        ``"rotate"`` turns the image by 90 degrees counter-clockwise.
    noise : float, default=0.1
        Standard deviation of the Gaussian noise added to minority pixels.
    class_imbalance : float, default=0.25
        Within the minority group, the rarest class is ``class_imbalance``
        times as frequent as the most common (class k has weight
        ``class_imbalance ** (k / (n_classes - 1))``); 1.0 keeps the classes
        balanced.
    n_class : int, default=10
        Keep the digits ``0..n_class-1`` (as in ``load_digits``).
    target : {"digit", "parity"}, default="digit"
        ``"digit"``: the digit (``n_class`` classes); ``"parity"``: 1 for odd
        digits, 0 for even ones.
    return_X_y : bool, default=False
        If True, return ``(data, target, sensitive)`` instead of a Bunch.
    random_state : int, RandomState instance or None, default=0
        Seed for the choice of minority images and their noise. The default
        fixes the benchmark; ``None`` gives a new draw every call.

    Returns
    -------
    data : Bunch
        ``data``: float32 array of shape (n, 1, 8, 8) in [0, 1] (NCHW);
        ``images``: the same as (n, 8, 8); ``target``: int64; ``sensitive``:
        int64, 0 original, 1 shifted; ``digit``: the digit of every image;
        ``target_names``, ``sensitive_names``, ``feature_names`` and
        ``DESCR``.
    (data, target, sensitive) : tuple
        If ``return_X_y`` is True.

    Examples
    --------
    >>> import numpy as np
    >>> from skfral.datasets import load_group_digits
    >>> X, y, s = load_group_digits(return_X_y=True)
    >>> X.shape, X.dtype, np.bincount(s).tolist()
    ((1797, 1, 8, 8), dtype('float32'), [1438, 359])
    >>> float(X.min()), float(X.max())
    (0.0, 1.0)
    """
    minority_fraction = check_real(
        minority_fraction,
        "minority_fraction",
        min_value=0,
        max_value=0.5,
        include_min=False,
    )
    shifts = _check_shift(shift)
    noise = check_real(noise, "noise", min_value=0)
    class_imbalance = check_real(
        class_imbalance, "class_imbalance", min_value=0, max_value=1, include_min=False
    )
    n_class = check_int(n_class, "n_class", min_value=2, max_value=10)
    check_option(target, "target", ("digit", "parity"))
    return_X_y = check_bool(return_X_y, "return_X_y")
    rng = check_random_state(random_state, "random_state")

    digits = load_digits(n_class=n_class)
    images = digits.images / 16.0
    digit = digits.target.astype(np.int64)
    if target == "digit":
        y, target_names = digit, np.arange(n_class)
    else:
        y, target_names = digit % 2, np.array(["even", "odd"], dtype=object)
    n_classes = len(target_names)

    n_minority = int(round(minority_fraction * len(y)))
    weights = class_imbalance ** (np.arange(n_classes) / (n_classes - 1))
    class_sizes = np.bincount(y, minlength=n_classes)
    counts = np.minimum(largest_remainder(n_minority, weights), class_sizes)
    minority = np.concatenate(
        [
            rng.choice(np.flatnonzero(y == k), size=counts[k], replace=False)
            for k in range(n_classes)
        ]
    )
    s = np.zeros(len(y), dtype=np.int64)
    s[minority] = 1
    minority = np.sort(minority)
    shifted = _apply_shift(images[minority], shifts)
    shifted = shifted + noise * rng.standard_normal(shifted.shape)
    images = images.copy()
    images[minority] = np.clip(shifted, 0.0, 1.0)
    images = images.astype(np.float32)
    data = images[:, None, :, :]

    if return_X_y:
        return data, y, s
    descr = load_descr("group_digits.rst").format(
        minority_fraction=minority_fraction,
        shift=" then ".join(shifts),
        noise=noise,
        class_imbalance=class_imbalance,
        n_class=n_class,
        target=target,
        n_samples=len(y),
        n_minority=int(s.sum()),
        random_state=random_state
        if random_state is None or isinstance(random_state, int)
        else type(random_state).__name__,
    )
    return Bunch(
        data=data,
        images=images,
        target=y,
        sensitive=s,
        digit=digit,
        target_names=target_names,
        sensitive_names=np.array(["original", "+".join(shifts)], dtype=object),
        feature_names=np.array(digits.feature_names, dtype=object),
        DESCR=descr,
    )
