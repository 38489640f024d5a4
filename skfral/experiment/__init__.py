"""Experiments: compare JIN with the baselines over data sets, strategies and seeds.

- :func:`run_fral`: the tidy results table (one row per data set, strategy,
  seed and round), run in parallel through joblib (local processes, dask,
  ray) and resumable from an ``out_dir``.
- :func:`summarize`, :func:`paired_differences`, :func:`plot_learning_curves`:
  the summary table (final round and mean over rounds, paired differences
  against a baseline) and learning curves.
- :func:`confidence_intervals`, :func:`paired_comparisons`, :func:`verdict`,
  :func:`win_tie_loss`, :func:`complete_rounds`: bootstrap intervals over
  seeds, paired t intervals and Wilcoxon tests against every other strategy,
  the one win/tie/loss rule and its table, and what an interrupted run can be
  summarised on.
- :class:`FRALRecorder`: the same tidy table from a user's own loop.
- :data:`DATASETS`, :func:`load_dataset`, :func:`default_estimator`: the named
  data sets and the default robust nets.
- :func:`query_batch`, :func:`merge_labels`, :func:`fit_model`,
  :func:`predict`, :func:`audit`: label your own data (which rows to label
  next and why, merge the answers, use and audit the final model).
- The command line ``skfral run | report | demo`` and ``skfral query | merge |
  fit | predict | audit`` (also ``python -m skfral``).
"""

from .._lazy import lazy_exports

# Imported on first use (PEP 562): ``import skfral.experiment`` (and the
# command line) costs nothing until a name is used. One entry per module;
# every name is also in __all__.
_EXPORTS = {
    "._label_merge": ("MergeResult", "merge_labels"),
    "._label_model": ("audit", "fit_model", "predict"),
    "._labelling": ("QueryResult", "default_state_dir", "query_batch"),
    "._recorder": ("FRALRecorder",),
    "._catalog": ("DATASETS", "dataset_names", "default_estimator", "load_dataset"),
    "._runner": (
        "RESULT_COLUMNS",
        "TIMING_COLUMNS",
        "VALIDATION_COLUMNS",
        "derive_seed",
        "run_fral",
    ),
    "._stats": (
        "SUMMARY_METRICS",
        "VERDICT_RULE",
        "TrivialModelWarning",
        "complete_rounds",
        "confidence_intervals",
        "min_seeds",
        "paired_comparisons",
        "paired_differences",
        "per_seed",
        "plot_learning_curves",
        "summarize",
        "summary_markdown",
        "verdict",
        "win_tie_loss",
        "write_report",
    ),
    "._store": ("load_results",),
}

__all__ = [
    "DATASETS",
    "FRALRecorder",
    "MergeResult",
    "QueryResult",
    "RESULT_COLUMNS",
    "VALIDATION_COLUMNS",
    "SUMMARY_METRICS",
    "TIMING_COLUMNS",
    "TrivialModelWarning",
    "VERDICT_RULE",
    "audit",
    "complete_rounds",
    "confidence_intervals",
    "dataset_names",
    "default_state_dir",
    "default_estimator",
    "derive_seed",
    "fit_model",
    "load_dataset",
    "load_results",
    "min_seeds",
    "merge_labels",
    "paired_comparisons",
    "paired_differences",
    "per_seed",
    "plot_learning_curves",
    "predict",
    "query_batch",
    "run_fral",
    "summarize",
    "summary_markdown",
    "verdict",
    "win_tie_loss",
    "write_report",
]

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, __all__)
