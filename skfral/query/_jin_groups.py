"""JIN's group targeting (issue 25): shrunk group scores, caps, soft preference, gate.

Our extensions, not in the JIN paper; each is a parameter of
:class:`~skfral.query.JINQueryStrategy`:

* :func:`shrink_scores`: empirical-Bayes shrinkage of each group's validation
  score toward the overall score, with a prior worth ``prior`` samples;
* :func:`rank_groups_shrunk`: the validation ranking with that shrinkage, a
  minimum validation count for a group to be ranked, and the bootstrap
  probability that each (ranked) group is the worst;
* :func:`group_caps` / :func:`cap_allocation` / :func:`capped_pick`: a
  per-query cap on the picks one group can take, from its remaining pool;
* :func:`group_predictability`: how well the groups can be told from the
  features (cross-validated one-vs-rest AUC of a small logistic regression),
  the gate of ``group_allocation="auto"``.
"""

import math
import warnings

import numpy as np
import pandas as pd

from ..utils._validation import check_random_state
from ._allocation import _resampled_scores, predict_validation

__all__ = [
    "cap_allocation",
    "capped_pick",
    "group_caps",
    "group_predictability",
    "rank_groups_shrunk",
    "shrink_scores",
]

_BOOT_CELLS = 2**22  # resampled rows held at once (as the unshrunk bootstrap)


def shrink_scores(scores, counts, overall, prior):
    """Empirical-Bayes shrinkage: ``(n * score + prior * overall) / (n + prior)``.

    A group with ``n`` validation samples keeps its own score in proportion
    to ``n`` and borrows the overall score in proportion to ``prior`` (a
    pseudo-count of samples): a group of 3 samples with ``prior=25`` is mostly
    the overall score; one of 300 is mostly its own.

    Parameters
    ----------
    scores : array-like of float
        The groups' scores (e.g. accuracies).
    counts : array-like of int
        The groups' numbers of validation samples (same length).
    overall : float or array-like
        The score on the whole validation set (broadcast against ``scores``).
    prior : float
        Pseudo-count, ``>= 0``; ``0`` returns ``scores`` unchanged.

    Returns
    -------
    shrunk : ndarray of float

    Examples
    --------
    >>> shrink_scores([0.2, 0.8], [5, 95], 0.77, 20).round(4).tolist()
    [0.656, 0.7948]
    """
    scores = np.asarray(scores, dtype=np.float64)
    counts = np.asarray(counts, dtype=np.float64)
    if prior == 0:
        return scores.copy()
    return (counts * scores + prior * np.asarray(overall)) / (counts + prior)


def _overall(y, ok_clean, ok_adv, criterion):
    idx = np.arange(len(y))[None, :]
    return float(_resampled_scores(y, ok_clean, ok_adv, criterion, idx)[0])


