"""What a cell is doing, for its progress bar (train, query, evaluate)."""

__all__ = ["phase_text"]

_PHASES = {
    "train": "round {r}: adversarial training",
    "query": "round {r}: query",
    "evaluate": "round {r}: evaluation, clean and attacked, {val} val + {test} test",
}


def phase_text(phase, r, split):
    """The progress-bar text of ``phase`` in round ``r`` of a cell.

    Parameters
    ----------
    phase : {"train", "query", "evaluate"}
    r : int
        The round.
    split : object
        The cell's split (``y_val``, ``y_test``).

    Returns
    -------
    text : str

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> sp = SimpleNamespace(y_val=[0] * 256, y_test=[0] * 512)
    >>> phase_text("evaluate", 1, sp)
    'round 1: evaluation, clean and attacked, 256 val + 512 test'
    >>> phase_text("query", 2, sp)
    'round 2: query'
    """
    return _PHASES[phase].format(r=r, val=len(split.y_val), test=len(split.y_test))
