"""JIN's per-candidate scores: the two inconsistencies, their combination, the
soft group preference, the optional diversity step and the targeting parts of
``last_query_`` (a mixin of
:class:`~skfral.query.JINQueryStrategy`; the pure maths are in ``_jin_scores``)."""

import numpy as np
import pandas as pd

from ..nn import penultimate_embedding, split_estimator
from ._base import entropy
from ._jin_scores import _rank01, disagreement_scores

__all__ = ["SOFT_ALLOCATIONS"]

# Issue 25: the whole pool with a soft group preference, and the gate between
# "bootstrap" and "soft".
SOFT_ALLOCATIONS = ("soft", "auto")


class _ScoringMixin:
    """Scores of JIN's candidates, from the settings of the strategy."""

    def _components(self, estimator, standard, X, attack):
        transform, net = split_estimator(estimator)
        Xt = transform(X)  # once: the robust pipeline's transforms are shared below
        p_rob = net.predict_proba(Xt)
        # The attack's labels are the robust model's own predictions (as with y=None),
        # taken from p_rob instead of a second forward pass over the candidates.
        y_own = np.asarray(net.classes_)[p_rob.argmax(axis=1)]
        X_adv = attack.perturb(net, Xt, y_own)
        p_adv = net.predict_proba(X_adv)
        p_std = standard.predict_proba(X)
        kind = self.disagreement
        out = {
            "I_adv": disagreement_scores(p_rob, p_adv, kind),
            "I_mod": disagreement_scores(p_std, p_rob, kind),
            "predicted_class": p_rob.argmax(axis=1),
            "entropy": entropy(p_rob),
        }
        if kind == "hard":
            out["I_adv_soft"] = disagreement_scores(p_rob, p_adv, "kl")
            out["I_mod_soft"] = disagreement_scores(p_std, p_rob, "kl")
        if self.diversity is not None:
            out["embedding"] = penultimate_embedding(net, Xt)
        return out

    def _combine(self, comp, *, soft=False):
        """The score (and the tie-breaking secondary score of ``"hard"``).

        ``soft``: the weighted *mean* of the ranks (in [0, 1]) of ``I_adv``,
        ``I_mod`` and entropy (weight 1; ``uncertainty_weight`` is for the
        hard allocations) whatever ``score_aggregation`` says (the scale
        ``group_preference`` adds to).
        """
        w_adv, w_mod = (float(w) for w in self.weights)
        w_ent = 1.0 if soft else float(self.uncertainty_weight)
        if soft or self.score_aggregation == "rank":
            score = w_adv * _rank01(comp["I_adv"]) + w_mod * _rank01(comp["I_mod"])
            if w_ent:
                score = score + w_ent * _rank01(comp["entropy"])
            if soft:
                score = score / (w_adv + w_mod + w_ent)
        else:
            score = w_adv * comp["I_adv"] + w_mod * comp["I_mod"]
            if w_ent:
                score = score + w_ent * comp["entropy"]
        secondary = None
        if self.disagreement == "hard":
            secondary = w_adv * comp["I_adv_soft"] + w_mod * comp["I_mod_soft"]
            if w_ent:
                secondary = secondary + w_ent * comp["entropy"]
        return score, secondary

    def _soft_scores(self, comp, cand_groups, table):
        """The rank-mean score, ``p_worst`` of each candidate's group, and their sum."""
        base, secondary = self._combine(comp, soft=True)
        if table is None:
            p = np.zeros(len(cand_groups))
        else:
            p_worst = table["p_worst"].to_dict()
            p = np.asarray([p_worst.get(g, 0.0) for g in cand_groups], dtype=float)
        score = base + float(self.group_preference) * p
        return base, p, score, secondary

    def _diversify(self, order, take, pred, emb):
        """Swap a top-scored batch for a diverse one with the same class quotas.

        For each predicted class with quota ``q`` in ``take``, k-center greedy
        (starting from the best-scored sample) over that class's
        ``diversity_factor * q`` best candidates. A sample is never chosen
        twice, even when rows repeat (duplicates are at distance 0).
        """
        factor = int(self.diversity_factor)
        quotas = pd.Series(pred[take]).value_counts(sort=False)
        out = []
        for c, q in quotas.items():
            if self.class_balance:
                queue = order[pred[order] == c][: factor * int(q)]
                want = int(q)
            else:
                queue = order[: factor * len(take)]
                want = len(take)
            chosen = [0]
            dist = ((emb[queue] - emb[queue[0]]) ** 2).sum(axis=1)
            dist[0] = -np.inf
            while len(chosen) < min(want, len(queue)):
                j = int(np.argmax(dist))  # first of the farthest not yet chosen
                chosen.append(j)
                dist = np.minimum(dist, ((emb[queue] - emb[queue[j]]) ** 2).sum(axis=1))
                dist[chosen] = -np.inf
            out.extend(queue[chosen])
            if not self.class_balance:
                break
        return np.asarray(out, dtype=np.intp)

    def _targeting_parts(self, table, pick_groups, caps, allocation):
        """``last_query_`` columns of the group targeting (issue 25).

        ``group_rank``, ``group_score`` (shrunk with ``shrinkage_prior``) and
        ``p_worst`` from the ranking table; with the issue-25 table also
        ``raw_group_score`` (before shrinkage), ``group_val_count`` and
        ``group_ranked`` (``min_val_count`` met); ``group_cap`` with
        ``max_group_share``; ``allocation`` (the one used) and, for "auto",
        ``targeting_auc``.
        """
        parts = {} if table is None else self._group_parts(table, pick_groups)
        if table is not None and "raw_score" in table:
            keys = list(pick_groups)
            parts["raw_group_score"] = table["raw_score"].reindex(keys).to_numpy(float)
            parts["group_val_count"] = table["count"].reindex(keys).to_numpy(int)
            parts["group_ranked"] = table["ranked"].reindex(keys).to_numpy(bool)
        if caps is not None:
            parts["group_cap"] = np.asarray([caps[g] for g in pick_groups], dtype=int)
        if self.group_allocation in SOFT_ALLOCATIONS or self._uses_shrunk_table():
            parts["allocation"] = np.full(len(pick_groups), allocation, dtype=object)
        if self.group_allocation == "auto":
            parts["targeting_auc"] = np.full(len(pick_groups), self.targeting_auc_)
        return parts
