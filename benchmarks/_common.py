"""Helpers shared by the benchmarks: the machine line and the results tree.

Every benchmark writes its tables to ``benchmarks/results/<name>.md`` (figures to
``benchmarks/results/figures/``) with the exact command at the top;
``benchmarks/RESULTS.md`` is an index generated from those files by
``python -m benchmarks.results_index``, never edited by hand.
"""

import datetime
import os
import platform
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS_DIR = HERE / "results"
INDEX = HERE / "RESULTS.md"


def machine_line():
    import torch

    return (
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, {platform.system()}, "
        f"Python {platform.python_version()}, torch {torch.__version__}, "
        f"{datetime.date.today().isoformat()}"
    )


def atomic_write_text(path, text):
    """Write ``text`` to ``path`` through a temporary file and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_result_file(name, body, *, title):
    """Write ``benchmarks/results/<name>`` (Markdown, ``# title``) and refresh the
    index ``benchmarks/RESULTS.md``; return the path.

    ``body`` starts with the command that produced it (``Command: `...```).
    """
    from benchmarks.results_index import write_index

    path = atomic_write_text(RESULTS_DIR / name, f"# {title}\n\n{body.strip()}\n")
    write_index()
    return path
