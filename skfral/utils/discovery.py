"""Discovery of skfral's public strategies and estimators (for the common tests)."""

import inspect

__all__ = ["all_strategies"]


def all_strategies():
    """Every public query strategy as ``(short_name, class)`` pairs, sorted by name.

    Examples
    --------
    >>> from skfral.utils.discovery import all_strategies
    >>> [name for name, _ in all_strategies()][:3]
    ['badge', 'coreset', 'entropy']
    """
    from .. import query

    pairs = []
    for name, cls in query.STRATEGIES.items():
        if inspect.isclass(cls) and issubclass(cls, query.BaseQueryStrategy):
            pairs.append((name, cls))
    public = {
        cls
        for cls in vars(query).values()
        if inspect.isclass(cls)
        and issubclass(cls, query.BaseQueryStrategy)
        and cls is not query.BaseQueryStrategy
    }
    missing = public - {cls for _, cls in pairs}
    if missing:
        raise RuntimeError(
            f"strategies {sorted(c.__name__ for c in missing)} are public but have no "
            "short name in skfral.query.STRATEGIES: register them."
        )
    return sorted(pairs)
