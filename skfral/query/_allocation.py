"""Choosing groups: validation ranking, the bootstrap, how many picks each group gets.

Used by the fair strategies (:mod:`._fair_base`): :func:`rank_groups` orders
the groups worst first on the labelled validation set,
:func:`rank_groups_bootstrap` adds each group's probability of being the
worst, and :func:`allocate` turns a ranking into a count of picks per group.
"""

import numpy as np
import pandas as pd

from ..metrics import (
    GROUP_CRITERIA,
    check_batch_size,
    group_scores,
    predict_clean_and_adv,
    worst_group,
)
from ..utils._validation import (
    check_int,
    check_option,
    check_random_state,
    largest_remainder,
)

__all__ = [
    "ALLOCATIONS",
    "BOOTSTRAP_ALLOCATIONS",
    "GROUP_CRITERIA",
    "allocate",
    "candidate_quota",
    "rank_groups",
    "rank_groups_bootstrap",
    "worst_group_probabilities",
]

ALLOCATIONS = ("worst", "proportional")
# With "bootstrap" (our extension): split by the probability of being the worst.
BOOTSTRAP_ALLOCATIONS = (*ALLOCATIONS, "bootstrap")
_BOOT_CELLS = 2**22  # resampled rows held at once (memory bound of the bootstrap)


def _check_pool_groups_known(groups_val, pool_groups, known=None):
    known = (
        set(pd.unique(np.asarray(groups_val, dtype=object))) if known is None else known
    )
    missing = sorted(set(pd.unique(pool_groups)) - set(known), key=str)
    if missing:
        raise ValueError(
            f"sensitive_features has group(s) {missing[:5]} that are absent from "
            f"sensitive_features_val (validation groups: {sorted(known, key=str)}): "
            "every pool group needs validation samples to be ranked."
        )


def rank_groups(
    estimator, X_val, y_val, groups_val, *, attack, criterion, pool_groups=None
):
    """Groups from worst to best on the validation set (``skfral.metrics.worst_group``).

    ``X_val`` and ``y_val`` are expected checked (:class:`BaseFairQueryStrategy`
    does it once per call). Raises a ValueError when a group of the pool has no
    validation sample: nothing can be said about how well the model serves it.
    """
    check_option(criterion, "group_criterion", GROUP_CRITERIA)
    if pool_groups is not None:  # before any prediction or attack
        _check_pool_groups_known(groups_val, pool_groups)
    table = worst_group(
        estimator,
        X_val,
        y_val,
        sensitive_features=groups_val,
        attack=attack,
        criterion=criterion,
    )
    if pool_groups is not None:
        _check_pool_groups_known(groups_val, pool_groups, known=table.index)
    return table


def _resampled_accuracy(correct, idx):
    """Accuracy of each resample: ``correct`` (bool, per row) at rows ``idx`` (B, n)."""
    return correct[idx].mean(axis=1)


def _resampled_balanced(correct, y, idx):
    """Balanced accuracy of each resample: mean recall over the classes it holds.

    As :func:`sklearn.metrics.balanced_accuracy_score`: a class absent from a
    resample's true labels does not count.
    """
    yy, hits = y[idx], correct[idx]
    recalls = []
    for c in np.unique(y):
        mask = yy == c
        n_c = mask.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            recalls.append(np.where(n_c > 0, (mask & hits).sum(axis=1) / n_c, np.nan))
    return np.nanmean(np.vstack(recalls), axis=0)


def _resampled_scores(y, ok_clean, ok_adv, criterion, idx):
    """The group criterion (as ``skfral.metrics.worst_group``'s ``score``) per resample."""
    balanced = criterion.startswith("balanced_")
    kind = criterion.removeprefix("balanced_")

    def one(correct):
        if balanced:
            return _resampled_balanced(correct, y, idx)
        return _resampled_accuracy(correct, idx)

    if kind == "standard":
        return one(ok_clean)
    if kind == "robust":
        return one(ok_adv)
    return (one(ok_clean) + one(ok_adv)) / 2


