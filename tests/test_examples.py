"""Every gallery example (``examples/**/plot_*.py``) runs, as sphinx-gallery runs it.

Each example runs in this process with ``__name__ == "__main__"``, the Agg
backend and one torch thread (tiny nets on a shared CPU are several times
faster on one), from a temporary working directory; its figures are closed
afterwards. No time limit is checked here: the examples are written to take
well under a minute each on two CPU cores.
"""

import runpy
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES_DIR = ROOT / "examples"
EXAMPLES = sorted(EXAMPLES_DIR.glob("**/plot_*.py"))


def test_gallery_is_not_empty():
    assert EXAMPLES, f"no examples/**/plot_*.py found under {EXAMPLES_DIR}"


@pytest.fixture
def example_env(monkeypatch, tmp_path):
    """Agg backend, one torch thread (restored after), a scratch working directory."""
    matplotlib = pytest.importorskip("matplotlib")
    torch = pytest.importorskip("torch")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    monkeypatch.chdir(tmp_path)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
        plt.close("all")


@pytest.mark.slow
@pytest.mark.parametrize(
    "path", EXAMPLES, ids=[str(p.relative_to(EXAMPLES_DIR)) for p in EXAMPLES]
)
def test_example_runs(path, example_env):
    runpy.run_path(str(path), run_name="__main__")
