"""Choosing groups: the fair strategies' shared base, validation ranking, allocation.

:class:`BaseFairQueryStrategy` is written once for worst-group sampling, FAL
and JIN: the labelled, grouped validation set (``X_val``, ``y_val``,
``sensitive_features_val``), its checks, the attack used for robust validation
accuracy and the ``max_candidates`` subset drawn inside the allocated groups.
"""

import numpy as np
import pandas as pd

from ..metrics import GROUP_CRITERIA
from ..nn import attack_from_net
from ..utils._param_validation import HasMethods
from ..utils._validation import (
    check_option,
    check_same_length,
    check_sensitive_features,
    largest_remainder,
    num_samples,
)
from ._base import BaseQueryStrategy, check_validation_for, subsample

__all__ = [
    "ALLOCATIONS",
    "BaseFairQueryStrategy",
    "GROUP_CRITERIA",
    "allocate",
    "default_attack",
    "rank_groups",
]

ALLOCATIONS = ("worst", "proportional")


def default_attack(estimator, rng):
    """The PGD attack a robust net was trained with, seeded from ``rng``.

    :func:`skfral.nn.attack_from_net` reads the final net's ``attack_*``
    settings (PGD's own defaults for a plain skorch net).
    """
    seed = int(rng.randint(0, 2**31 - 1))
    return attack_from_net(estimator, random_state=seed)


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
    from ..metrics import worst_group

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
        for g, b in zip(order, largest_remainder(n_instances, deficit)):
            alloc[g] = min(int(b), available[g])
    left = n_instances - sum(alloc.values())
    for g in order:  # fill worst-first
        if left <= 0:
            break
        extra = min(left, available[g] - alloc[g])
        alloc[g] += extra
        left -= extra
    return {g: c for g, c in alloc.items() if c > 0}


class BaseFairQueryStrategy(BaseQueryStrategy):
    """Base of the strategies that rank groups on a labelled validation set.

    Holds what worst-group sampling, FAL and JIN share: the validation set
    ``X_val, y_val, sensitive_features_val`` (checked once per call, before
    any prediction), the attack for robust validation accuracy (``attack``,
    or :func:`skfral.nn.attack_from_net` of the learner's net) and the
    ``max_candidates`` subset drawn inside the allocated groups.

    Subclasses call ``self._validation(query)``, ``self._attack(query)``,
    ``self._rank(query, attack, criterion)`` and
    ``self._group_candidates(query, alloc)`` from their ``_select``.
    """

    requires_validation = True
    _subsample_in_groups = True

    _parameter_constraints: dict = {
        **BaseQueryStrategy._parameter_constraints,
        "X_val": ["array-like", None],
        "y_val": ["array-like", None],
        "sensitive_features_val": ["array-like", None],
        "attack": [HasMethods("perturb"), None],
    }

    def _check_data(self, query):
        """Check the validation set once and keep the checked arrays on ``query``."""
        X_val, y_val = self.X_val, self.y_val
        if X_val is None or y_val is None or self.sensitive_features_val is None:
            raise ValueError(
                f"{type(self).__name__} needs X_val, y_val and sensitive_features_val "
                "(a labelled validation set with groups)."
            )
        n_val = num_samples(X_val, "X_val")
        check_same_length(X_val=X_val, y_val=y_val)
        groups_val = check_sensitive_features(
            self.sensitive_features_val, n_val, "sensitive_features_val"
        )
        y_val = np.asarray(y_val)
        if query.groups is not None and self._ranks_groups():
            _check_pool_groups_known(groups_val, query.groups)
        X_val = check_validation_for(query.estimator, X_val, y_val)
        query.extra.update(X_val=X_val, y_val=y_val, groups_val=groups_val)

    def _ranks_groups(self):
        """Whether the pool's groups are ranked (JIN's ``"none"`` does not)."""
        return True

    def _validation(self, query):
        """The checked ``(X_val, y_val, groups_val)`` of this call."""
        extra = query.extra
        return extra["X_val"], extra["y_val"], extra["groups_val"]

    def _attack(self, query):
        """``attack``, or the learner's own training attack seeded from the call's rng."""
        if self.attack is not None:
            return self.attack
        return default_attack(query.estimator, query.rng)

    def _rank(self, query, attack, criterion, *, ranker=None):
        """Groups worst first on validation (``ranker``: :func:`rank_groups`)."""
        X_val, y_val, groups_val = self._validation(query)
        return (ranker or rank_groups)(
            query.estimator,
            X_val,
            y_val,
            groups_val,
            attack=attack,
            criterion=criterion,
            pool_groups=query.groups,
        )

    def _group_candidates(self, query, alloc):
        """``group -> pool positions`` to score, for the groups of ``alloc``.

        Every sample of each allocated group, or, with ``max_candidates``, a
        seeded random subset of about that many over the allocated groups
        (split by group size, each group keeping at least its allocation).
        """
        members = {g: np.flatnonzero(query.groups == g) for g in alloc}
        budget = self._candidate_budget(query.n_instances)
        total = sum(len(m) for m in members.values())
        if budget is None or total <= budget:
            return members
        sizes = np.asarray([len(m) for m in members.values()])
        quota = largest_remainder(budget, sizes)
        quota = np.minimum(np.maximum(quota, [alloc[g] for g in members]), sizes)
        return {
            g: subsample(m, int(q), query.rng)
            for (g, m), q in zip(members.items(), quota)
        }
