"""The lead tables of README.rst and the user guide (benchmarks/bench_quality.py).

The numbers are built so that each paired difference is known exactly: JIN is
``+0.1`` above ``entropy`` on every seed of one data set (a win, CI
``[+0.1, +0.1]``) and ``0.05`` below it on every seed of another (a loss).
"""

import numpy as np
import pandas as pd
import pytest

from benchmarks import bench_quality as bq


def _table():
    rows = []
    rng = np.random.default_rng(0)
    for dataset, delta in (("synthetic", 0.1), ("german", -0.05)):
        for seed in range(6):
            base = 0.5 + 0.05 * rng.random()
            for rnd in range(3):
                for strategy, value in (("entropy", base), ("jin", base + delta)):
                    rows.append(
                        {
                            "dataset": dataset,
                            "strategy": strategy,
                            "seed": seed,
                            "round": rnd,
                            "n_labels": 10 * (rnd + 1),
                            "worst_group_robust_accuracy": value,
                            "worst_group_robust_balanced_accuracy": value - 0.1,
                            "majority_class_level": 0.6,
                        }
                    )
    return pd.DataFrame(rows)


def test_lead_summary_gives_each_paired_difference_with_its_outcome():
    text = bq.lead_summary(_table(), lead="jin")
    # one table per robust metric, data sets in the suite's order
    assert text.count(".. list-table::") == 2
    assert "synthetic (6 seeds)" in text and "german (6 seeds)" in text
    assert text.index("synthetic (6 seeds)") < text.index("german (6 seeds)")
    entropy_rows = [
        block for block in text.split("   * - ") if block.startswith("``entropy``")
    ]
    assert len(entropy_rows) == 2
    for row in entropy_rows:
        cells = [c.strip() for c in row.split("     - ")[1:]]
        assert cells == [
            "+0.100 [+0.100, +0.100] **W**",
            "-0.050 [-0.050, -0.050] **L**",
        ]
    # totals: one win on synthetic, one loss on german
    totals = text.split("   * - W / T / L")[1].split(".. list-table::")[0]
    assert [c.strip() for c in totals.split("     - ")[1:]] == [
        "1 / 0 / 0",
        "0 / 0 / 1",
    ]
    # margin is identical to entropy on two classes; strategies never run are left out
    assert "as entropy (two classes)" in text
    assert "``badge``" not in text


def test_lead_summary_marks_a_baseline_with_fewer_seeds():
    df = _table()
    df = df[~((df["strategy"] == "entropy") & (df["seed"] == 5))]
    text = bq.lead_summary(df, lead="jin")
    # 5 paired seeds: fewer than 6 non-zero differences can never be a win
    assert "+0.100 [+0.100, +0.100] T (too few seeds) (5 seeds)" in text


def test_report_marks_come_from_the_one_verdict_rule():
    from skfral.experiment import verdict

    for diffs in ([0.1] * 6, [-0.1] * 6, [0.1] * 5, [0.1, -0.1] * 3):
        outcome, reason = verdict(diffs)
        expected = {"win": "**W**", "loss": "**L**"}.get(outcome)
        if expected is None:
            expected = "T (too few seeds)" if len(diffs) == 5 else "T"
        assert bq.verdict_mark(outcome, reason, tie="T") == expected, diffs


def test_cell_values_keep_what_the_tables_need():
    df = _table()
    df["extra"] = 1.0
    cells = bq.cell_values(df)
    assert "extra" not in cells.columns
    # W/T/L from the saved values equal those from the full table
    a = bq.lead_summary(df, lead="jin")
    b = bq.lead_summary(cells.reset_index(drop=True), lead="jin")
    assert a == b


def test_update_readme_replaces_only_the_marked_block(tmp_path):
    readme = tmp_path / "README.rst"
    readme.write_text(
        "Title\n=====\n\n.. begin-results-table\n\nold table\n\n"
        ".. end-results-table\n\nafter\n",
        encoding="utf-8",
    )
    bq.update_readme("new table\n", readme=readme)
    assert readme.read_text(encoding="utf-8") == (
        "Title\n=====\n\n.. begin-results-table\n\nnew table\n\n"
        ".. end-results-table\n\nafter\n"
    )


