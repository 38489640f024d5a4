"""Scheduling cells over joblib workers, and the torch threads each one gets.

Threads never oversubscribe the cores by default: a cell runs with
``max(1, cores // workers)`` torch threads on a local backend (loky,
processes, threads, sequential) and with 1 thread on a cluster backend
(dask, ray), where many cells share each machine. An explicit
``torch_threads`` that asks for more than the cores (threads x local workers
> cores) is honoured with a warning.
"""

import os
import warnings

import joblib

from .._threads import passive_wait

__all__ = ["available_cores", "cell_threads", "n_workers", "run_cells"]

# Dispatch expensive cells first so that the last ones to finish are short.
_COST = {"fal": 10.0, "badge": 2.0, "coreset": 2.0, "jin": 1.5}
_LOCAL_BACKENDS = (
    "LokyBackend",
    "MultiprocessingBackend",
    "ThreadingBackend",
    "SequentialBackend",
)


def available_cores():
    """Cores this process may use (affinity and cgroup quotas respected)."""
    return max(1, int(joblib.cpu_count()))


def local_backend():
    """Whether the active joblib backend runs on this machine."""
    from joblib.parallel import get_active_backend

    backend, _ = get_active_backend()
    return type(backend).__name__ in _LOCAL_BACKENDS


def n_workers(n_jobs, n_cells=None):
    """Cells that run at the same time under the active joblib backend.

    A local backend runs ``min(effective n_jobs, n_cells)`` cells at once; a
    cluster backend (dask, ray) is counted as many workers (its slots).
    """
    n = joblib.effective_n_jobs(n_jobs)
    if not local_backend():
        return max(2, int(n), int(joblib.effective_n_jobs(-1)))
    if n_cells is not None:
        n = min(n, n_cells)
    return max(1, int(n))


def default_threads(workers, *, local=True):
    """Torch threads per cell: ``cores // workers`` locally, 1 on a cluster."""
    if not local:
        return 1
    return max(1, available_cores() // max(1, workers))


def check_threads(torch_threads, workers, *, local=True):
    """Warn when ``torch_threads`` x local workers exceed the cores."""
    if torch_threads is None or not local:
        return
    cores = available_cores()
    if torch_threads * workers > cores:
        warnings.warn(
            f"torch_threads={torch_threads} x {workers} parallel cell(s) = "
            f"{torch_threads * workers} threads on {cores} core(s): the threads "
            "will compete for the cores and every fit slows down (one fit measured "
            "100x slower on busy cores). Leave torch_threads=None (it picks "
            f"{default_threads(workers)} here) or lower n_jobs.",
            UserWarning,
            stacklevel=3,
        )


def _load():
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):  # pragma: no cover - e.g. Windows
        return 0.0


def check_busy(torch_threads, threads, *, local=True):
    """Warn when the automatic thread count meets cores that are already busy."""
    if torch_threads is not None or not local or threads <= 1:
        return
    if passive_wait():  # idle threads sleep: extra ones cost little (issue 28)
        return
    cores, load = available_cores(), _load()
    if load >= cores / 2:
        warnings.warn(
            f"the machine is busy (load average {load:.1f} on {cores} cores) and "
            f"each cell would use {threads} torch threads: on busy cores one thread "
            "is often several times faster (benchmarks/results/threads.md). Pass "
            "torch_threads=1 (--torch-threads 1) to share the machine; the thread "
            "count is kept automatic (cores // parallel cells) so that a run's "
            "numbers do not depend on the load.",
            UserWarning,
            stacklevel=3,
        )


def cell_threads(settings):
    """The torch thread count of a cell run under ``settings``."""
    if settings.torch_threads is not None:
        return settings.torch_threads
    return settings.default_threads


def run_cells(todo, settings, n_jobs, *, run, total, done, progress, on_result):
    """Run ``todo`` cells through joblib, costly ones first; call ``on_result``.

    Parameters
    ----------
    todo : list of Cell
    settings : Settings
    run : callable
        ``run(cell, settings) -> (cell.order, rows)``, run in the workers
        (``_cell.run_cell_keyed``; given by the caller, so that scheduling
        does not depend on what a cell does).
    n_jobs : int or None
    total, done : int
        Cells in the grid and cells already finished (for the progress bar).
    progress : bool
        Show a tqdm bar over cells (each cell shows its own over rounds).
    on_result : callable
        ``on_result(order, rows)`` for every finished cell, as it finishes.
    """
    from tqdm.auto import tqdm

    todo = sorted(todo, key=lambda c: -_COST.get(c.short, 1.0))
    bar = tqdm(
        total=total,
        initial=done,
        desc="FRAL cells",
        unit="cell",
        disable=not progress,
        leave=True,
    )
    try:
        if todo:
            parallel = joblib.Parallel(n_jobs=n_jobs, return_as="generator_unordered")
            outputs = parallel(joblib.delayed(run)(c, settings) for c in todo)
            for order, rows in outputs:
                on_result(order, rows)
                bar.update(1)
    finally:
        bar.close()
