"""The documentation stays true to the code.

- ``docs/api.rst`` lists every public name (``__all__``) of the five
  subpackages, and every name it lists exists;
- the README stays under 200 lines, its quick start runs as written and
  stays at 10 statements, its set-up commands come first, its lead table is
  the one ``python -m benchmarks.readme_table`` writes, and its links exist;
- the installation and citation pages keep what moved there from the README;
- the gallery has what sphinx-gallery needs (a README per topic folder, an
  RST title per example, every folder in ``docs/conf.py``'s order).

Building the HTML is ``make docs`` (Sphinx with warnings as errors), not a
test: it needs the ``docs`` extra and runs every example.
"""

import ast
import importlib
import os
import re
import runpy
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
README = ROOT / "README.rst"
EXAMPLES_DIR = ROOT / "examples"

PUBLIC_MODULES = (
    "skfral.nn",
    "skfral.metrics",
    "skfral.query",
    "skfral.datasets",
    "skfral.experiment",
)
QUICK_START_MAX_STATEMENTS = 10
README_MAX_LINES = 200
DEMO_IMAGE = "docs/_static/demo_learning_curves.png"


# ------------------------------------------------------------------ api.rst
def documented_names(text):
    """Fully qualified names listed in the autosummary blocks of an RST page."""
    names = set()
    module = None
    in_autosummary = False
    for line in text.splitlines():
        current = re.match(r"\.\. currentmodule:: (\S+)", line)
        if current:
            module = current.group(1)
            in_autosummary = False
            continue
        if line.startswith(".. autosummary::"):
            in_autosummary = True
            continue
        if not in_autosummary:
            continue
        stripped = line.strip()
        if not stripped or stripped.startswith(":"):
            continue
        if not line.startswith("   "):  # dedent: the block ended
            in_autosummary = False
            continue
        name = stripped.lstrip("~")
        names.add(name if name.startswith("skfral.") else f"{module}.{name}")
    return names


@pytest.fixture(scope="module")
def api_names():
    return documented_names((DOCS / "api.rst").read_text(encoding="utf-8"))


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_api_reference_lists_every_public_name(module_name, api_names):
    module = importlib.import_module(module_name)
    missing = [n for n in module.__all__ if f"{module_name}.{n}" not in api_names]
    assert not missing, (
        f"docs/api.rst does not list {missing} of {module_name}.__all__: add them "
        f"under '.. currentmodule:: {module_name}' in an autosummary block."
    )


def test_api_reference_names_exist(api_names):
    assert api_names, "docs/api.rst has no autosummary entries"
    stale = []
    for qualified in sorted(api_names):
        module_name, _, name = qualified.rpartition(".")
        module = importlib.import_module(module_name)
        if not hasattr(module, name):
            stale.append(qualified)
    assert not stale, f"docs/api.rst lists names that do not exist: {stale}"


# ------------------------------------------------------------------- README
def readme_text():
    return README.read_text(encoding="utf-8")


def code_blocks(text, language=None):
    """The bodies of ``.. code-block::`` directives, dedented, in order."""
    pattern = (
        r"^\.\. code-block::[ \t]*(\S*)\n((?:[ \t]+:.*\n)*)\n((?:(?:[ \t]+.*)?\n)+)"
    )
    blocks = []
    for match in re.finditer(pattern, text, flags=re.M):
        if language is None or match.group(1) == language:
            blocks.append(textwrap.dedent(match.group(3)).strip("\n") + "\n")
    return blocks


def quick_start_code():
    text = readme_text()
    heading = re.search(r"^Quick start in Python\n-+\n", text, flags=re.M)
    assert heading, "README.rst has no 'Quick start in Python' section"
    blocks = code_blocks(text[heading.end() :], "python")
    assert blocks, "README.rst's Quick start has no python code-block"
    return blocks[0]


def test_readme_starts_with_the_two_setup_commands():
    first = code_blocks(readme_text())[0]
    assert "make demo" in first and "make test" in first, first