def shrunk_table(
    y_true,
    y_pred_clean,
    y_pred_adv,
    groups,
    *,
    criterion="mean",
    n_boot=1000,
    prior=0.0,
    min_count=1,
    among=None,
    random_state=None,
):
    """Per-group validation score, shrunk, and the probability of being the worst.

    The predictions are made once; the bootstrap resamples the rows inside
    every group (as :func:`skfral.query._allocation.worst_group_probabilities`:
    same draws, in the same order, so that ``prior=0`` and ``min_count=1``
    give the same probabilities), shrinks each replicate's group scores toward
    the overall score of the *whole* validation set (fixed, not resampled),
    and counts which ranked group scores lowest (ties split evenly).

    Returns
    -------
    table : pandas.DataFrame
        Indexed by group (ranked groups first, by shrunk score ascending;
        then the unranked ones), columns ``count`` (validation samples),
        ``raw_score``, ``score`` (shrunk), ``ranked`` (``count >= min_count``
        and in ``among``) and ``p_worst`` (0 for unranked groups; the ranked
        ones sum to 1, or all are 0 when no group is ranked).
    """
    y_true = np.asarray(y_true)
    groups = np.asarray(groups, dtype=object)
    ok_clean = np.asarray(y_pred_clean) == y_true
    ok_adv = None if y_pred_adv is None else np.asarray(y_pred_adv) == y_true
    labels = list(pd.unique(groups))
    overall = _overall(y_true, ok_clean, ok_adv, criterion)
    counts, raw = [], []
    for g in labels:
        rows = np.flatnonzero(groups == g)
        counts.append(len(rows))
        adv_g = None if ok_adv is None else ok_adv[rows]
        idx = np.arange(len(rows))[None, :]
        raw.append(
            _resampled_scores(y_true[rows], ok_clean[rows], adv_g, criterion, idx)[0]
        )
    counts = np.asarray(counts)
    table = pd.DataFrame(
        {
            "count": counts,
            "raw_score": raw,
            "score": shrink_scores(raw, counts, overall, prior),
        },
        index=pd.Index(labels, dtype=object),
    )
    allowed = set(labels) if among is None else set(among)
    table["ranked"] = [
        bool(c >= min_count and g in allowed) for g, c in zip(labels, counts)
    ]
    table["p_worst"] = 0.0
    compete = [g for g in labels if table.at[g, "ranked"]]
    if among is not None:  # the order of ``among``, as the unshrunk bootstrap
        compete = [g for g in among if g in set(compete)]
    if compete:
        rng = check_random_state(random_state)
        scores = np.empty((n_boot, len(compete)))
        for j, g in enumerate(compete):
            rows = np.flatnonzero(groups == g)
            adv_g = None if ok_adv is None else ok_adv[rows]
            step = max(1, _BOOT_CELLS // len(rows))
            for start in range(0, n_boot, step):
                stop = min(n_boot, start + step)
                idx = rng.randint(0, len(rows), size=(stop - start, len(rows)))
                scores[start:stop, j] = _resampled_scores(
                    y_true[rows], ok_clean[rows], adv_g, criterion, idx
                )
        n = np.asarray([table.at[g, "count"] for g in compete])
        scores = shrink_scores(scores, n[None, :], overall, prior)
        is_min = scores == scores.min(axis=1, keepdims=True)
        share = is_min / is_min.sum(axis=1, keepdims=True)
        table.loc[compete, "p_worst"] = share.mean(axis=0)
    table["order"] = np.arange(len(table))
    table = table.sort_values(
        ["ranked", "score", "order"], ascending=[False, True, True], kind="stable"
    )
    table.attrs["overall_score"] = overall
    return table.drop(columns="order")


def rank_groups_shrunk(
    estimator,
    X_val,
    y_val,
    groups_val,
    *,
    attack,
    criterion,
    pool_groups=None,
    n_boot=1000,
    prior=0.0,
    min_count=1,
    random_state=None,
):
    """Predict and attack the validation set once, then :func:`shrunk_table`.

    Only the groups with pool samples (all when ``pool_groups`` is None)
    compete for the worst place; the others are unranked.
    """
    y_val, y_clean, y_adv = predict_validation(estimator, X_val, y_val, attack)
    among = None
    if pool_groups is not None:
        present = set(pd.unique(np.asarray(pool_groups, dtype=object)))
        among = [
            g for g in pd.unique(np.asarray(groups_val, dtype=object)) if g in present
        ]
    table = shrunk_table(
        y_val,
        y_clean,
        y_adv,
        groups_val,
        criterion=criterion,
        n_boot=n_boot,
        prior=prior,
        min_count=min_count,
        among=among,
        random_state=random_state,
    )
    table.attrs["y_clean"] = y_clean
    return table


def group_caps(pool_groups, share):
    """Per-query cap of each group: ``ceil(share * n_g)`` of its ``n_g`` pool samples.

    With ``share = 1 / R`` a group's pool lasts at least ``R`` queries: the
    cap follows the group's *remaining* pool, so it shrinks as the group is
    labelled. ``share=None`` caps nothing (each group's cap is its pool).

    Examples
    --------
    >>> group_caps(["a"] * 10 + ["b"] * 3, 0.25)
    {'a': 3, 'b': 1}
    """
    counts = pd.Series(np.asarray(pool_groups, dtype=object)).value_counts(sort=False)
    if share is None:
        return {g: int(n) for g, n in counts.items()}
    return {g: int(math.ceil(share * int(n) - 1e-9)) for g, n in counts.items()}


def cap_allocation(alloc, order, available, caps, n_instances):
    """Cap an allocation ``group -> count``; the excess goes to the next groups.

    Each group keeps at most ``caps[g]``; what the caps remove is given to the
    groups of ``order`` (worst first) up to their caps, and, when the caps
    together hold fewer than ``n_instances``, up to their pools (the batch is
    always full).
    """
    out = {g: min(int(alloc.get(g, 0)), caps[g], available[g]) for g in order}
    left = n_instances - sum(out.values())
    for limit in (lambda g: min(caps[g], available[g]), lambda g: available[g]):
        for g in order:
            if left <= 0:
                break
            extra = min(left, limit(g) - out[g])
            if extra > 0:
                out[g] += extra
                left -= extra
    return {g: c for g, c in out.items() if c > 0}


def capped_pick(order, groups, k, caps, labels=None):
    """Take ``k`` of ``order`` (best first), at most ``caps[g]`` from group ``g``.

    With ``labels`` (predicted classes) the picks alternate over the labels
    as :func:`skfral.query._base.round_robin`. When the caps leave fewer than
    ``k`` items, the rest is the best remaining items, caps ignored.
    """
    order = np.asarray(order, dtype=np.intp)
    taken = dict.fromkeys(caps, 0)
    picked = []
    allowed = []
    for i in order:  # the capped order: an item counts when its group has room
        g = groups[i]
        if taken[g] < caps[g]:
            allowed.append(i)
            taken[g] += 1
    if labels is None:
        first = allowed[:k]
    else:
        from ._base import round_robin

        # round robin over the allowed items; the caps then still hold, since
        # the allowed items of a group are at most its cap
        first = list(round_robin(np.asarray(allowed, dtype=np.intp), labels, k))
    picked = list(first)
    if len(picked) < k:
        chosen = set(picked)
        picked += [i for i in order if i not in chosen][: k - len(picked)]
    return np.asarray(picked, dtype=np.intp)


def group_predictability(X, groups, *, n_splits=5, random_state=0):
    """How well each group can be told from the features: cross-validated AUC.

    For each group, a small logistic regression (standardised features,
    ``C=1``) predicts membership of that group against the rest; its
    out-of-fold probabilities give a ROC AUC (stratified folds, at most
    ``n_splits``, at most the smaller class's size). A group with fewer than
    2 members or non-members gets 0.5 (no evidence). Fits
    ``n_groups * n_splits`` models of a few hundred rows (``n_splits`` with
    two groups, whose AUCs are equal); JIN caches the result.

    Returns
    -------
    auc : pandas.Series
        Indexed by group, in order of first appearance.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X = np.asarray(X, dtype=np.float64).reshape(len(groups), -1)
    groups = np.asarray(groups, dtype=object)
    out = {}
    labels = pd.unique(groups)
    for g in labels:
        if len(labels) == 2 and len(out) == 1:
            # two groups: "b vs rest" is "a vs rest" with the classes swapped,
            # the same fitted scores reversed: the same AUC, no second fit
            out[g] = next(iter(out.values()))
            continue
        y = groups == g
        small = min(int(y.sum()), int((~y).sum()))
        if small < 2:
            out[g] = 0.5
            continue
        cv = StratifiedKFold(
            n_splits=min(n_splits, small), shuffle=True, random_state=random_state
        )
        model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=200))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            proba = cross_val_predict(model, X, y, cv=cv, method="predict_proba")
        out[g] = float(roc_auc_score(y, proba[:, 1]))
    return pd.Series(out, dtype=float)
