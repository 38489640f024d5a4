"""CPU-sized defaults for image runs on the command line, always stated.

A PGD-20 evaluation costs 21 forward and backward passes per image, and JIN
attacks every candidate it scores. With the table defaults (15 % validation,
20 % test, every pool sample a candidate) a 20,500-image folder needs hours
on two CPU cores. When ``skfral run`` trains on images on the CPU and the user
did not choose these settings, :func:`apply_image_cpu_defaults` caps them at
:data:`IMAGE_CPU_DEFAULTS` and returns the sentence the command prints, so
nothing is reduced silently. The evaluation itself is unchanged (PGD-20 on
every validation and test image); only the number of images is smaller.
"""

__all__ = ["IMAGE_CPU_DEFAULTS", "apply_image_cpu_defaults"]

#: Caps for image data on CPU: validation and test images, and pool samples
#: each strategy looks at per round (a random subset, drawn with the round's
#: seed, the same cap for every strategy so the comparison stays paired), and
#: the batch of the evaluation attack and of predictions: on a CPU a batch of
#: 512 images makes activations of tens of MB that the allocator maps and
#: unmaps at every step, and the page faults cost as much as the arithmetic
#: (measured: PGD at batch 64 ran 1.6x faster than at 512, with 5x less
#: system time). The attack is the same (identical perturbations) and
#: predictions agree up to float rounding.
IMAGE_CPU_DEFAULTS = {
    "val_size": 256,
    "test_size": 512,
    "max_candidates": 1024,
    "batch_size": 64,
}


def _image_sizes(datasets):
    """Number of images of each user image data set (4-d X) in ``datasets``."""
    if not isinstance(datasets, dict):
        return {}
    out = {}
    for label, value in datasets.items():
        if isinstance(value, tuple) and getattr(value[0], "ndim", 0) == 4:
            out[label] = int(value[0].shape[0])
    return out


def _on_gpu(kwargs):
    device = (kwargs.get("estimator_params") or {}).get("device", "cpu")
    return str(device).startswith(("cuda", "mps", "xpu"))


def _fraction_count(size, n):
    return int(round(size * n)) if isinstance(size, float) else int(size)


def _strategy_dict(strategies):
    if isinstance(strategies, str):
        strategies = [s.strip() for s in strategies.split(",") if s.strip()]
    if isinstance(strategies, list | tuple):
        return {name: (name, {}) for name in strategies}
    out = {}
    for label, spec in strategies.items():
        short, params = (spec, {}) if isinstance(spec, str) else spec
        out[label] = (short, dict(params))
    return out


