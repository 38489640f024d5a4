"""Names of the labelling loop's files and choices, and where its state lives.

Light (pathlib only): the command line reads them before it parses, so that
``skfral --help`` loads neither torch nor skorch.
"""

from pathlib import Path

__all__ = [
    "ATTACKS",
    "FORMATS",
    "HISTORY",
    "MODEL",
    "SETTINGS",
    "TO_LABEL",
    "default_state_dir",
]

SETTINGS = "settings.json"
HISTORY = "history.json"
MODEL = "model"
TO_LABEL = "to_label.csv"
FORMATS = ("csv", "label-studio")
ATTACKS = ("pgd", "apgd-ce", "apgd-dlr")


def default_state_dir(data):
    """The state folder next to DATA: ``loans.csv`` -> ``loans.skfral/``.

    Parameters
    ----------
    data : str or path-like
        The table (or an image folder's labels CSV).

    Returns
    -------
    state_dir : pathlib.Path

    Examples
    --------
    >>> from skfral.experiment import default_state_dir
    >>> default_state_dir("data/loans.csv").as_posix()
    'data/loans.skfral'
    """
    data = Path(data)
    return data.parent / f"{data.name.split('.')[0]}.skfral"
