"""Fair active-learning baselines: worst-group sampling and FAL."""

import copy
from numbers import Integral, Real

import numpy as np
import pandas as pd

from ..nn import final_net, split_estimator
from ..utils._docstring import Substitution, _shared_docs
from ..utils._param_validation import Interval, StrOptions
from ._allocation import ALLOCATIONS, GROUP_CRITERIA, allocate
from ._base import _query_docs, entropy, take_rows, top_k
from ._fair_base import BaseFairQueryStrategy

__all__ = ["WorstGroupSampling", "FALSampling", "stack_rows"]

_DOCS = {
    "last_query": _query_docs["last_query"],
    "validation_set": _shared_docs["validation_set"],
    "max_candidates": _shared_docs["max_candidates"],
    "random_state": _shared_docs["random_state"],
}


def stack_rows(X, X_new):
    """Append rows ``X_new`` to ``X`` (arrays, DataFrames, lists)."""
    if isinstance(X, pd.DataFrame):
        return pd.concat([X, X_new])
    if isinstance(X, list):
        return list(X) + list(X_new)
    return np.concatenate([np.asarray(X), np.asarray(X_new)], axis=0)


@Substitution(**_DOCS)
class WorstGroupSampling(BaseFairQueryStrategy):
    """Sample inside the validation-worst group ("Active Sampling for Min-Max Fairness").

    Label where the model serves a group worst. The groups are ranked on the
    validation set with :func:`skfral.metrics.worst_group`; the batch is taken
    from the worst group (the next-worst when it runs out), by predictive
    entropy or at random inside the group.

    Parameters
    ----------
    {validation_set}
    attack : object with ``perturb`` or None, default=None
        Attack for the robust validation accuracy; ``None`` uses the robust net's
        own training attack settings (:func:`skfral.nn.attack_from_net`).
    group_criterion : str, default="mean"
        How to rank groups: "standard", "robust", "mean" (of the two), or their
        "balanced_*" versions.
    within : {"entropy", "random"}, default="entropy"
        Ranking inside the chosen group.
    group_allocation : {"worst", "proportional"}, default="worst"
        Whole batch from the worst group, or split by deficit to the best group.
    {max_candidates}
    {random_state}

    Attributes
    ----------
    {last_query}
        Score parts: ``group_rank`` (0 = the validation-worst group) and
        ``group_score`` (the group's validation score under
        ``group_criterion``), and ``entropy`` (equal to ``score``) when
        ``within="entropy"`` (with ``"random"`` the score is the seeded
        uniform draw).

    See Also
    --------
    JINQueryStrategy : Joint inconsistency inside the worst group.
    FALSampling : Expected fairness gain by refitting.
    EntropySampling : Entropy over the whole pool.

    References
    ----------
    .. [1] J. Abernethy, P. Awasthi, M. Kleindessner, J. Morgenstern, C. Russell
       and J. Zhang, "Active Sampling for Min-Max Fairness", ICML 2022.
    """

    requires_sensitive_features = True

    _parameter_constraints: dict = {
        **BaseFairQueryStrategy._parameter_constraints,
        "group_criterion": [StrOptions(GROUP_CRITERIA)],
        "within": [StrOptions(("entropy", "random"))],
        "group_allocation": [StrOptions(ALLOCATIONS)],
    }

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
        max_candidates=None,
        random_state=None,
    ):
        self.X_val = X_val
        self.y_val = y_val
        self.sensitive_features_val = sensitive_features_val
        self.attack = attack
        self.group_criterion = group_criterion
        self.within = within
        self.group_allocation = group_allocation
        self.max_candidates = max_candidates
        self.random_state = random_state

    def _select(self, query):
        rng, groups = query.rng, query.groups
        attack = self._attack(query)
        table = self._rank(query, attack, self.group_criterion)
        alloc = allocate(table, groups, query.n_instances, self.group_allocation)
        members = self._group_candidates(query, alloc)
        picked, scores, n_scored = [], [], []
        for g, count in alloc.items():
            cand = members[g]
            if self.within == "entropy":
                proba = query.estimator.predict_proba(take_rows(query.X_pool, cand))
                s = entropy(proba)
            else:
                s = rng.random_sample(len(cand))
            top = top_k(s, count, rng)
            picked.extend(cand[top])
            scores.extend(s[top])
            n_scored.extend([len(cand)] * len(top))
        parts = self._group_parts(table, groups[picked])
        if self.within == "entropy":
            parts["entropy"] = scores
        self._record_query(picked, scores, parts=parts, n_scored=n_scored)
        return np.asarray(picked), np.asarray(scores)


