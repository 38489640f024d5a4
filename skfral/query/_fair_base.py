"""The fair strategies' shared base class: :class:`BaseFairQueryStrategy`.

Written once for worst-group sampling, FAL and JIN: the labelled, grouped
validation set (``X_val``, ``y_val``, ``sensitive_features_val``), its checks,
the attack used for robust validation accuracy and the ``max_candidates``
subset drawn inside the allocated groups. Ranking and allocation live in
:mod:`._allocation`.
"""

import numpy as np

from ..nn import attack_from_net
from ..utils._param_validation import HasMethods
from ..utils._validation import (
    check_same_length,
    check_sensitive_features,
    num_samples,
)
from ._allocation import (
    _check_pool_groups_known,
    candidate_quota,
    rank_groups,
    rank_groups_bootstrap,
)
from ._base import BaseQueryStrategy, check_validation_for, subsample

__all__ = ["BaseFairQueryStrategy", "default_attack"]


def default_attack(estimator, rng):
    """The PGD attack a robust net was trained with, seeded from ``rng``.

    :func:`skfral.nn.attack_from_net` reads the final net's ``attack_*``
    settings (PGD's own defaults for a plain skorch net).
    """
    seed = int(rng.randint(0, 2**31 - 1))
    return attack_from_net(estimator, random_state=seed)


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

    def _rank(self, query, attack, criterion, *, ranker=None, n_boot=None):
        """Groups worst first on validation (``ranker``: :func:`rank_groups`).

        With ``n_boot``, :func:`rank_groups_bootstrap` (seeded from the call's
        rng) adds each group's probability of being the worst, ``p_worst``.
        """
        X_val, y_val, groups_val = self._validation(query)
        if n_boot is not None:
            return rank_groups_bootstrap(
                query.estimator,
                X_val,
                y_val,
                groups_val,
                attack=attack,
                criterion=criterion,
                pool_groups=query.groups,
                n_boot=n_boot,
                random_state=int(query.rng.randint(0, 2**31 - 1)),
            )
        return (ranker or rank_groups)(
            query.estimator,
            X_val,
            y_val,
            groups_val,
            attack=attack,
            criterion=criterion,
            pool_groups=query.groups,
        )

    @staticmethod
    def _group_parts(table, pick_groups):
        """``last_query_`` columns saying why each pick's group was chosen.

        ``group_rank`` (0 = worst on validation) and ``group_score`` (the
        group's validation score under the ranking criterion) from the
        ranking ``table``; ``p_worst`` too when the table has it (bootstrap).
        """
        rank = {g: i for i, g in enumerate(table.index)}
        parts = {
            "group_rank": [rank[g] for g in pick_groups],
            "group_score": table["score"].reindex(list(pick_groups)).to_numpy(float),
        }
        if "p_worst" in table:
            parts["p_worst"] = (
                table["p_worst"].reindex(list(pick_groups)).to_numpy(float)
            )
        return parts

    def _group_candidates(self, query, alloc):
        """``group -> pool positions`` to score, for the groups of ``alloc``.

        Every sample of each allocated group, or, with ``max_candidates``, a
        seeded random subset of each: the budget is split over the allocated
        groups by their picks (:func:`~._allocation.candidate_quota`), so a
        group that receives many picks also scores many candidates, however
        small its share of the pool.
        """
        members = {g: np.flatnonzero(query.groups == g) for g in alloc}
        budget = self._candidate_budget(query.n_instances)
        total = sum(len(m) for m in members.values())
        if budget is None or total <= budget:
            return members
        quota = candidate_quota(
            budget,
            [alloc[g] for g in members],
            [len(m) for m in members.values()],
        )
        return {
            g: subsample(m, int(q), query.rng)
            for (g, m), q in zip(members.items(), quota)
        }
