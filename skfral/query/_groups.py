"""Choosing groups: rank them on the validation set, split a batch over them."""

import numpy as np
import pandas as pd

from ..nn import PGD, split_estimator
from ..utils._validation import check_option

__all__ = ["default_attack", "rank_groups", "allocate", "GROUP_CRITERIA", "ALLOCATIONS"]

GROUP_CRITERIA = (
    "standard",
    "robust",
    "mean",
    "balanced_standard",
    "balanced_robust",
    "balanced_mean",
)
ALLOCATIONS = ("worst", "proportional")


def default_attack(estimator, rng):
    """The PGD attack a robust net was trained with, seeded from ``rng``.

    Attack settings are read from the final net's ``attack_*`` parameters
    (PGD's own defaults for a plain skorch net).
    """
    _, net = split_estimator(estimator)
    seed = int(rng.randint(0, 2**31 - 1))
    if not hasattr(net, "attack_eps"):
        return PGD(random_state=seed)
    return PGD(
        eps=net.attack_eps,
        step_size=net.attack_step_size,
        n_steps=net.attack_n_steps,
        norm=net.attack_norm,
        clip_min=net.attack_clip_min,
        clip_max=net.attack_clip_max,
        random_state=seed,
    )


def rank_groups(
    estimator, X_val, y_val, groups_val, *, attack, criterion, pool_groups=None
):
    """Groups from worst to best on the validation set (``skfral.metrics.worst_group``).

    Raises a ValueError when a group of the pool has no validation sample:
    nothing can be said about how well the model serves it.
    """
    from ..metrics import worst_group
    from ._base import check_validation_for

    check_option(criterion, "group_criterion", GROUP_CRITERIA)
    if pool_groups is not None:  # before any prediction or attack
        known = set(pd.unique(np.asarray(groups_val, dtype=object)))
        missing = sorted(set(pd.unique(pool_groups)) - known, key=str)
        if missing:
            raise ValueError(
                f"sensitive_features has group(s) {missing[:5]} that are absent from "
                f"sensitive_features_val (validation groups: {sorted(known, key=str)}): "
                "every pool group needs validation samples to be ranked."
            )
    X_val = check_validation_for(estimator, X_val, y_val)
    table = worst_group(
        estimator,
        X_val,
        y_val,
        sensitive_features=groups_val,
        attack=attack,
        criterion=criterion,
    )
    if pool_groups is not None:
        missing = sorted(set(pd.unique(pool_groups)) - set(table.index), key=str)
        if missing:
            raise ValueError(
                f"sensitive_features has group(s) {missing[:5]} that are absent from "
                f"sensitive_features_val (validation groups: {sorted(table.index, key=str)}): "
                "every pool group needs validation samples to be ranked."
            )
    return table


def allocate(table, pool_groups, n_instances, allocation="worst"):
    """How many picks each group gets: a dict ``group -> count`` summing to ``n_instances``.

    ``"worst"``: the whole batch from the worst group, then the next-worst when
    it runs out. ``"proportional"``: split by each group's deficit to the best
    group (largest remainders), capped by what the pool holds, the rest filled
    worst-first.
    """
    check_option(allocation, "group_allocation", ALLOCATIONS)
    counts = pd.Series(pool_groups).value_counts()
    order = [g for g in table.index if counts.get(g, 0) > 0]
    available = {g: int(counts[g]) for g in order}
    alloc = dict.fromkeys(order, 0)
    if allocation == "proportional" and len(order) > 1:
        score = table.loc[order, "score"].astype(float)
        deficit = (score.max() - score).clip(lower=0).to_numpy()
        if deficit.sum() <= 0:
            deficit = np.ones(len(order))
        share = n_instances * deficit / deficit.sum()
        base = np.floor(share).astype(int)
        remainder = n_instances - base.sum()
        for j in np.argsort(-(share - base), kind="stable")[:remainder]:
            base[j] += 1
        for g, b in zip(order, base):
            alloc[g] = min(int(b), available[g])
    left = n_instances - sum(alloc.values())
    for g in order:  # fill worst-first
        if left <= 0:
            break
        extra = min(left, available[g] - alloc[g])
        alloc[g] += extra
        left -= extra
    return {g: c for g, c in alloc.items() if c > 0}
