"""Old home of the summary tables: everything is in :mod:`._stats` now."""

from ._stats import (  # noqa: F401
    BASELINES,
    SUMMARY_METRICS,
    comparisons_markdown,
    incomplete_markdown,
    paired_differences,
    plot_learning_curves,
    summarize,
    summary_markdown,
    write_report,
)

__all__ = [
    "SUMMARY_METRICS",
    "paired_differences",
    "plot_learning_curves",
    "summarize",
    "summary_markdown",
    "write_report",
]
