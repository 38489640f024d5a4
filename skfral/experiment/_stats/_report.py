"""``write_report`` (``skfral report``): a run's summary as Markdown, CSV and curves."""

import warnings
from pathlib import Path

import numpy as np

from ...metrics import WORST_GROUP_METRICS
from ._curves import CURVE_METRICS, plot_learning_curves
from ._paired import paired_comparisons
from ._seeds import SUMMARY_METRICS, complete_rounds
from ._tables import (
    BASELINES,
    _incomplete_warning,
    _summarize,
    comparisons_markdown,
    incomplete_markdown,
    summary_markdown,
)

__all__ = ["write_report"]


def _focus(results):
    """The strategies whose comparisons a report details: JIN's, else all."""
    if "base_strategy" in results.columns:
        jin = results.loc[results["base_strategy"] == "jin", "strategy"]
        if len(jin):
            return list(dict.fromkeys(jin))
    return None


def folder_cells_markdown(results, last_grid):
    """The line naming the cells of a folder that the latest command did not ask for.

    A run folder grows: a later command may ask for fewer data sets,
    strategies or seeds than the folder holds, and ``skfral report`` then
    reports them all. This says which ones come from earlier commands.

    Parameters
    ----------
    results : pandas.DataFrame
        The folder's results table.
    last_grid : mapping or None
        ``{"datasets": [...], "strategies": [...], "seeds": [...]}``: the
        grid of the latest command (the manifest's ``last_grid``).

    Returns
    -------
    text : str
        Markdown (empty when every cell was asked for, or the grid is unknown).
    """
    if not last_grid:
        return ""
    keys = ("dataset", "strategy", "seed")
    asked = {
        "dataset": {str(v) for v in last_grid.get("datasets") or []},
        "strategy": {str(v) for v in last_grid.get("strategies") or []},
        "seed": {str(v) for v in last_grid.get("seeds") or []},
    }
    cells = results[list(keys)].drop_duplicates()
    extra = np.zeros(len(cells), dtype=bool)
    names = []
    for key, title in zip(keys, ("data sets", "strategies", "seeds"), strict=True):
        values = list(dict.fromkeys(cells[key]))
        others = [v for v in values if str(v) not in asked[key]]
        extra |= ~cells[key].astype(str).isin(asked[key]).to_numpy()
        if others:
            names.append(f"{title} {', '.join(map(str, others))}")
    if not extra.any():
        return ""
    wanted = "; ".join(
        f"{title} {', '.join(map(str, last_grid.get(k) or []))}"
        for k, title in (
            ("datasets", "data sets"),
            ("strategies", "strategies"),
            ("seeds", "seeds"),
        )
    )
    return (
        f"Cells from earlier commands in this folder: {int(extra.sum())} of "
        f"{len(cells)} cells ({'; '.join(names)}) were not asked for by the "
        f"latest command ({wanted}); they are reported with the others.\n"
    )


def _read_run(path):
    """Results, n_rounds, expected cells and latest grid of a run folder."""
    from .._store import RunStore, load_results

    results = load_results(path)
    manifest = RunStore(path).read_manifest() or {}
    config = manifest.get("config", {})
    n_rounds = config.get("n_rounds")
    cells = None
    if {"datasets", "strategies", "seeds"} <= set(config):
        cells = [
            (d, s, seed)
            for d in config["datasets"]
            for s in config["strategies"]
            for seed in config["seeds"]
        ]
    return results, n_rounds, cells, manifest.get("last_grid")


