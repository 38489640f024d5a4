"""Relabel finished benchmark cells: a new strategy name and an explicit spec.

Used once, when JIN's default ``group_allocation`` changed from ``"worst"`` to
``"bootstrap"`` (issue 15): a cell run as ``("jin", {})`` under the old
default is the cell ``("jin", {"group_allocation": "worst"})``, and a cell run
as ``("jin", {"group_allocation": "bootstrap"})`` is the new default
``("jin", {})``. run_fral is deterministic given its configuration, so a
relabelled cell is the one the new name and spec compute; the caller checks
that by recomputing some of them (``benchmarks/results/quality.md`` says
which, and the largest difference found). Rewrites the manifest (config and
its hash), ``results.csv`` and every round record; moves ``cells/<data
set>/<old>`` to ``cells/<data set>/<new>``. Nothing else is touched::

    python benchmarks/relabel_cells.py SRC DST --name jin_worst \\
        --spec '{"group_allocation": "worst"}'

``SRC`` is one bench_quality cell folder (``<out>/quality/<data set>/seed_<k>/
<strategy>``); ``DST`` must not exist.
"""

import argparse
import json
import shutil
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from skfral.experiment._store import atomic_write, config_hash  # noqa: E402


def relabel(src, dst, name, spec):
    src, dst = Path(src), Path(dst)
    if dst.exists():
        raise FileExistsError(f"dst={str(dst)!r} exists: expected a new folder.")
    manifest = json.loads((src / "manifest.json").read_text())
    (old,) = manifest["config"]["strategies"]
    base = manifest["config"]["strategies"][old][0]
    shutil.copytree(src, dst)
    manifest["config"]["strategies"] = {name: [base, spec]}
    manifest["config_hash"] = config_hash(manifest["config"])
    atomic_write(dst / "manifest.json", json.dumps(manifest, indent=1) + "\n")
    for dataset_dir in (dst / "cells").iterdir():
        (dataset_dir / old).rename(dataset_dir / name)
        for record in sorted((dataset_dir / name).glob("seed_*/round_*.json")):
            data = json.loads(record.read_text())
            data["row"]["strategy"] = name
            atomic_write(record, json.dumps(data) + "\n")
    results = dst / "results.csv"
    if results.is_file():
        df = pd.read_csv(results)
        df["strategy"] = name
        df.to_csv(results, index=False)
    return dst


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("src")
    parser.add_argument("dst")
    parser.add_argument("--name", required=True)
    parser.add_argument("--spec", required=True, help="JSON of the strategy params")
    args = parser.parse_args(argv)
    print(relabel(args.src, args.dst, args.name, json.loads(args.spec)))


if __name__ == "__main__":
    main()
