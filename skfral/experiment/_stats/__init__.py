"""The statistics of a run, one home: per seed, paired, tables, report.

- :mod:`._seeds`: each strategy over seeds (per-seed values, bootstrap
  intervals, complete rounds of a partial run);
- :mod:`._paired`: strategies against each other, seed by seed (paired
  differences, Wilcoxon tests, the win/tie/loss rule);
- :mod:`._tables`: the summary table and its Markdown;
- :mod:`._report`: ``write_report`` (``skfral report``).
"""

from ._curves import plot_learning_curves
from ._floor import TrivialModelWarning, trivial_strategies, warn_if_trivial
from ._paired import (
    COMPARISON_COLUMNS,
    OUTCOMES,
    TOO_FEW_SEEDS,
    VERDICT_RULE,
    min_seeds,
    paired_comparisons,
    paired_differences,
    signed_rank_test,
    verdict,
    win_tie_loss,
)
from ._report import write_report
from ._seeds import (
    AGGREGATES,
    SUMMARY_METRICS,
    check_results_table,
    complete_rounds,
    confidence_intervals,
    per_seed,
)
from ._tables import (
    BASELINES,
    comparisons_markdown,
    incomplete_markdown,
    summarize,
    summary_markdown,
)

__all__ = [
    "AGGREGATES",
    "BASELINES",
    "COMPARISON_COLUMNS",
    "OUTCOMES",
    "TOO_FEW_SEEDS",
    "TrivialModelWarning",
    "VERDICT_RULE",
    "SUMMARY_METRICS",
    "check_results_table",
    "comparisons_markdown",
    "complete_rounds",
    "confidence_intervals",
    "incomplete_markdown",
    "min_seeds",
    "paired_comparisons",
    "paired_differences",
    "per_seed",
    "plot_learning_curves",
    "signed_rank_test",
    "summarize",
    "summary_markdown",
    "trivial_strategies",
    "verdict",
    "warn_if_trivial",
    "win_tie_loss",
    "write_report",
]
