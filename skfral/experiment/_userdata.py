"""A user's own data on the command line: a table file or a face-image folder.

``skfral run --data loans.csv --target approved --sensitive race`` (or a
``[data]`` table in the TOML config) and ``skfral run --image-folder faces/
--layout utkface --target gender --sensitive race --image-size 64`` (or an
``[image_folder]`` table) turn into ``run_fral({"loans": (X, y, s)}, ...)``;
``--dry-run`` prints what was inferred, from :func:`describe`.
"""

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd

from ..utils._validation import check_int, check_sensitive_features, did_you_mean

__all__ = ["IMAGE_KEYS", "LAYOUTS", "TABLE_KEYS", "describe", "load_user_data"]

TABLE_KEYS = ("path", "target", "sensitive", "categorical", "drop", "name")
"""Keys of the ``[data]`` table (``name``: the data set's label, default the
file name without its extension)."""
IMAGE_KEYS = ("path", "layout", "target", "sensitive", "image_size", "name")
"""Keys of the ``[image_folder]`` table."""
LAYOUTS = ("utkface", "celeba", "fairface")
"""Folder layouts of :func:`skfral.datasets.load_image_folder`."""


def _names(value, key, where):
    """A list of column names from a list or a comma-separated string."""
    if value is None:
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return list(value)
    raise TypeError(
        f"{where}.{key}={value!r} has type {type(value).__name__}: expected a column "
        "name or a list of column names."
    )


def _check_keys(spec, keys, where):
    if not isinstance(spec, dict):
        raise TypeError(
            f"{where}={spec!r} has type {type(spec).__name__}: expected a table with "
            f"keys among {', '.join(keys)}."
        )
    for key in spec:
        if key not in keys:
            raise ValueError(
                f"unknown key {key!r} in {where}{did_you_mean(key, keys)}: expected "
                f"some of {', '.join(keys)}."
            )
    for key in ("path", "target", "sensitive"):
        if spec.get(key) in (None, "", []):
            flag = "--data" if key == "path" and where == "data" else None
            flag = flag or ("--image-folder" if key == "path" else f"--{key}")
            raise ValueError(
                f"{where} has no {key}: pass {flag} (or {key} = ... in the "
                f"[{where}] table of the config file)."
            )
    if not isinstance(spec["path"], str):
        raise TypeError(
            f"{where}.path={spec['path']!r} has type {type(spec['path']).__name__}: "
            "expected a file or folder path."
        )
    if not isinstance(spec["target"], str):
        raise TypeError(
            f"{where}.target={spec['target']!r}: expected the name of one column."
        )


def _label(spec):
    name = spec.get("name")
    if name is None:
        path = Path(spec["path"])
        name = path.name.split(".")[0] if path.name else str(path)
    if not isinstance(name, str) or not name:
        raise TypeError(f"name={name!r}: expected a non-empty string.")
    return name


def load_table_spec(spec):
    """``(label, (X, y, s), info)`` of a ``[data]`` table (a CSV or Parquet file)."""
    from ..datasets import load_table

    _check_keys(spec, TABLE_KEYS, "data")
    sensitive = _names(spec["sensitive"], "sensitive", "data")
    X, y, s, info = load_table(
        spec["path"],
        target=spec["target"],
        sensitive=sensitive[0] if len(sensitive) == 1 else sensitive,
        categorical=_names(spec.get("categorical"), "categorical", "data") or None,
        drop=_names(spec.get("drop"), "drop", "data") or None,
    )
    return _label(spec), (X, y, s), dict(info)


def load_image_spec(spec):
    """``(label, (X, y, s), info)`` of an ``[image_folder]`` table."""
    from .. import datasets

    _check_keys(spec, IMAGE_KEYS, "image_folder")
    layout = spec.get("layout")
    if layout not in LAYOUTS:
        raise ValueError(
            f"image_folder.layout={layout!r} is not valid{did_you_mean(layout, LAYOUTS)}"
            f": expected one of {', '.join(LAYOUTS)} (--layout)."
        )
    size = check_int(spec.get("image_size", 64), "image_size", min_value=4)
    sensitive = _names(spec["sensitive"], "sensitive", "image_folder")
    sensitive = sensitive[0] if len(sensitive) == 1 else sensitive
    path = spec["path"]
    if not Path(path).is_dir():
        raise FileNotFoundError(
            f"image_folder.path={path!r} is not a folder: expected a folder of images "
            f"in the {layout} layout."
        )
    loader = getattr(datasets, "load_image_folder", None)
    if loader is not None:
        out = loader(
            path,
            layout=layout,
            target=spec["target"],
            sensitive=sensitive,
            image_size=size,
            lazy=True,
        )
    else:  # the per-layout loaders
        out = getattr(datasets, f"load_{layout}")(
            path,
            size=(size, size),
            target=spec["target"],
            sensitive=sensitive,
            lazy=True,
        )
    if isinstance(out, dict) or hasattr(out, "keys"):
        X, y, s = out["data"], out["target"], out["sensitive"]
    else:
        X, y, s = out[:3]
    info = {
        "path": str(path),
        "format": f"{layout} image folder",
        "n_samples": len(y),
        "target": spec["target"],
        "sensitive": [sensitive] if isinstance(sensitive, str) else sensitive,
        "image_size": size,
        "shape": tuple(int(d) for d in X.shape[1:]),
    }
    return _label(spec), (X, y, s), info


