"""A grown folder says which reported cells the latest command did not ask for
(issue 24 item 7)."""

import json

import pandas as pd
import pytest

from skfral.datasets import make_fral_classification
from skfral.experiment import run_fral, write_report
from skfral.experiment._stats._report import folder_cells_markdown


def _cells(strategies, seeds, datasets=("d",)):
    return pd.DataFrame(
        [
            {"dataset": d, "strategy": s, "seed": k, "round": 0}
            for d in datasets
            for s in strategies
            for k in seeds
        ]
    )


def test_line_names_the_cells_nobody_asked_for():
    df = _cells(["random", "entropy", "jin"], [0, 1, 2])
    last = {"datasets": ["d"], "strategies": ["random", "jin"], "seeds": [0, 1]}
    text = folder_cells_markdown(df, last)
    assert text.startswith("Cells from earlier commands in this folder")
    # 9 cells; asked for: random and jin on seeds 0 and 1 = 4; the other 5 extra
    assert "5 of 9 cells" in text
    assert "strategies entropy" in text and "seeds 2" in text
    assert "strategies random, jin" in text  # what the latest command asked


def test_no_line_when_every_cell_was_asked_for_or_the_grid_is_unknown():
    df = _cells(["random"], [0, 1])
    last = {"datasets": ["d"], "strategies": ["random"], "seeds": [0, 1, 2]}
    assert folder_cells_markdown(df, last) == ""
    assert folder_cells_markdown(df, None) == ""


@pytest.mark.slow
def test_report_of_a_grown_folder_says_which_cells_come_from_it(tmp_path):
    data = {"toy": make_fral_classification(n_samples=200, random_state=0)}
    kw = dict(
        n_rounds=1,
        budget=5,
        initial_size=20,
        val_size=60,
        test_size=60,
        estimator_params={"max_epochs": 1, "attack_n_steps": 1},
        eval_attack=2,
        torch_threads=1,
        progress=False,
        out_dir=tmp_path,
    )
    run_fral(data, ["random", "entropy"], seeds=1, **kw)
    run_fral(data, ["random"], seeds=1, **kw)  # the latest command: random only
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["last_grid"]["strategies"] == ["random"]
    _, text, _ = write_report(tmp_path, tmp_path / "report", n_boot=50)
    line = [ln for ln in text.splitlines() if ln.startswith("Cells from earlier")]
    assert line and "strategies entropy" in line[0] and "1 of 2 cells" in line[0]
    assert "| entropy |" in text  # still reported, with the line saying why
    run_fral(data, ["random", "entropy"], seeds=1, **kw)  # asks for both again
    _, text, _ = write_report(tmp_path, tmp_path / "report", n_boot=50)
    assert "Cells from earlier commands" not in text