def worst_group_probabilities(
    y_true,
    y_pred_clean,
    y_pred_adv,
    groups,
    *,
    criterion="mean",
    n_boot=1000,
    among=None,
    random_state=None,
):
    """Probability that each group is the worst, by a bootstrap of the validation set.

    The predictions are made once; only the rows are resampled: each of the
    ``n_boot`` replicates draws, inside every group, as many rows as the group
    has (with replacement), recomputes the group criterion of
    :func:`skfral.metrics.worst_group` from the given predictions, and counts
    which group scores lowest (a tie splits the count evenly). This is our
    extension, not part of the JIN paper.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Validation labels.
    y_pred_clean : array-like of shape (n_samples,)
        Predictions on the clean validation inputs.
    y_pred_adv : array-like of shape (n_samples,) or None
        Predictions on their adversarial examples; required unless
        ``criterion`` is ``"standard"`` or ``"balanced_standard"``.
    groups : array-like of shape (n_samples,)
        Group label of each validation sample (one column).
    criterion : str, default="mean"
        One of ``skfral.metrics.GROUP_CRITERIA``.
    n_boot : int, default=1000
        Number of bootstrap replicates.
    among : sequence of group labels or None, default=None
        Compete only these groups (e.g. the groups with pool samples);
        ``None``: every group of ``groups``.
    random_state : int, RandomState instance or None, default=None
        Seeds the resampling.

    Returns
    -------
    probabilities : pandas.Series
        Indexed by group (in the order of ``among``, else of first
        appearance), summing to 1.

    See Also
    --------
    skfral.metrics.worst_group : The point estimate (one ranking).
    JINQueryStrategy : ``group_allocation="bootstrap"`` splits its batch by
        these probabilities.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.zeros(40, dtype=int)
    >>> pred = np.r_[np.zeros(20, dtype=int), np.ones(15, dtype=int), np.zeros(5, dtype=int)]
    >>> groups = np.repeat(["a", "b"], 20)  # a: accuracy 1.0, b: accuracy 0.25
    >>> p = worst_group_probabilities(y, pred, None, groups, criterion="standard",
    ...                               n_boot=200, random_state=0)
    >>> p.round(2).to_dict()
    {'a': 0.0, 'b': 1.0}
    """
    check_option(criterion, "criterion", GROUP_CRITERIA)
    n_boot = check_int(n_boot, "n_boot", min_value=1)
    y_true = np.asarray(y_true)
    groups = np.asarray(groups, dtype=object)
    ok_clean = np.asarray(y_pred_clean) == y_true
    needs_adv = criterion not in ("standard", "balanced_standard")
    if needs_adv and y_pred_adv is None:
        raise ValueError(
            f"y_pred_adv is None but criterion={criterion!r} needs the predictions "
            "on adversarial inputs."
        )
    ok_adv = None if y_pred_adv is None else np.asarray(y_pred_adv) == y_true
    labels = list(pd.unique(groups)) if among is None else list(among)
    if not labels:
        raise ValueError("among is empty: expected at least one group.")
    rng = check_random_state(random_state)
    scores = np.empty((n_boot, len(labels)))
    for j, g in enumerate(labels):
        rows = np.flatnonzero(groups == g)
        if not len(rows):
            raise ValueError(f"group {g!r} has no validation sample.")
        y_g = y_true[rows]
        adv_g = None if ok_adv is None else ok_adv[rows]
        step = max(1, _BOOT_CELLS // len(rows))
        for start in range(0, n_boot, step):
            stop = min(n_boot, start + step)
            idx = rng.randint(0, len(rows), size=(stop - start, len(rows)))
            scores[start:stop, j] = _resampled_scores(
                y_g, ok_clean[rows], adv_g, criterion, idx
            )
    is_min = scores == scores.min(axis=1, keepdims=True)
    share = is_min / is_min.sum(axis=1, keepdims=True)
    return pd.Series(share.mean(axis=0), index=pd.Index(labels, dtype=object))


def predict_validation(estimator, X_val, y_val, attack):
    """``(y_val, y_clean, y_adv)``: the validation set predicted and attacked once."""
    y_val = np.asarray(y_val)
    y_clean, (y_adv,) = predict_clean_and_adv(
        estimator,
        X_val,
        y_val,
        [attack],
        n_samples=len(y_val),
        batch_size=check_batch_size(None, [attack]),
    )
    return y_val, y_clean, y_adv


def rank_groups_bootstrap(
    estimator,
    X_val,
    y_val,
    groups_val,
    *,
    attack,
    criterion,
    pool_groups=None,
    n_boot=1000,
    random_state=None,
):
    """:func:`rank_groups` plus a column ``p_worst`` (:func:`worst_group_probabilities`).

    The validation set is predicted and attacked once (as by
    :func:`skfral.metrics.worst_group`); the bootstrap reuses those
    predictions. Only the groups with pool samples (all groups when
    ``pool_groups`` is None) compete for the worst place; the others get 0.
    """
    check_option(criterion, "group_criterion", GROUP_CRITERIA)
    if pool_groups is not None:
        _check_pool_groups_known(groups_val, pool_groups)
    y_val, y_clean, y_adv = predict_validation(estimator, X_val, y_val, attack)
    table = group_scores(y_val, y_clean, y_adv, groups_val, criterion)
    among = list(table.index)
    if pool_groups is not None:
        present = set(pd.unique(np.asarray(pool_groups, dtype=object)))
        _check_pool_groups_known(groups_val, pool_groups, known=table.index)
        among = [g for g in among if g in present]
    p = worst_group_probabilities(
        y_val,
        y_clean,
        y_adv,
        groups_val,
        criterion=criterion,
        n_boot=n_boot,
        among=among,
        random_state=random_state,
    )
    table["p_worst"] = p.reindex(table.index).fillna(0.0).to_numpy()
    return table


def allocate(table, pool_groups, n_instances, allocation="worst"):
    """How many picks each group gets: a dict ``group -> count`` summing to ``n_instances``.

    ``"worst"``: the whole batch from the worst group, then the next-worst when
    it runs out. ``"proportional"``: split by each group's deficit to the best
    group (largest remainders), capped by what the pool holds, the rest filled
    worst-first. ``"bootstrap"``: split by the table's ``p_worst`` column (the
    probability of being the worst, :func:`rank_groups_bootstrap`), rounded and
    filled the same way.
    """
    check_option(allocation, "group_allocation", BOOTSTRAP_ALLOCATIONS)
    counts = pd.Series(pool_groups).value_counts()
    order = [g for g in table.index if counts.get(g, 0) > 0]
    available = {g: int(counts[g]) for g in order}
    alloc = dict.fromkeys(order, 0)
    weights = None
    if allocation == "proportional" and len(order) > 1:
        score = table.loc[order, "score"].astype(float)
        weights = (score.max() - score).clip(lower=0).to_numpy()
    elif allocation == "bootstrap" and order:
        if "p_worst" not in table:
            raise ValueError(
                "allocation='bootstrap' needs a table with a 'p_worst' column "
                "(from rank_groups_bootstrap)."
            )
        weights = table.loc[order, "p_worst"].astype(float).to_numpy()
    if weights is not None:
        if weights.sum() <= 0:
            weights = np.ones(len(order))
        for g, b in zip(order, largest_remainder(n_instances, weights)):
            alloc[g] = min(int(b), available[g])
    left = n_instances - sum(alloc.values())
    for g in order:  # fill worst-first
        if left <= 0:
            break
        extra = min(left, available[g] - alloc[g])
        alloc[g] += extra
        left -= extra
    return {g: c for g, c in alloc.items() if c > 0}


def candidate_quota(budget, picks, sizes):
    """How many candidates to score in each allocated group, within ``budget``.

    The budget is split by the groups' picks, not by their pool sizes: a group
    that receives a share ``picks_g / sum(picks)`` of the batch scores the same
    share of the ``budget`` candidates, so its picks are chosen among about
    ``budget / sum(picks)`` candidates each, however small the group. Shares
    are rounded by largest remainders (the counts sum to ``budget``; each is
    its exact share rounded down or up, and never below ``picks_g`` because
    ``budget >= sum(picks)``). A group whose pool holds fewer samples than its
    share scores all of them, and what it leaves is split the same way over
    the other groups, until the budget is used or every group is scored whole.

    Parameters
    ----------
    budget : int
        Candidates to score in all (``max_candidates``, at least the batch).
    picks : array-like of int of shape (n_groups,)
        Picks allocated to each group (positive).
    sizes : array-like of int of shape (n_groups,)
        Pool samples of each group (each at least its picks).

    Returns
    -------
    quota : ndarray of int of shape (n_groups,)
        Candidates to score per group: at most its size, at least
        ``min(size, floor(budget * picks / sum(picks)))``, summing to
        ``min(budget, sum(sizes))``.

    Examples
    --------
    >>> candidate_quota(100, [8, 2], [20, 1000]).tolist()  # a is scored whole
    [20, 80]
    >>> candidate_quota(10, [2, 1], [100, 100]).tolist()
    [7, 3]
    """
    picks = np.asarray(picks, dtype=np.int64)
    sizes = np.asarray(sizes, dtype=np.int64)
    quota = np.zeros(len(picks), dtype=np.int64)
    open_ = np.ones(len(picks), dtype=bool)
    left = min(int(budget), int(sizes.sum()))
    while left > 0 and open_.any():
        share = np.zeros(len(picks), dtype=np.int64)
        share[open_] = largest_remainder(left, picks[open_])
        room = sizes - quota
        full = open_ & (share >= room)
        if not full.any():
            quota += share
            break
        # groups that cannot hold their share are scored whole; split again
        quota[full] = sizes[full]
        left -= int(room[full].sum())
        open_ &= ~full
    return quota
