"""Experiments: compare JIN with the baselines over data sets, strategies and seeds.

- :func:`run_fral`: the tidy results table (one row per data set, strategy,
  seed and round), run in parallel through joblib (local processes, dask,
  ray) and resumable from an ``out_dir``.
- :func:`summarize`, :func:`paired_differences`, :func:`plot_learning_curves`:
  the summary table (final round and mean over rounds, paired differences
  against a baseline) and learning curves.
- :func:`confidence_intervals`, :func:`paired_comparisons`,
  :func:`win_tie_loss`, :func:`complete_rounds`: bootstrap intervals over
  seeds, paired Wilcoxon tests against every other strategy, the
  win/tie/loss table, and what an interrupted run can be summarised on.
- :class:`FRALRecorder`: the same tidy table from a user's own loop.
- :data:`DATASETS`, :func:`load_dataset`, :func:`default_estimator`: the named
  data sets and the default robust nets.
- The command line ``skfral run | report | demo`` (also ``python -m skfral``).
"""

from .._lazy import lazy_exports

# Imported on first use (PEP 562): ``import skfral.experiment`` (and the
# command line) costs nothing until a name is used. One entry per module;
# every name is also in __all__.
_EXPORTS = {
    "._recorder": ("FRALRecorder",),
    "._registry": ("DATASETS", "dataset_names", "default_estimator", "load_dataset"),
    "._runner": (
        "RESULT_COLUMNS",
        "TIMING_COLUMNS",
        "VALIDATION_COLUMNS",
        "derive_seed",
        "run_fral",
    ),
    "._stats": (
        "complete_rounds",
        "confidence_intervals",
        "paired_comparisons",
        "per_seed",
        "win_tie_loss",
    ),
    "._store": ("load_results",),
    "._summary": (
        "SUMMARY_METRICS",
        "paired_differences",
        "plot_learning_curves",
        "summarize",
        "summary_markdown",
        "write_report",
    ),
}

__all__ = [
    "DATASETS",
    "FRALRecorder",
    "RESULT_COLUMNS",
    "VALIDATION_COLUMNS",
    "SUMMARY_METRICS",
    "TIMING_COLUMNS",
    "complete_rounds",
    "confidence_intervals",
    "dataset_names",
    "default_estimator",
    "derive_seed",
    "load_dataset",
    "load_results",
    "paired_comparisons",
    "paired_differences",
    "per_seed",
    "plot_learning_curves",
    "run_fral",
    "summarize",
    "summary_markdown",
    "win_tie_loss",
    "write_report",
]

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, __all__)
