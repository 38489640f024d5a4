"""How long the ``skfral`` command line takes before it answers.

Run by hand (not in CI)::

    python -m benchmarks.bench_cli_start                      # this checkout
    python -m benchmarks.bench_cli_start --compare 2bdac4a    # and a git revision
    python -m benchmarks.bench_cli_start --compare 2bdac4a --write

Each measurement is the wall-clock time of one fresh ``python -m skfral ...``
process (``--help``, ``--version``, ``run --help`` and an argument error), the
median of ``--repeats`` interleaved runs. ``--compare REV`` exports that git
revision to a temporary folder (``git archive``) and times it in the same call,
side by side, so both columns saw the same load. The last columns list which of
torch, skorch, fairlearn and modAL each command imported (none is the goal).
``--write`` writes ``benchmarks/results/cli_start.md``.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

from benchmarks._common import write_result_file

ROOT = Path(__file__).resolve().parents[1]

COMMANDS = (
    ("skfral --help", ["--help"]),
    ("skfral --version", ["--version"]),
    ("skfral run --help", ["run", "--help"]),
    ("skfral run --bogus (argument error)", ["run", "--bogus"]),
)
HEAVY = ("torch", "skorch", "fairlearn", "modAL")

# Runs the command line in-process, then reports which heavy modules it loaded.
_PROBE = """
import sys
from skfral.experiment._cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
heavy = [m for m in {heavy!r} if m in sys.modules]
sys.stderr.write("\\nHEAVY=" + ",".join(heavy) + "\\n")
"""


def _env(root):
    env = {**os.environ, "PYTHONPATH": str(root)}
    return env


def _time_one(root, argv):
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "skfral", *argv],
        env=_env(root),
        cwd=root,
        capture_output=True,
        text=True,
    )
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 2):
        raise RuntimeError(f"{argv} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return elapsed


def _heavy(root, argv):
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE.format(heavy=HEAVY), *argv],
        env=_env(root),
        cwd=root,
        capture_output=True,
        text=True,
    )
    line = [s for s in proc.stderr.splitlines() if s.startswith("HEAVY=")]
    if not line:
        raise RuntimeError(f"probe failed for {argv}: {proc.stderr[-2000:]}")
    return line[-1][len("HEAVY=") :] or "none"


def _export(rev, into):
    archive = Path(into) / "rev.tar"
    subprocess.run(
        ["git", "-C", str(ROOT), "archive", "-o", str(archive), rev], check=True
    )
    with tarfile.open(archive) as tar:
        tar.extractall(Path(into) / "tree", filter="data")
    return Path(into) / "tree"


def _loadavg():
    try:
        return os.getloadavg()[0]
    except OSError:
        return float("nan")


def measure(roots, repeats):
    """``{(label, root_name): [seconds...]}`` and ``{(label, root_name): heavy}``."""
    times = {}
    heavy = {}
    for name, root in roots:
        for label, argv in COMMANDS:
            heavy[label, name] = _heavy(root, argv)
            _time_one(root, argv)  # warm the file cache
    for _ in range(repeats):
        for label, argv in COMMANDS:
            for name, root in roots:
                times.setdefault((label, name), []).append(_time_one(root, argv))
    return times, heavy


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compare", metavar="REV", help="git revision to time too")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        roots = [("this checkout", ROOT)]
        if args.compare:
            roots.insert(0, (f"before ({args.compare})", _export(args.compare, tmp)))
        load_before = _loadavg()
        times, heavy = measure(roots, args.repeats)
        load_after = _loadavg()
    names = [name for name, _ in roots]
    header = "| command | " + " | ".join(f"{n} (s)" for n in names)
    header += " | " + " | ".join(f"heavy imports, {n}" for n in names) + " |"
    if len(names) == 2:
        header = header[:-1] + "| speed-up |"
    rows = [header, "|" + "---|" * (header.count("|") - 1)]
    for label, _ in COMMANDS:
        medians = [statistics.median(times[label, n]) for n in names]
        row = f"| `{label}` | " + " | ".join(f"{m:.2f}" for m in medians)
        row += " | " + " | ".join(heavy[label, n] for n in names) + " |"
        if len(names) == 2:
            row += f" {medians[0] / medians[1]:.1f}x |"
        rows.append(row)
    command = "python -m benchmarks.bench_cli_start" + (
        f" --compare {args.compare}" if args.compare else ""
    )
    if args.repeats != 5:
        command += f" --repeats {args.repeats}"
    body = (
        f"Machine: {os.uname().machine}, {os.cpu_count()} cores, Python "
        f"{sys.version.split()[0]}; 1-minute load average {load_before:.1f} before "
        f"and {load_after:.1f} after the runs (a machine shared with other "
        "engineers' jobs).\n\n"
        f"Wall seconds of one fresh `python -m skfral ...` process, median of "
        f"{args.repeats} interleaved runs; 'heavy imports' lists which of "
        f"{', '.join(HEAVY)} the command imported.\n\n"
        + "\n".join(rows)
        + f"\n\nCommand: `{command} --write`.\n"
    )
    print(body)
    if args.write:
        path = write_result_file(
            "cli_start.md", body, title="Command-line start time (bench_cli_start.py)"
        )
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
