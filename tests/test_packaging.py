"""Packaging invariants: version, where torch may be imported, dependency pins, CI."""

import ast
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import skfral

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "skfral"
HEAVY = ("torch", "skorch", "torchattacks")


def test_import_exposes_the_version():
    assert isinstance(skfral.__version__, str)
    assert re.fullmatch(r"\d+\.\d+\.\d+(\.dev\d+|rc\d+|a\d+|b\d+)?", skfral.__version__)
    setup_py = (ROOT / "setup.py").read_text()
    assert "_version.py" in setup_py, "setup.py must read the version from _version.py"


def imported_top_levels(path):
    """Top-level names of every import in a module (also inside functions)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
        elif isinstance(node, ast.Call) and getattr(
            node.func, "attr", getattr(node.func, "id", "")
        ) in (
            "import_module",
            "__import__",
        ):
            if (
                node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                names.add(node.args[0].value.split(".")[0])
    return names


def test_only_skfral_nn_imports_torch_or_skorch():
    offenders = {}
    scanned = 0
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        if relative.parts[0] == "nn":
            continue
        scanned += 1
        heavy = imported_top_levels(path) & set(HEAVY)
        if heavy:
            offenders[str(relative)] = sorted(heavy)
    assert scanned > 5, f"only {scanned} modules scanned outside skfral/nn"
    assert not offenders, f"torch/skorch imported outside skfral/nn: {offenders}"


def test_skfral_nn_does_import_torch():
    """The scan above would pass vacuously if it could not see an import."""
    names = set()
    for path in (PACKAGE / "nn").glob("*.py"):
        names |= imported_top_levels(path)
    assert {"torch", "skorch"} <= names


LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def run_lint_imports(root):
    """``lint-imports`` with the repository's contracts on the package under ``root``."""
    if not LINT_IMPORTS.exists():
        pytest.fail(
            f"{LINT_IMPORTS} is missing: install the pinned import-linter "
            "(requirements/dev.txt, `make install`)."
        )
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(ROOT / ".importlinter"), "--no-cache"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )


def broken_contracts(output):
    return [line.strip() for line in output.splitlines() if " BROKEN" in line]


def test_import_contracts_are_kept():
    """Layers, torch only in skfral.nn, no private imports across packages, no
    cycles (.importlinter); the failure names each broken contract."""
    done = run_lint_imports(ROOT)
    assert done.returncode == 0, (
        f"import contracts broken: {broken_contracts(done.stdout)}\n"
        f"{done.stdout[-4000:]}{done.stderr[-2000:]}"
    )
    assert "0 broken" in done.stdout, done.stdout[-2000:]


def test_import_contracts_catch_a_violation(tmp_path):
    """The contracts are not vacuous: a copy of skfral with torch imported in
    metrics, a private query module imported by experiment and a cycle in nn
    breaks exactly those three contracts."""
    shutil.copytree(
        PACKAGE, tmp_path / "skfral", ignore=shutil.ignore_patterns("*.pyc")
    )
    with open(tmp_path / "skfral" / "metrics" / "__init__.py", "a") as fh:
        fh.write("\nimport torch  # noqa\n")
    with open(tmp_path / "skfral" / "experiment" / "__init__.py", "a") as fh:
        fh.write("\nfrom ..query._base import BaseQueryStrategy  # noqa\n")
    with open(tmp_path / "skfral" / "nn" / "_labels.py", "a") as fh:
        fh.write(
            "\n\ndef _late():\n    from ._net import RobustNeuralNetClassifier  # noqa\n"
        )
    done = run_lint_imports(tmp_path)
    broken = broken_contracts(done.stdout)
    assert done.returncode != 0, f"lint-imports passed a broken copy:\n{done.stdout}"
    names = " ".join(broken)
    for expected in (
        "Only skfral.nn imports torch",
        "skfral.query:",
        "No import cycles",
    ):
        assert expected in names, (
            f"{expected!r} not among the broken contracts {broken}"
        )
    assert len(broken) == 3, f"expected 3 broken contracts, got {broken}"


def install_requires():
    tree = ast.parse((ROOT / "setup.py").read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(
            getattr(t, "id", "") == "INSTALL_REQUIRES" for t in node.targets
        ):
            return ast.literal_eval(node.value)
    raise AssertionError("setup.py defines no INSTALL_REQUIRES list")


def test_install_requires_has_lower_bounds_only():
    requirements = install_requires()
    assert requirements, "setup.py INSTALL_REQUIRES is empty"
    names = set()
    for requirement in requirements:
        match = re.fullmatch(
            r"([A-Za-z0-9_.\-\[\]]+)\s*>=\s*([0-9][0-9.]*)", requirement
        )
        assert match, f"{requirement!r}: expected 'name>=version' (a lower bound only)"
        names.add(match.group(1).lower())
    assert {"torch", "skorch", "scikit-learn"} <= names
    assert not any(
        "modal" in name for name in names
    )  # installed with --no-deps instead


def test_constraints_pin_the_cpu_torch():
    lines = (ROOT / "requirements" / "constraints.txt").read_text().splitlines()
    pins = dict(
        line.split("==", 1)
        for line in (raw.split("#")[0].strip() for raw in lines)
        if "==" in line
    )
    assert pins["torch"] == "2.13.0", (
        f"torch pin {pins['torch']}: expected the CPU 2.13.0"
    )
    assert pins["modAL-python"] == "0.4.2.1", f"modAL-python pin {pins['modAL-python']}"


def test_ci_runs_make_test_all():
    script = (ROOT / ".ci" / "run").read_text()
    commands = [
        line.strip()
        for line in script.splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]
    assert "make test-all" in commands, f".ci/run must run `make test-all`: {commands}"
    makefile = (ROOT / "Makefile").read_text()
    assert makefile.count("\ntest:") == 1 and makefile.count("\ntest-all:") == 1, (
        "the Makefile needs exactly one test and one test-all target"
    )
    fast = makefile.split("\ntest:", 1)[1].split("\n\n", 1)[0]
    assert '-m "not slow"' in fast and "-n " in fast, (
        f"`make test` is not the fast suite: {fast}"
    )
    full = makefile.split("\ntest-all:", 1)[1].split("\n\n", 1)[0]
    assert "not slow" not in full, f"`make test-all` leaves tests out: {full}"