def test_readme_quick_start_is_short():
    """At most 10 statements besides the imports (a loop counts with its body)."""
    tree = ast.parse(quick_start_code())
    statements = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.stmt)
        and not isinstance(node, (ast.Import, ast.ImportFrom))
    ]
    assert len(statements) <= QUICK_START_MAX_STATEMENTS, (
        f"the README quick start has {len(statements)} statements besides the "
        f"imports: keep it to {QUICK_START_MAX_STATEMENTS} or fewer"
    )


def test_readme_is_short_and_names_the_test_commands():
    text = readme_text()
    n_lines = len(text.splitlines())
    assert n_lines < README_MAX_LINES, (
        f"README.rst has {n_lines} lines: keep it under {README_MAX_LINES} and "
        "move detail to docs/user_guide"
    )
    first = code_blocks(text)[0]
    for command in ("make demo", "make test", "make test-all"):
        assert command in first, f"README's set-up block lost {command!r}"


def test_readme_lead_table_is_generated():
    from benchmarks import readme_table

    text = readme_text()
    expected = readme_table.render_readme(
        text, readme_table.LEAD_TABLES.read_text(encoding="utf-8")
    )
    assert text == expected, (
        "README.rst's lead table differs from docs/user_guide/lead_tables.inc: run "
        "`python -m benchmarks.readme_table`"
    )
    assert "[+0." in text or "[-0." in text, "the lead table has no interval"


def test_readme_links_exist():
    targets = re.findall(r"<([^<>:]+?)>`_", readme_text())
    assert targets, "README.rst links nowhere"
    missing = [t for t in targets if not (ROOT / t).exists()]
    assert not missing, f"README.rst links to missing files: {missing}"


@pytest.mark.slow
def test_readme_quick_start_runs(tmp_path, monkeypatch, capsys):
    torch = pytest.importorskip("torch")
    pytest.importorskip("modAL")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.chdir(tmp_path)
    script = tmp_path / "readme_quick_start.py"
    script.write_text(quick_start_code(), encoding="utf-8")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        namespace = runpy.run_path(str(script), run_name="__main__")
    finally:
        torch.set_num_threads(threads)
    out = capsys.readouterr().out
    for column in ("worst_group_robust_accuracy", "worst_group_standard_accuracy"):
        assert column in out, f"the quick start's report does not print {column}"
    # 40 initial labels plus three queries of 20.
    n_labels = len(namespace["learner"].y_training)
    assert n_labels == 100, (
        f"{n_labels} labels after the quick start: expected 40 + 3 x 20"
    )


def cli_quick_start_commands():
    """The ``skfral ...`` commands of the README's own-table quick start."""
    text = readme_text()
    heading = re.search(r"^Quick start: your own table\n-+\n", text, flags=re.M)
    assert heading, "README.rst has no 'Quick start: your own table' section"
    block = code_blocks(text[heading.end() :], "bash")[0]
    commands = block.replace("\\\n", " ").splitlines()
    return [c.split("#")[0].split() for c in commands if c.strip().startswith("skfral")]


def test_readme_cli_quick_start_dry_run_runs_on_a_raw_csv(tmp_path, monkeypatch):
    """The README's CSV command line, run as written (its ``--dry-run`` line)."""
    import numpy as np
    import pandas as pd

    from skfral.experiment._cli import main

    rng = np.random.RandomState(0)
    n = 300
    race = rng.choice(["a", "b", "c"], size=n, p=[0.6, 0.3, 0.1])
    income = rng.normal(50, 15, size=n)
    income[rng.rand(n) < 0.1] = np.nan  # missing values
    purpose = rng.choice(["car", "home", None], size=n)
    approved = (np.nan_to_num(income, nan=50) + rng.normal(0, 10, n) > 50).astype(int)
    frame = pd.DataFrame(
        {"income": income, "purpose": purpose, "race": race, "approved": approved}
    )
    frame.to_csv(tmp_path / "loans.csv", index=False)
    monkeypatch.chdir(tmp_path)
    commands = cli_quick_start_commands()
    assert commands and all("--data" in c for c in commands[:2]), commands
    dry = next(c for c in commands if "--dry-run" in c)
    assert main(dry[1:]) == 0, f"the README's dry run failed: {dry}"
    assert all(cmd[1] in ("run", "report") for cmd in commands)


