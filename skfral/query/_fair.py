"""Fair active-learning baselines: worst-group sampling and FAL."""

import copy

import numpy as np
import pandas as pd

from ..nn import final_net, split_estimator
from ..utils._validation import check_int, check_option, check_real
from ._base import (
    BaseQueryStrategy,
    check_validation_for,
    entropy,
    take_rows,
    top_k,
)
from ._groups import (
    ALLOCATIONS,
    GROUP_CRITERIA,
    allocate,
    default_attack,
    rank_groups,
)

__all__ = ["WorstGroupSampling", "FALSampling", "stack_rows"]


def stack_rows(X, X_new):
    """Append rows ``X_new`` to ``X`` (arrays, DataFrames, lists)."""
    if isinstance(X, pd.DataFrame):
        return pd.concat([X, X_new])
    if isinstance(X, list):
        return list(X) + list(X_new)
    return np.concatenate([np.asarray(X), np.asarray(X_new)], axis=0)


class WorstGroupSampling(BaseQueryStrategy):
    """Sample inside the validation-worst group (Abernethy et al., ICML 2022).

    "Active Sampling for Min-Max Fairness": label where the model serves a
    group worst. The groups are ranked on the validation set with
    :func:`skfral.metrics.worst_group`; the batch is taken from the worst group
    (the next-worst when it runs out), by predictive entropy or at random
    inside the group.

    Parameters
    ----------
    X_val, y_val, sensitive_features_val : array-like
        Labelled validation set and its groups.
    attack : object with ``perturb`` or None, default=None
        Attack for the robust validation accuracy; ``None`` uses the robust net's
        own training attack settings.
    group_criterion : str, default="mean"
        How to rank groups: "standard", "robust", "mean" (of the two), or their
        "balanced_*" versions.
    within : {"entropy", "random"}, default="entropy"
        Ranking inside the chosen group.
    group_allocation : {"worst", "proportional"}, default="worst"
        Whole batch from the worst group, or split by deficit to the best group.
    random_state : int, RandomState instance or None, default=None
        Seeds the attack and breaks ties.
    """

    requires_validation = True
    requires_sensitive_features = True

    def __init__(
        self,
        *,
        X_val=None,
        y_val=None,
        sensitive_features_val=None,
        attack=None,
        group_criterion="mean",
        within="entropy",
        group_allocation="worst",
        random_state=None,
    ):
        self.X_val = X_val
        self.y_val = y_val
        self.sensitive_features_val = sensitive_features_val
        self.attack = attack
        self.group_criterion = group_criterion
        self.within = within
        self.group_allocation = group_allocation
        self.random_state = random_state

    def _check_settings(self):
        """Validate the settings (also called by ``run_fral`` before any training)."""
        check_option(self.within, "within", ("entropy", "random"))
        check_option(self.group_criterion, "group_criterion", GROUP_CRITERIA)
        check_option(self.group_allocation, "group_allocation", ALLOCATIONS)

    def _select(self, learner, X_pool, n_instances, groups, rng):
        self._check_settings()
        estimator = getattr(learner, "estimator", learner)
        X_val, y_val, g_val = self._check_validation()
        attack = (
            self.attack if self.attack is not None else default_attack(estimator, rng)
        )
        table = rank_groups(
            estimator,
            X_val,
            y_val,
            g_val,
            attack=attack,
            criterion=self.group_criterion,
            pool_groups=groups,
        )
        picked, scores = [], []
        for g, count in allocate(
            table, groups, n_instances, self.group_allocation
        ).items():
            cand = np.flatnonzero(groups == g)
            if self.within == "entropy":
                s = entropy(estimator.predict_proba(take_rows(X_pool, cand)))
            else:
                s = rng.random_sample(len(cand))
            top = top_k(s, count, rng)
            picked.extend(cand[top])
            scores.extend(s[top])
        return np.asarray(picked), np.asarray(scores)


