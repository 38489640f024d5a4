"""The on-disk results of a run: manifest, per-round records, checkpoints, resume.

Layout of ``out_dir``::

    manifest.json                       config, its hash, cell list (written first)
    cells/<dataset>/<strategy>/seed_<k>/
        round_000.json ...              one record per finished round: the table
                                        row and the pool positions queried
        state_<r>.pt                    training state after the last round
                                        (torch.save of state dicts only)
    results.csv                         the tidy table of every finished cell,
                                        written when a call ends

Every file is written atomically: to a temporary ``*.tmp`` file in the same
folder, flushed and ``fsync``-ed, then moved over the target with
``os.replace``. A process killed at any moment (even with SIGKILL) leaves
either the old file or the new one, never a truncated one; leftover
``*.tmp`` files are ignored and removed on the next run. A round counts as
finished when its ``round_<r>.json`` exists; its checkpoint is written
*before* it, so a finished round always has its state on disk.
"""

import hashlib
import json
import math
import os
import re
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from ..nn import load_checkpoint, save_checkpoint
from ..utils._files import fsync_dir

__all__ = [
    "CellStore",
    "RunStore",
    "atomic_write",
    "config_hash",
    "jsonable",
    "load_results",
]

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
RESULTS = "results.csv"
CELLS = "cells"


# ------------------------------------------------------------------ writing
def atomic_write(path, data, *, mode="w"):
    """Write ``data`` (str, bytes, or a callable taking the open file) atomically.

    The data go to a temporary file next to ``path``, which is flushed,
    ``fsync``-ed and then renamed over ``path`` with :func:`os.replace`. The
    file gets the mode of a plain ``open(path, "w")``: ``0o666`` less the
    user's umask.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    binary = "b" in mode
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        # mkstemp creates the file 0600; give it the mode open() would: 0666
        # less the user's umask (a group-readable results folder stays so)
        os.chmod(tmp, 0o666 & ~_umask())
        with os.fdopen(
            fd, "wb" if binary else "w", encoding=None if binary else "utf-8"
        ) as fh:
            if callable(data):
                data(fh)
            else:
                fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    fsync_dir(path.parent)


def _umask():
    """The process's umask, read without changing it where the system allows."""
    try:  # Linux: no window in which another thread sees a changed umask
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):  # pragma: no cover - other systems
        pass
    mask = os.umask(0o022)  # pragma: no cover
    os.umask(mask)  # pragma: no cover
    return mask  # pragma: no cover


