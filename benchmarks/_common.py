"""Helpers shared by the benchmarks: the machine line, RESULTS.md and results/ files."""

import datetime
import os
import platform
import re
from pathlib import Path

RESULTS = Path(__file__).with_name("RESULTS.md")
RESULTS_DIR = Path(__file__).with_name("results")


def machine_line():
    import torch

    return (
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, {platform.system()}, "
        f"Python {platform.python_version()}, torch {torch.__version__}, "
        f"{datetime.date.today().isoformat()}"
    )


def update_results(heading, body):
    """Replace (or append) the section ``heading`` of benchmarks/RESULTS.md."""
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    section = f"{heading}\n\n{body.strip()}\n"
    pattern = re.compile(rf"^{re.escape(heading)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _m: section + "\n", text)
    else:
        text = text.rstrip() + "\n\n" + section
    RESULTS.write_text(text)


def write_result_file(name, body, *, title):
    """Write ``benchmarks/results/<name>`` (Markdown with a ``#`` title); its path.

    The lead merges these files into ``benchmarks/RESULTS.md``.
    """
    RESULTS_DIR.mkdir(exist_ok=True)
    path = RESULTS_DIR / name
    path.write_text(f"# {title}\n\n{body.strip()}\n")
    return path