@Substitution(**_DOCS)
class FALSampling(BaseFairQueryStrategy):
    """Fair Active Learning by expected fairness gain.

    For each of ``n_candidates`` random pool samples and each label ``y``
    weighted by the robust model's ``p(y | x)``, a copy of the model is refitted
    (warm-started, ``refit_epochs`` epochs) on the labelled set plus ``(x, y)``
    and the change of the worst-group validation accuracy (``fairness_criterion``)
    is measured. The score is ``(1 - alpha) * entropy + alpha * expected gain``,
    both min-max normalised over the candidates. With adversarial refits this
    costs ``n_candidates * n_classes`` adversarial trainings per query: it is
    the expensive method JIN is measured against. The labelled set is
    ``X_labelled, y_labelled`` of the call (or a modAL learner's).

    Parameters
    ----------
    {validation_set}
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
    {max_candidates}
    {random_state}

    Attributes
    ----------
    {last_query}
        Score parts: ``expected_fairness_gain`` (the change of the worst-group
        validation score, weighted by ``p(y | x)``) and ``entropy`` (nats), both
        before the min-max normalisation that ``score`` combines;
        ``n_scored`` is the number of candidates refitted.

    See Also
    --------
    JINQueryStrategy : The cheap fair robust strategy (no refit per candidate).
    WorstGroupSampling : Entropy or random picks in the worst group.

    References
    ----------
    .. [1] H. Anahideh, A. Asudeh and S. Thirumuruganathan, "Fair Active
       Learning", Expert Systems with Applications 199, 2022.
    """

    requires_sensitive_features = False
    requires_labelled = True
    _subsample_in_groups = False  # FAL does not restrict to groups

    _parameter_constraints: dict = {
        **BaseFairQueryStrategy._parameter_constraints,
        "n_candidates": [Interval(Integral, 1, None, closed="left")],
        "alpha": [Interval(Real, 0, 1, closed="both")],
        "refit": [StrOptions(("robust", "standard"))],
        "refit_epochs": [Interval(Integral, 1, None, closed="left")],
        "fairness_criterion": [StrOptions(GROUP_CRITERIA)],
    }

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
        max_candidates=None,
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
        self.max_candidates = max_candidates
        self.random_state = random_state

    def _ranks_groups(self):
        return False  # the pool's groups are not needed

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

    def _select(self, query):
        rng, n_instances = query.rng, query.n_instances
        estimator, X_pool = query.estimator, query.X_pool
        X_lab, y_lab = query.labelled(type(self).__name__)
        X_val, y_val, g_val = self._validation(query)
        attack = self._attack(query)
        if self.fairness_criterion in ("standard", "balanced_standard"):
            attack = None
        n_pool = len(X_pool) if not hasattr(X_pool, "shape") else X_pool.shape[0]
        cand = rng.choice(
            n_pool, size=min(n_pool, max(self.n_candidates, n_instances)), replace=False
        )
        X_cand = take_rows(X_pool, cand)
        proba = estimator.predict_proba(X_cand)
        classes = split_estimator(estimator)[1].classes_
        base = self._objective(estimator, X_val, y_val, g_val, attack)
        template = copy.deepcopy(estimator)
        net = final_net(template)
        net.set_params(warm_start=True, max_epochs=self.refit_epochs)
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

        score = (1 - self.alpha) * minmax(ent) + self.alpha * minmax(gain)
        top = top_k(score, n_instances, rng)
        parts = {"expected_fairness_gain": gain[top], "entropy": ent[top]}
        self._record_query(cand[top], score[top], parts=parts, n_scored=len(cand))
        return cand[top], score[top]