def apply_image_cpu_defaults(config, kwargs):
    """Cap evaluation sizes and candidates of a CPU image run; the sentence to print.

    Parameters
    ----------
    config : dict
        What the user gave (flags and config keys), before the defaults.
    kwargs : dict
        The :func:`~skfral.experiment.run_fral` arguments; updated in place.

    Returns
    -------
    message : str or None
        What was capped (None when nothing was).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.zeros((20500, 3, 4, 4), "float32")
    >>> kwargs = {"datasets": {"faces": (X, None, None)}, "strategies": "jin,random",
    ...           "val_size": 0.15, "test_size": 0.2}
    >>> print(apply_image_cpu_defaults({}, kwargs))  # doctest: +NORMALIZE_WHITESPACE
    skfral run: image data on the CPU: validation 256 and test 512 images
    (instead of 3075 and 4100; each one still evaluated clean and under the
    evaluation attack, PGD-20 by default), each strategy scores at most 1024
    random pool candidates per round, evaluation and predictions in batches of
    64 images. Set val_size, test_size (--val-size, --test-size) or
    max_candidates (a [strategies] table) to change them.
    >>> kwargs["val_size"], kwargs["strategies"]["jin"], kwargs["eval_attack"]
    (256, ('jin', {'max_candidates': 1024}), {'batch_size': 64})
    """
    sizes = _image_sizes(kwargs.get("datasets"))
    if not sizes or _on_gpu(kwargs):
        return None
    n = max(sizes.values())
    caps = IMAGE_CPU_DEFAULTS
    labels, was = [], []
    for key, label in (("val_size", "validation"), ("test_size", "test")):
        if key in config or kwargs.get(key) is None:
            continue
        count = _fraction_count(kwargs[key], n)
        if count > caps[key]:
            labels.append(f"{label} {caps[key]}")
            was.append(str(count))
            kwargs[key] = caps[key]
    parts = []
    if labels:
        parts.append(
            f"{' and '.join(labels)} images (instead of {' and '.join(was)}; each "
            "one still evaluated clean and under the evaluation attack, PGD-20 by "
            "default)"
        )
    batch = caps["batch_size"]
    attack = kwargs.get("eval_attack")
    if attack is None or isinstance(attack, int):
        kwargs["eval_attack"] = {"batch_size": batch}
        if attack is not None:
            kwargs["eval_attack"]["n_steps"] = attack
    elif isinstance(attack, dict) and "batch_size" not in attack:
        kwargs["eval_attack"] = {**attack, "batch_size": batch}
    net = dict(kwargs.get("estimator_params") or {})
    net.setdefault("predict_batch_size", batch)
    kwargs["estimator_params"] = net
    strategies = _strategy_dict(kwargs["strategies"])
    capped = False
    for _short, params in strategies.values():
        if "max_candidates" not in params and n > caps["max_candidates"]:
            params["max_candidates"] = caps["max_candidates"]
            capped = True
    if capped:
        kwargs["strategies"] = strategies
        parts.append(
            f"each strategy scores at most {caps['max_candidates']} random pool "
            "candidates per round"
        )
    parts.append(f"evaluation and predictions in batches of {batch} images")
    return (
        "skfral run: image data on the CPU: "
        + ", ".join(parts)
        + ". Set val_size, test_size (--val-size, --test-size) or max_candidates "
        "(a [strategies] table) to change them."
    )


def cache_image_data(kwargs, *, stream=None):
    """Decode each lazily loaded image data set once into the on-disk cache.

    Replaces, in ``kwargs["datasets"]``, every
    :class:`~skfral.datasets.LazyImageArray` by its
    :class:`~skfral.datasets.CachedImageArray` (same rows and values), and
    reports on ``stream`` (stderr by default) how long decoding took or that
    the cache was reused.

    Parameters
    ----------
    kwargs : dict
        The :func:`~skfral.experiment.run_fral` arguments; updated in place.
    stream : file-like or None, default=None
        Where the progress lines go; ``None`` means ``sys.stderr``.

    Returns
    -------
    files : list of pathlib.Path
        The cache files used.
    """
    import sys
    import time

    from ..datasets import LazyImageArray, cache_images

    stream = sys.stderr if stream is None else stream
    datasets = kwargs.get("datasets")
    if not isinstance(datasets, dict):
        return []
    files = []
    for label, value in list(datasets.items()):
        if not isinstance(value, tuple) or type(value[0]) is not LazyImageArray:
            continue
        X = value[0]
        start = time.perf_counter()
        shown = {"decoded": False}

        def progress(done, total, label=label, shown=shown):
            shown["decoded"] = True
            end = "\n" if done == total else ""
            print(
                f"\rskfral run: {label}: decoding and resizing {total} images once "
                f"into the cache: {done}/{total}",
                end=end,
                file=stream,
                flush=True,
            )

        cached = cache_images(X, progress=progress)
        what = "decoded into" if shown["decoded"] else "reused"
        print(
            f"skfral run: {label}: {what} the image cache {cached.cache_file} "
            f"({time.perf_counter() - start:.0f} s).",
            file=stream,
            flush=True,
        )
        datasets[label] = (cached, *value[1:])
        files.append(cached.cache_file)
    return files