def test_readme_has_the_markers_the_scripts_write_between():
    text = readme_text()
    for marker in ("begin-lead-table", "end-lead-table"):
        assert f".. {marker}\n" in text, f"README.rst lost the '.. {marker}' marker"
    lead = (DOCS / "user_guide" / "lead_tables.inc").read_text(encoding="utf-8")
    for marker in ("begin-results-table", "end-results-table"):
        assert f".. {marker}\n" in lead, f"lead_tables.inc lost '.. {marker}'"
    assert "2209.10729" in text, "README.rst lost the paper's arXiv id"


def test_install_and_citing_pages_keep_what_left_the_readme():
    install = (DOCS / "install.rst").read_text(encoding="utf-8")
    for needle in (
        "modAL-python",
        "--no-deps",
        "constraints-no-torch",
        "make test-all",
    ):
        assert needle in install, f"docs/install.rst lost {needle!r}"
    citing = (DOCS / "citing.rst").read_text(encoding="utf-8")
    assert "@inproceedings" in citing and "2209.10729" in citing, "docs/citing.rst"


def test_readme_demo_image():
    assert f".. image:: {DEMO_IMAGE}" in readme_text()
    if not (ROOT / DEMO_IMAGE).is_file():
        pytest.skip(
            f"{DEMO_IMAGE} not generated yet: run `make demo` and copy "
            "skfral_demo/curves_adult.png there"
        )


# ------------------------------------------------------------------ gallery
def rst_title(docstring):
    """The title of an RST document with an over- and underline, or None."""
    lines = docstring.strip("\n").splitlines()
    if len(lines) < 3:
        return None
    over, title, under = lines[0], lines[1], lines[2]
    if (
        not over
        or set(over) != {"="}
        or over != under
        or len(over) < len(title.rstrip())
    ):
        return None
    return title.strip()


@pytest.mark.parametrize(
    "path",
    sorted(EXAMPLES_DIR.glob("**/plot_*.py")),
    ids=lambda p: str(p.relative_to(EXAMPLES_DIR)),
)
def test_example_has_rst_title_and_cells(path):
    text = path.read_text(encoding="utf-8")
    match = re.match(r'\s*"""(.*?)"""', text, flags=re.S)
    assert match, f"{path.name} must start with a docstring (its RST title and intro)"
    assert rst_title(match.group(1)), (
        f"{path.name}: the docstring must open with a title between two lines of "
        "'=' as long as the title"
    )
    assert "\n# %%" in text, f"{path.name} has no '# %%' cells"


def test_every_gallery_folder_has_a_readme_and_is_ordered(monkeypatch):
    assert (EXAMPLES_DIR / "README.rst").is_file() or (
        EXAMPLES_DIR / "README.txt"
    ).is_file()
    folders = sorted({p.parent for p in EXAMPLES_DIR.glob("*/*.py")})
    for folder in folders:
        assert any(
            (folder / name).is_file() for name in ("README.rst", "README.txt")
        ), f"{folder.relative_to(ROOT)} needs a README.rst for sphinx-gallery"
    # docs/conf.py sets torch threads, MPLBACKEND and sys.path: undo after.
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    monkeypatch.setenv("MPLBACKEND", os.environ.get("MPLBACKEND", "Agg"))
    monkeypatch.setattr(sys, "path", list(sys.path))
    try:
        conf = runpy.run_path(str(DOCS / "conf.py"))
    finally:
        torch.set_num_threads(threads)
    gallery = conf["sphinx_gallery_conf"]
    ordered = {(DOCS / p).resolve() for p in gallery["subsection_order"]}
    missing = [str(f.relative_to(ROOT)) for f in folders if f.resolve() not in ordered]
    assert not missing, f"docs/conf.py's subsection_order lacks {missing}"
    assert gallery["filename_pattern"] == r"/plot_"