class FALSampling(BaseQueryStrategy):
    """Fair Active Learning by expected fairness gain (Anahideh et al., 2022).

    For each of ``n_candidates`` random pool samples and each label ``y``
    weighted by the robust model's ``p(y | x)``, a copy of the model is refitted
    (warm-started, ``refit_epochs`` epochs) on the labelled set plus ``(x, y)``
    and the change of the worst-group validation accuracy (``fairness_criterion``)
    is measured. The score is ``(1 - alpha) * entropy + alpha * expected gain``,
    both min-max normalised over the candidates. With adversarial refits this
    costs ``n_candidates * n_classes`` adversarial trainings per query: it is
    the expensive method JIN is measured against.

    Parameters
    ----------
    X_val, y_val, sensitive_features_val : array-like
        Labelled validation set and its groups.
    n_candidates : int, default=20
        Random pool samples scored per query (at least ``n_instances`` are used).
    alpha : float in [0, 1], default=0.5
        Weight of the expected fairness gain against entropy.
    refit : {"robust", "standard"}, default="robust"
        Refit copies with the robust net's adversarial training, or without.
    refit_epochs : int, default=2
        Epochs of each warm-started refit.
    fairness_criterion : str, default="mean"
        The validation group score whose minimum is the fairness objective
        (see :func:`skfral.metrics.worst_group`).
    attack : object with ``perturb`` or None, default=None
        Attack for robust validation accuracy (``None``: the net's own).
    random_state : int, RandomState instance or None, default=None
        Seeds the candidate subset, the attack and tie-breaking.
    """

    requires_validation = True
    requires_sensitive_features = False

    def __init__(
        self,
        *,
        X_val=None,
        y_val=None,
        sensitive_features_val=None,
        n_candidates=20,
        alpha=0.5,
        refit="robust",
        refit_epochs=2,
        fairness_criterion="mean",
        attack=None,
        random_state=None,
    ):
        self.X_val = X_val
        self.y_val = y_val
        self.sensitive_features_val = sensitive_features_val
        self.n_candidates = n_candidates
        self.alpha = alpha
        self.refit = refit
        self.refit_epochs = refit_epochs
        self.fairness_criterion = fairness_criterion
        self.attack = attack
        self.random_state = random_state

    def _objective(self, model, X_val, y_val, g_val, attack):
        from ..metrics import worst_group

        table = worst_group(
            model,
            X_val,
            y_val,
            sensitive_features=g_val,
            attack=attack,
            criterion=self.fairness_criterion,
        )
        return float(table["score"].iloc[0])

    def _check_settings(self):
        """Validated ``(n_candidates, alpha, refit_epochs)`` (also called by
        ``run_fral`` before any training)."""
        n_cand = check_int(self.n_candidates, "n_candidates", min_value=1)
        alpha = check_real(self.alpha, "alpha", min_value=0, max_value=1)
        check_option(self.refit, "refit", ("robust", "standard"))
        epochs = check_int(self.refit_epochs, "refit_epochs", min_value=1)
        check_option(self.fairness_criterion, "fairness_criterion", GROUP_CRITERIA)
        return n_cand, alpha, epochs

    def _select(self, learner, X_pool, n_instances, groups, rng):
        n_cand, alpha, epochs = self._check_settings()
        estimator = getattr(learner, "estimator", learner)
        X_lab, y_lab = self._labelled(learner)
        X_val, y_val, g_val = self._check_validation()
        X_val = check_validation_for(estimator, X_val, y_val)
        attack = (
            self.attack if self.attack is not None else default_attack(estimator, rng)
        )
        if self.fairness_criterion in ("standard", "balanced_standard"):
            attack = None
        n_pool = len(X_pool) if not hasattr(X_pool, "shape") else X_pool.shape[0]
        cand = rng.choice(
            n_pool, size=min(n_pool, max(n_cand, n_instances)), replace=False
        )
        X_cand = take_rows(X_pool, cand)
        proba = estimator.predict_proba(X_cand)
        classes = split_estimator(estimator)[1].classes_
        base = self._objective(estimator, X_val, y_val, g_val, attack)
        template = copy.deepcopy(estimator)
        net = final_net(template)
        net.set_params(warm_start=True, max_epochs=epochs)
        if self.refit == "standard":
            net.set_params(adversarial=None)
        gain = np.zeros(len(cand))
        for j in range(len(cand)):
            x_j = take_rows(X_cand, [j])
            for c, label in enumerate(classes):
                if proba[j, c] < 1e-3:
                    continue
                model = copy.deepcopy(template)
                y_new = np.concatenate([y_lab, np.asarray([label], dtype=y_lab.dtype)])
                model.fit(stack_rows(X_lab, x_j), y_new)
                obj = self._objective(model, X_val, y_val, g_val, attack)
                gain[j] += proba[j, c] * (obj - base)
        ent = entropy(proba)

        def minmax(v):
            span = v.max() - v.min()
            return (v - v.min()) / span if span > 0 else np.zeros_like(v)

        score = (1 - alpha) * minmax(ent) + alpha * minmax(gain)
        top = top_k(score, n_instances, rng)
        return cand[top], score[top]
