"""Ctrl-C and SIGTERM always stop a run, and never leave a half-finished round.

Libraries swallow ``KeyboardInterrupt``: skorch's ``NeuralNet.partial_fit``
catches it and returns the partly trained net (``fit`` "succeeds"), and
modAL's ``BaseLearner.query`` retries the strategy inside a bare ``except:``.
A run that trusted them saved a half-trained net as a finished round.

While :func:`interrupt_guard` is active in the main thread of a process,
SIGINT and SIGTERM run a handler that **records the signal** and raises
:class:`Interrupted` (a ``KeyboardInterrupt``). Where a library swallows it,
the record stays: the cell calls :func:`raise_if_interrupted` after every
query, fit and evaluation, and right before anything of a round is written,
so a round reaches the disk only when it finished. Worker processes
(``n_jobs > 1``) enter the guard around each cell too: a Ctrl-C at the
terminal reaches the whole process group, workers included.

A signal whose disposition is "ignored" when the guard starts (e.g. SIGINT
of a background job started by a non-interactive shell, or ``nohup``) stays
ignored. The previous handlers come back when the outermost guard ends.
"""

import signal
import threading
from contextlib import contextmanager

__all__ = [
    "Interrupted",
    "exit_status",
    "interrupt_guard",
    "raise_if_interrupted",
    "signal_name",
]

SIGNALS = (signal.SIGINT, signal.SIGTERM)

# The first signal received under the active guard (None: none yet), the last
# one received since the outermost guard started (kept after it ends, for the
# exit status), and how many guards are active in this process's main thread.
_STATE = {"signum": None, "last": None, "depth": 0}


def signal_name(signum):
    """``"SIGINT"`` for ``signal.SIGINT``; ``"signal 42"`` for an unknown one."""
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


class Interrupted(KeyboardInterrupt):
    """The run was stopped by a signal (SIGINT or SIGTERM).

    A ``KeyboardInterrupt``, so ``except KeyboardInterrupt`` catches it.

    Parameters
    ----------
    signum : int, default=signal.SIGINT
        The signal received; :func:`exit_status` gives ``128 + signum``.
    """

    def __init__(self, signum=signal.SIGINT):
        super().__init__(int(signum))  # args (signum,): pickles across processes
        self.signum = int(signum)

    def __str__(self):
        return f"interrupted by {signal_name(self.signum)}"


def exit_status(exc):
    """The shell's exit status for an interrupt: 130 for SIGINT, 143 for SIGTERM.

    The signal is the one ``exc`` carries (an :class:`Interrupted`), else the
    last one a guard received (a library may have turned it into a plain
    ``KeyboardInterrupt``), else SIGINT.
    """
    signum = getattr(exc, "signum", None) or _STATE["last"] or signal.SIGINT
    return 128 + int(signum)


def _handler(signum, frame):
    if _STATE["signum"] is None:
        _STATE["signum"] = signum
    _STATE["last"] = signum
    raise Interrupted(signum)


@contextmanager
def interrupt_guard():
    """Record SIGINT and SIGTERM while the block runs, and raise :class:`Interrupted`.

    Only the outermost guard of the main thread installs the handlers and
    restores the previous ones afterwards; an error that leaves it after a
    signal arrived is raised as :class:`Interrupted` (the signal broke a
    library half-way); a nested guard, or one entered in
    another thread (joblib's threading backend, dask), changes nothing (the
    record is shared by the whole process).
    """
    if threading.current_thread() is not threading.main_thread() or _STATE["depth"]:
        yield
        return
    previous = {sig: signal.getsignal(sig) for sig in SIGNALS}
    _STATE["signum"] = _STATE["last"] = None
    _STATE["depth"] = 1
    try:
        for sig, handler in previous.items():
            if handler is not signal.SIG_IGN:  # a job told to ignore it keeps doing so
                signal.signal(sig, _handler)
        try:
            yield
        except Exception as exc:
            # An error raised after a signal arrived is the interrupt's doing: the
            # exception raised by the handler broke a library half-way (e.g. joblib
            # starting its worker pool, then failing to join a thread that never
            # started). The run stops as interrupted, not as a crash.
            if _STATE["signum"] is None:
                raise
            raise Interrupted(_STATE["signum"]) from exc
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, signal.SIG_DFL if handler is None else handler)
        _STATE["depth"] = 0
        _STATE["signum"] = None


def raise_if_interrupted():
    """Raise :class:`Interrupted` if a signal arrived under :func:`interrupt_guard`.

    Call it after any library call that may have swallowed the interrupt
    (skorch's fit, modAL's query) and before writing a result.
    """
    signum = _STATE["signum"]
    if signum is not None:
        raise Interrupted(signum)
