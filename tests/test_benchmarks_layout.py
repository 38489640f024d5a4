"""The benchmarks' layout (issue 27): one results tree, a generated index, a package."""

import re
from pathlib import Path

from benchmarks import results_index

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "benchmarks"


def test_results_md_is_the_generated_index():
    committed = (BENCH / "RESULTS.md").read_text(encoding="utf-8")
    assert committed == results_index.render(), (
        "benchmarks/RESULTS.md differs from what `python -m benchmarks.results_index` "
        "writes: regenerate it, never edit it by hand"
    )


def test_index_lists_every_results_file():
    index = (BENCH / "RESULTS.md").read_text(encoding="utf-8")
    files = sorted(BENCH.glob("results/**/*.md"))
    assert len(files) >= 5, files
    missing = [
        str(p.relative_to(BENCH))
        for p in files
        if f"({p.relative_to(BENCH)})" not in index
    ]
    assert not missing, f"RESULTS.md does not link {missing}"


def test_describe_reads_title_command_and_headline(tmp_path):
    page = tmp_path / "x.md"
    page.write_text(
        "# Speed of X\n\n"
        "Command (repository root): `python -m benchmarks.bench_x --write`\n"
        "Machine: x86_64\n\n"
        "| a | b |\n|---|---|\n| 1 | 2 |\n\n"
        "## Reading (by hand)\n\n"
        "- **X is fast**: 2x faster\n  than Y.\n- second point\n"
    )
    title, command, headline = results_index.describe(page)
    assert title == "Speed of X", title
    assert command == "python -m benchmarks.bench_x --write", command
    assert headline == "**X is fast**: 2x faster than Y.", headline


def test_no_results_outside_the_results_tree():
    stray = [
        p.name
        for p in BENCH.iterdir()
        if p.suffix in (".md", ".png", ".csv", ".json") and p.name != "RESULTS.md"
    ]
    assert not stray, f"results outside benchmarks/results/: {stray}"
    assert not (BENCH / "figures").exists(), "benchmarks/figures/: use results/figures/"


def test_benchmarks_import_without_sys_path_tricks():
    offenders = [
        p.name
        for p in BENCH.rglob("*.py")
        # benchmarks/runs/ (git-ignored) holds run folders and code snapshots
        if "runs" not in p.relative_to(BENCH).parts
        and re.search(r"sys\.path\.(insert|append)", p.read_text(encoding="utf-8"))
    ]
    assert not offenders, (
        f"{offenders} edit sys.path: run them as `python -m benchmarks.NAME`"
    )