def test_readme_and_user_guide_lead_with_the_results_table():
    """The full lead tables live in docs/user_guide/lead_tables.inc (the user guide
    includes them first); README.rst shows the first, compact (issue 27)."""
    lead = (bq.ROOT / "docs" / "user_guide" / "lead_tables.inc").read_text()
    start, end = lead.index(bq.LEAD_BEGIN), lead.index(bq.LEAD_END)
    assert start < end
    guide = (bq.ROOT / "docs" / "user_guide" / "index.rst").read_text()
    assert ":start-after: .. begin-results-table" in guide
    assert guide.index("begin-results-table") < guide.index(".. toctree::")
    text = (bq.ROOT / "README.rst").read_text(encoding="utf-8")
    assert text.index(".. begin-lead-table") < text.index("Where to read more")


def test_lead_figure_draws_one_panel_per_data_set(tmp_path):
    pytest.importorskip("matplotlib")
    path = bq.lead_figure(_table(), tmp_path / "lead.png")
    from matplotlib.image import imread

    image = imread(path)
    assert image.shape[0] > 100 and image.shape[1] > 2 * image.shape[0] * 0.5


def test_lead_figure_draws_the_floor_when_recorded(tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    from matplotlib.figure import Figure

    drawn = {}
    real = Figure.legend

    def spy(self, handles, labels, **kw):
        drawn["labels"] = list(labels)
        return real(self, handles, labels, **kw)

    monkeypatch.setattr(Figure, "legend", spy)
    df = _table()
    df["floor_worst_group_accuracy"] = 0.55
    bq.lead_figure(df, tmp_path / "lead.png")
    assert "majority floor" in drawn["labels"]
    bq.lead_figure(_table(), tmp_path / "lead2.png")
    assert "majority floor" not in drawn["labels"]


def test_report_regenerates_from_the_saved_cell_values(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(bq, "FIGURES", tmp_path / "figures")
    path = tmp_path / "quality_cells.csv"
    table = _table()
    table["query_seconds"] = 0.1  # the run's timings, saved with the values
    table["worst_group_standard_accuracy"] = table["worst_group_robust_accuracy"]
    bq.cell_values(table).to_csv(path, index=False)
    bq.main(["--suite", "quality", "--from-csv", str(path), "--seeds", "6"])
    text = capsys.readouterr().out
    assert "Verdicts (skfral.experiment.verdict)" in text
    # JIN +0.1 on 6 seeds of synthetic: a win against entropy from the CSV alone
    synthetic = text.split("### synthetic")[1].split("### german")[0]
    assert "**W**" in synthetic
    assert (tmp_path / "figures" / "quality_synthetic.png").exists()


def _bar_table(deltas):
    """jin = baseline + delta + seed noise, 8 seeds, per (data set, baseline)."""
    rows = []
    rng = np.random.default_rng(1)
    for dataset, by_baseline in deltas.items():
        for seed in range(8):
            base = 0.5 + 0.05 * rng.random()
            values = {"jin": base}
            for baseline, delta in by_baseline.items():
                values[baseline] = base - delta + 0.002 * rng.standard_normal()
            for strategy, value in values.items():
                for rnd in range(2):
                    rows.append(
                        {
                            "dataset": dataset,
                            "strategy": strategy,
                            "seed": seed,
                            "round": rnd,
                            "worst_group_robust_accuracy": value,
                            "worst_group_robust_balanced_accuracy": value - 0.1,
                        }
                    )
    return pd.DataFrame(rows)


def test_bar_section_met_only_with_no_loss_and_enough_wins():
    # jin clearly above random everywhere and above entropy on two data sets
    wins = {d: {"random": 0.05, "entropy": 0.0} for d in ("a", "b", "c", "d")}
    wins["a"]["entropy"] = wins["b"]["entropy"] = 0.05
    text = bq.bar_section(_bar_table(wins))
    assert "`jin`: met" in text
    assert "4 data set(s) (a, b, c, d;" in text
    assert "Wins against entropy: 2 data set(s) (a, b;" in text
    # one clear loss to a baseline (badge on d) breaks the bar and is named
    wins["d"]["badge"] = -0.05
    text = bq.bar_section(_bar_table(wins))
    assert "`jin`: not met" in text
    assert "d badge WG robust (rounds) -0.05" in text
    # three data sets beaten by random's margin are not enough
    text = bq.bar_section(_bar_table({d: wins[d] for d in ("a", "b", "c")}))
    assert "`jin`: not met" in text


def test_bar_section_lists_losses_to_jin_variants_apart():
    table = _bar_table(
        {d: {"random": 0.05, "entropy": 0.05, "jin_paper": -0.05} for d in "abcd"}
    )
    text = bq.bar_section(table)
    assert "`jin`: met" in text  # jin_paper is not a baseline
    assert "Losses to other variants of JIN (not baselines): a jin_paper" in text