def jsonable(value):
    """Plain JSON types: numpy scalars unwrapped, NaN/inf as ``None``."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return [jsonable(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def dump_json(obj):
    """Strict JSON text (no NaN), keys in insertion order."""
    return json.dumps(jsonable(obj), indent=1, allow_nan=False) + "\n"


def config_hash(config):
    """SHA-256 (first 16 hex digits) of a JSON-able configuration."""
    text = json.dumps(jsonable(config), sort_keys=True, allow_nan=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def slug(name):
    """A folder name for ``name``: safe characters kept, a short hash when altered."""
    text = str(name)
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", text).strip(".") or "_"
    if safe != text:
        safe = f"{safe[:40]}-{hashlib.sha1(text.encode('utf-8')).hexdigest()[:8]}"
    return safe


# ------------------------------------------------------------------- cells
class CellStore:
    """Round records and checkpoints of one (dataset, strategy, seed) cell."""

    def __init__(self, root, dataset, strategy, seed):
        self.path = (
            Path(root) / CELLS / slug(dataset) / slug(strategy) / f"seed_{int(seed)}"
        )

    def _round_path(self, r):
        return self.path / f"round_{r:03d}.json"

    def _state_path(self, r):
        return self.path / f"state_{r:03d}.pt"

    def cleanup(self):
        """Remove temporary files left by a killed run."""
        if self.path.is_dir():
            for tmp in self.path.glob(".*.tmp"):
                try:
                    tmp.unlink()
                except OSError:  # pragma: no cover
                    pass

    def finished_rounds(self):
        """Records of the finished rounds 0..k (contiguous), oldest first."""
        records = []
        r = 0
        while True:
            path = self._round_path(r)
            if not path.is_file():
                break
            try:
                record = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):  # pragma: no cover - atomic writes prevent it
                break
            if record.get("round") != r:  # pragma: no cover
                break
            records.append(record)
            r += 1
        return records

    def has_state(self, r):
        return self._state_path(r).is_file()

    def write_round(self, r, row, queried, state=None):
        """Record round ``r``: its checkpoint first (if any), then the JSON record."""
        if state is not None:
            atomic_write(
                self._state_path(r), lambda fh: save_checkpoint(state, fh), mode="wb"
            )
        record = {"round": r, "row": row, "queried": [int(i) for i in queried]}
        atomic_write(self._round_path(r), dump_json(record))
        for old in self.path.glob("state_*.pt"):
            if old.name != self._state_path(r).name:
                try:
                    old.unlink()
                except OSError:  # pragma: no cover
                    pass

    def read_state(self, r):
        return load_checkpoint(self._state_path(r))


def row_from_record(row):
    """A table row from its JSON form (``None`` back to NaN)."""
    return {k: (np.nan if v is None else v) for k, v in row.items()}


# --------------------------------------------------------------------- run
GRID_KEYS = ("datasets", "strategies", "seeds")
"""Config keys a folder may grow along without ``overwrite`` (not hashed)."""


def _shared(config):
    return {k: v for k, v in config.items() if k not in GRID_KEYS}


def _grid_conflicts(old, new):
    """``["strategies['jin']", ...]``: labels defined differently before."""
    out = []
    for key in ("datasets", "strategies"):
        before, now = old.get(key) or {}, new.get(key) or {}
        for label in now:
            if label in before and jsonable(before[label]) != jsonable(now[label]):
                out.append(f"{key}[{label!r}]")
    return out


def _merge_grid(old, new):
    """``new`` with the grid of ``old`` kept: labels and seeds of both, old first."""
    merged = dict(new)
    for key in ("datasets", "strategies"):
        merged[key] = {**(old.get(key) or {}), **(new.get(key) or {})}
    seeds = list(old.get("seeds") or [])
    merged["seeds"] = seeds + [k for k in new.get("seeds") or [] if k not in seeds]
    return merged


class RunStore:
    """The manifest of an ``out_dir``: refuses a different config, resets on request."""

    def __init__(self, out_dir):
        self.root = Path(out_dir)

    @property
    def manifest_path(self):
        return self.root / MANIFEST

    def read_manifest(self):
        if not self.manifest_path.is_file():
            return None
        try:
            return json.loads(self.manifest_path.read_text(encoding="utf-8"))
        except ValueError as exc:  # pragma: no cover - atomic writes prevent it
            raise ValueError(
                f"{self.manifest_path} is not valid JSON ({exc}): pass overwrite=True "
                "(--overwrite) to start this out_dir afresh."
            ) from None

    def open(self, config, *, overwrite=False, version=None):
        """Check or write the manifest; return the hash of the shared settings.

        The hash covers every setting but the grid (:data:`GRID_KEYS`: data
        sets, strategies, seeds), so a folder grows: a rerun that adds seeds,
        strategies or data sets reuses the finished cells and records the
        union. A label that comes back with a different definition (a
        strategy's parameters, another data set) is a different configuration.
        """
        if self.root.exists() and not self.root.is_dir():
            raise ValueError(f"out_dir={str(self.root)!r} exists and is not a folder.")
        digest = config_hash(_shared(config))
        manifest = self.read_manifest()
        merged = config
        last = {k: list(config.get(k) or []) for k in GRID_KEYS}  # this call's grid
        if manifest is not None:
            old = manifest.get("config", {})
            changed = []
            if config_hash(_shared(old)) != digest:
                changed = sorted(
                    k
                    for k in (set(old) | set(config)) - set(GRID_KEYS)
                    if jsonable(old.get(k)) != jsonable(config.get(k))
                )
                changed = changed or ["settings"]
            changed += _grid_conflicts(old, config)
            if changed:
                if not overwrite:
                    raise ValueError(
                        f"out_dir={str(self.root)!r} holds results of a different "
                        f"configuration (differs in: {', '.join(changed)}): pass "
                        "overwrite=True (command line: --overwrite) to delete them "
                        "and start again, or choose another out_dir."
                    )
                self.reset()
                manifest = None
            else:
                merged = _merge_grid(old, config)
                same_last = jsonable(manifest.get("last_grid")) == jsonable(last)
                if jsonable(merged) == jsonable(old) and same_last:
                    return digest
        self.root.mkdir(parents=True, exist_ok=True)
        atomic_write(
            self.manifest_path,
            dump_json(
                {
                    "format": FORMAT_VERSION,
                    "skfral_version": version,
                    "config_hash": digest,
                    "config": merged,
                    "last_grid": last,
                }
            ),
        )
        return digest

    def reset(self):
        """Delete what a run wrote here (manifest, cells, results); nothing else."""
        shutil.rmtree(self.root / CELLS, ignore_errors=True)
        for name in (MANIFEST, RESULTS):
            try:
                (self.root / name).unlink()
            except FileNotFoundError:
                pass

    def write_results(self, df, *, n_rounds=None):
        """Write ``results.csv``: ``df`` and every other finished cell of the folder.

        A folder that grew over several calls (more seeds, strategies or data
        sets) keeps one table of everything finished in it: the rows of
        ``df`` (this call's cells) followed by the complete cells of the
        manifest's grid that ``df`` does not hold (``n_rounds + 1`` rounds).
        """
        if n_rounds is not None:
            df = pd.concat([df, *self._other_cells(df, n_rounds)], ignore_index=True)
        atomic_write(self.root / RESULTS, df.to_csv(index=False))

    def _other_cells(self, df, n_rounds):
        config = (self.read_manifest() or {}).get("config", {})
        have = set(zip(df["dataset"], df["strategy"], df["seed"], strict=True))
        out = []
        for dataset in config.get("datasets") or {}:
            for strategy in config.get("strategies") or {}:
                for seed in config.get("seeds") or []:
                    if (dataset, strategy, seed) in have:
                        continue
                    recs = CellStore(self.root, dataset, strategy, seed)
                    recs = recs.finished_rounds()[: n_rounds + 1]
                    if len(recs) == n_rounds + 1:
                        rows = [row_from_record(r["row"]) for r in recs]
                        out.append(pd.DataFrame(rows, columns=df.columns))
        return out


def load_results(out_dir):
    """The tidy results table of an ``out_dir``.

    ``results.csv`` when the run finished; otherwise the rounds finished so
    far, read from the per-round records (an interrupted run can be
    summarised too).

    Parameters
    ----------
    out_dir : str or path
        A run folder of :func:`~skfral.experiment.run_fral` (``out_dir=``) or of
        ``skfral run --out``.

    Returns
    -------
    results : pandas.DataFrame
        One row per data set, strategy, seed and finished round.
    """
    root = Path(out_dir)
    if not root.is_dir():
        raise FileNotFoundError(
            f"out_dir={str(root)!r} does not exist: expected a run folder."
        )
    results = root / RESULTS
    if results.is_file():
        return pd.read_csv(results)
    rows = []
    for path in sorted((root / CELLS).glob("*/*/seed_*/round_*.json")):
        try:
            rows.append(
                row_from_record(json.loads(path.read_text(encoding="utf-8"))["row"])
            )
        except (OSError, ValueError, KeyError):  # pragma: no cover
            continue
    if not rows:
        raise FileNotFoundError(
            f"{str(root)!r} has no results: expected a results.csv or round records "
            "written by skfral run / run_fral(out_dir=...)."
        )
    df = pd.DataFrame(rows)
    return df.sort_values(
        ["dataset", "strategy", "seed", "round"], kind="stable"
    ).reset_index(drop=True)