def write_report(
    results,
    out_dir,
    *,
    n_rounds=None,
    confidence=0.95,
    n_boot=10_000,
    random_state=0,
):
    """Write ``summary.md``, ``summary.csv`` and learning-curve PNGs.

    The report summarises complete rounds only: on a partial run folder (an
    interrupted or growing run), cells that have not finished every round
    are left out and listed by name (data set, strategy, seed, rounds done /
    expected) at the top of ``summary.md``.

    On a run folder grown by several commands, cells that the latest command
    did not ask for (other data sets, strategies or seeds) are reported too,
    and a line at the top says which (``Cells from earlier commands in this
    folder: ...``).

    Parameters
    ----------
    results : pandas.DataFrame, str or path
        The table of :func:`~skfral.experiment.run_fral`,
        :func:`~skfral.experiment.load_results` or
        :meth:`FRALRecorder.to_frame
        <skfral.experiment.FRALRecorder.to_frame>`; or a run folder (then
        the expected rounds and cells come from its manifest, so cells not
        started yet are listed too).
    out_dir : str or path
        Folder to write into (created if needed).
    n_rounds : int or None, default=None
        The rounds every cell should have (``0..n_rounds``); ``None``: from
        the run folder's manifest, else the highest round of each data set.
    confidence : float, default=0.95
        Coverage of the bootstrap intervals.
    n_boot : int, default=10000
        Bootstrap resamples of the seeds.
    random_state : int, default=0
        Seed of the bootstrap.

    Returns
    -------
    summary : pandas.DataFrame
        The :func:`summarize` table.
    text : str
        Its Markdown: incomplete cells, then per data set the win/tie/loss
        table, the values with their intervals, the paired differences of
        JIN's strategies (every strategy when none is JIN) against every
        other strategy with intervals and Wilcoxon tests.
    files : list of Path
        Everything written: ``summary.md``, ``summary.csv``,
        ``curves_<dataset>.png`` (worst-group standard and robust accuracy) and
        ``curves_<dataset>_balanced.png`` (their balanced versions).

    Examples
    --------
    >>> import tempfile
    >>> import pandas as pd
    >>> from skfral.experiment import write_report
    >>> df = pd.DataFrame({"dataset": "d", "strategy": ["random"] * 4 + ["jin"] * 4,
    ...                    "seed": [0, 0, 1, 1] * 2, "round": [0, 1] * 4,
    ...                    "n_labels": [10, 20] * 4, "majority_class_level": 0.5,
    ...                    "worst_group_standard_accuracy": 0.6,
    ...                    "worst_group_robust_accuracy": 0.5})
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     summary, text, files = write_report(df, tmp, n_boot=200)
    >>> [f.name for f in files]
    ['summary.md', 'summary.csv', 'curves_d.png']
    """
    from .._store import atomic_write, slug

    expected = last_grid = None
    if isinstance(results, str | Path):
        results, manifest_rounds, expected, last_grid = _read_run(results)
        if n_rounds is None:
            n_rounds = manifest_rounds
    metrics = [m for m in SUMMARY_METRICS if m in results.columns]
    stats = dict(confidence=confidence, n_boot=n_boot, random_state=random_state)
    full, incomplete = complete_rounds(
        results, n_rounds=n_rounds, expected_cells=expected
    )
    if len(full) == 0:
        raise ValueError(
            "the results have no complete round to report: "
            + _incomplete_warning(incomplete)
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # listed in the report
        comparisons = paired_comparisons(full, metrics=metrics, **stats)
        summary = _summarize(
            full,
            baselines=BASELINES,
            metrics=metrics,
            n_rounds=None,
            stats=stats,
            comparisons=comparisons,
        )
    text = "# FRAL results\n\n"
    from_folder = folder_cells_markdown(full, last_grid)
    if from_folder:
        text += from_folder + "\n"
    if len(incomplete):
        text += incomplete_markdown(incomplete) + "\n"
    text += summary_markdown(summary, metrics=metrics)
    detail = comparisons_markdown(comparisons, strategies=_focus(full))
    if detail:
        detail = "\n".join(
            "#" + ln if ln.startswith("#") else ln for ln in detail.splitlines()
        )
        text += (
            "\n## Paired comparisons (seed by seed; t interval and exact Wilcoxon "
            "signed-rank test)\n\n" + detail
        )
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files = [out / "summary.md", out / "summary.csv"]
    atomic_write(files[0], text)
    atomic_write(files[1], summary.to_csv(index=False))
    balanced = tuple(m for m in WORST_GROUP_METRICS if "balanced" in m)
    plain = [m for m in CURVE_METRICS if m in full.columns]
    for dataset in dict.fromkeys(full["dataset"]):
        if plain:
            path = out / f"curves_{slug(dataset)}.png"
            files.append(
                plot_learning_curves(full, path, dataset=dataset, metrics=plain)
            )
        if all(m in full.columns for m in balanced):
            path = out / f"curves_{slug(dataset)}_balanced.png"
            files.append(
                plot_learning_curves(full, path, dataset=dataset, metrics=balanced)
            )
    return summary, text, files