def load_user_data(config):
    """``({label: (X, y, s)}, {label: info})`` of the config's data and image folder."""
    data, infos = {}, {}
    for key, loader in (("data", load_table_spec), ("image_folder", load_image_spec)):
        spec = config.get(key)
        if spec is None:
            continue
        label, xys, info = loader(spec)
        if label in data:
            raise ValueError(
                f"data set name {label!r} is used twice: set name = ... in the "
                f"[{key}] table of the config file."
            )
        data[label], infos[label] = xys, info
    return data, infos


# ------------------------------------------------------------------ dry run
def _counts(values, limit=12):
    counts = pd.Series(np.asarray(values, dtype=object)).value_counts(sort=False)
    counts = counts.sort_index(key=lambda idx: idx.map(str))
    parts = [f"{k} ({int(v)})" for k, v in counts.items()]
    more = f", ... {len(parts) - limit} more" if len(parts) > limit else ""
    return ", ".join(parts[:limit]) + more


def describe(label, X, y, s, info, kwargs):
    """The ``--dry-run`` text of one data set: what was inferred and the split."""
    from ._cell import split_cell
    from ._settings import (
        check_min_group_size,
        check_seeds,
        merged_message,
        small_group_message,
        split_group_counts,
    )

    info = dict(info or {})
    lines = []
    n = len(y)
    where = f" from {info['path']}" if "path" in info else ""
    fmt = f"{info['format']}, " if "format" in info else ""
    lines.append(f"data set {label!r}{where} ({fmt}{n} rows)")
    lines.append(f"  target {info.get('target', 'y')!r}: classes {_counts(y)}")
    by = ", ".join(info.get("sensitive", [])) or "s"
    groups = check_sensitive_features(s, len(y), name="s")
    lines.append(f"  groups by {by}: {_counts(groups)}")
    if isinstance(X, pd.DataFrame):
        kinds = info.get("features") or {}
        missing = info.get("missing") or X.isna().sum().to_dict()
        lines.append(f"  features ({X.shape[1]}):")
        for col in X.columns:
            kind = kinds.get(col) or (
                "numeric" if pd.api.types.is_numeric_dtype(X[col]) else "categorical"
            )
            extra = ""
            if kind == "categorical":
                extra = f", {X[col].nunique(dropna=True)} categories"
            miss = int(missing.get(col, 0))
            extra += f", {miss} missing (imputed)" if miss else ""
            lines.append(f"    {col}: {kind}{extra}")
        lines.append(
            "  preprocessing: impute, one-hot encode categorical columns, standardise "
            "numeric ones; fitted on the labelled set at every round"
        )
    else:
        shape = "x".join(str(d) for d in X.shape[1:])
        lines.append(f"  inputs: {shape} per sample")
    if info.get("dropped"):
        lines.append(f"  dropped: {', '.join(map(str, info['dropped']))}")
    for text in info.get("warnings", []):
        lines.append(f"  WARNING: {text}")
    settings = SimpleNamespace(
        initial_size=kwargs["initial_size"],
        val_size=kwargs["val_size"],
        test_size=kwargs["test_size"],
        pool_size=kwargs.get("pool_size"),
        min_group_size=check_min_group_size(kwargs.get("min_group_size")),
    )
    seed = check_seeds(kwargs["seeds"])[0]
    s = check_sensitive_features(s, len(y), name="s")
    sp = split_cell(X, np.asarray(y), s, seed, settings)
    need = kwargs["n_rounds"] * kwargs["budget"]
    n_pool = len(sp.y_pool)
    lines.append(
        f"  split (seed {seed}): initial {len(sp.y_initial)}, pool {n_pool}, "
        f"validation {len(sp.y_val)}, test {len(sp.y_test)}; "
        f"{kwargs['n_rounds']} rounds x {kwargs['budget']} = {need} labels to query"
        + ("" if need <= n_pool else f" (MORE than the pool of {n_pool})")
    )
    merged = merged_message(label, sp["merged_groups"], settings.min_group_size)
    if merged is not None:
        lines.append(f"  {merged}")
    lines.extend(_group_count_lines(split_group_counts(sp)))
    message = small_group_message(label, split_group_counts(sp))
    if message is not None:
        lines.append(f"  WARNING: {message}")
    return "\n".join(lines)


def _group_count_lines(counts):
    """The rows of every group in every part, as an aligned text table."""
    from ._settings import MIN_TEST_ROWS, MIN_VAL_ROWS, small_groups

    header = ("group", "all", "pool", "initial", "validation", "test")
    rows = [
        (str(group), *(str(int(row[c])) for c in header[1:]))
        for group, row in counts.iterrows()
    ]
    small = set(small_groups(counts).index.map(str))
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def fmt(row):
        cells = [row[0].ljust(widths[0])]
        cells += [cell.rjust(w) for cell, w in zip(row[1:], widths[1:])]
        return "    " + "  ".join(cells)

    out = ["  rows per group in the split:", fmt(header)]
    for row in rows:
        flag = (
            f"  <- fewer than {MIN_TEST_ROWS} test or {MIN_VAL_ROWS} validation rows"
            if row[0] in small
            else ""
        )
        out.append(fmt(row) + flag)
    return out
