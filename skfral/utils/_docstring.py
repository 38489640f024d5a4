"""Shared parameter text, written once (imbalanced-learn's ``Substitution`` pattern).

Use ``@Substitution(**shared_docs)`` (or a subset) on a class or function whose
docstring holds ``{random_state}``-style placeholders::

    @Substitution(random_state=_shared_docs["random_state"])
    class MyStrategy(BaseQueryStrategy):
        '''...

        Parameters
        ----------
        {random_state}
        '''

Only the named placeholders are replaced; other braces are left alone, and a
placeholder with no value raises at import time so a typo cannot ship.
"""

import re
import textwrap

__all__ = ["Substitution", "_shared_docs"]


def _block(text):
    return textwrap.dedent(text).strip("\n")


_shared_docs = {
    "random_state": _block(
        """
        random_state : int, RandomState instance or None, default=None
            Seeds every random choice of the call (sub-sampling, tie-breaking,
            attack starts) through :func:`sklearn.utils.check_random_state`.
            Pass an int for reproducible results across calls; see the
            scikit-learn glossary entry *random_state*."""
    ),
    "validation_set": _block(
        """
        X_val : array-like of shape (n_val, ...) or None, default=None
            Labelled validation inputs, used to find the worst group. Required.
        y_val : array-like of shape (n_val,) or None, default=None
            Labels of ``X_val``.
        sensitive_features_val : array-like of shape (n_val,) or (n_val, k) or None, \
default=None
            Group of every validation sample (several columns make
            intersectional groups)."""
    ),
    "max_candidates": _block(
        """
        max_candidates : int or None, default=None
            Score only a seeded random subset of at most this many pool samples
            (inside the allocated groups for the fair strategies), so a query's
            cost stays flat as the pool grows. ``None`` scores the whole pool."""
    ),
    "sensitive_features": _block(
        """
        sensitive_features : array-like of shape (n_samples,) or (n_samples, k)
            Group of every sample; several columns make intersectional groups
            (joined with ``","`` as fairlearn names them)."""
    ),
}


class Substitution:
    """Decorator filling ``{name}`` placeholders of a docstring with shared text.

    Each inserted block is re-indented to the placeholder's indentation.

    Parameters
    ----------
    **params : str
        The text of each placeholder, by name.

    Examples
    --------
    >>> @Substitution(random_state="random_state : int\\n    Seeds it.")
    ... def f():
    ...     '''Do it.
    ...
    ...     Parameters
    ...     ----------
    ...     {random_state}
    ...     '''
    >>> print(f.__doc__.splitlines()[4])
        random_state : int
    """

    def __init__(self, **params):
        self.params = params

    def __call__(self, obj):
        """Fill the placeholders of ``obj``'s docstring and return ``obj``."""
        doc = obj.__doc__
        if doc is None:  # python -OO
            return obj

        def fill(match):
            indent, key = match.group(1), match.group(2)
            if key not in self.params:
                return match.group(0)
            return textwrap.indent(self.params[key], indent)

        new = re.sub(r"^([ \t]*)\{(\w+)\}[ \t]*$", fill, doc, flags=re.MULTILINE)
        missing = set(re.findall(r"^[ \t]*\{(\w+)\}[ \t]*$", new, flags=re.MULTILINE))
        missing &= set(_shared_docs) | set(self.params)
        if missing:
            raise KeyError(f"Substitution left placeholders {sorted(missing)} unfilled")
        obj.__doc__ = new
        return obj
