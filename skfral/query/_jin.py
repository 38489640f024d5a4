"""JIN: Joint INconsistency (Wu, Su, Chen & Hsu, ICCV 2023 Workshops)."""

from numbers import Integral, Real

import joblib
import numpy as np
import pandas as pd

from ..nn import (
    split_estimator,
)
from ..utils._docstring import Substitution, _shared_docs
from ..utils._param_validation import (
    HasMethods,
    Interval,
    Predicate,
    StrOptions,
)
from ..utils._validation import check_real
from ._allocation import BOOTSTRAP_ALLOCATIONS, GROUP_CRITERIA, allocate, rank_groups
from ._base import _query_docs, rank_order, round_robin, take_rows
from ._fair_base import BaseFairQueryStrategy
from ._jin_groups import (
    cap_allocation,
    capped_pick,
    group_caps,
    group_predictability,
    rank_groups_shrunk,
)
from ._jin_scores import (
    AGGREGATIONS,
    DISAGREEMENTS,
    _is_number_pair,
    disagreement_scores,
)
from ._jin_scoring import SOFT_ALLOCATIONS, _ScoringMixin
from ._jin_standard import _StandardModelMixin

__all__ = ["JINQueryStrategy", "disagreement_scores"]


@Substitution(
    validation_set=_shared_docs["validation_set"],
    max_candidates=_shared_docs["max_candidates"],
    random_state=_shared_docs["random_state"],
    last_query=_query_docs["last_query"],
)
class JINQueryStrategy(_ScoringMixin, _StandardModelMixin, BaseFairQueryStrategy):
    """Joint INconsistency query strategy for Fair Robust Active Learning.

    From the paper [1]_: two cheap prediction inconsistencies, computed with
    no retraining per candidate,

    * **robust inconsistency** ``I_adv(x) = D(p_rob(x), p_rob(x_adv))``: the
      robust model on a benign input against its PGD example (made with the
      model's own prediction as label);
    * **standard inconsistency** ``I_mod(x) = D(p_std(x), p_rob(x))``: a
      standard model (trained without attack on the same labelled set) against
      the robust model on the benign input.

    Everything else is this project's design, each step a parameter: the
    samples of the validation-worst group are scored by
    ``weights[0] * I_adv + weights[1] * I_mod``, ties broken by ``random_state``,
    and the batch is taken round-robin over the robust model's predicted
    classes (the paper's "class imbalance mitigation"). See the user guide for
    what the ablation benchmark measured for each choice.

    The labelled set the standard model is trained on is ``X_labelled,
    y_labelled`` of the call, or a modAL learner's ``X_training, y_training``.

    Parameters
    ----------
    {validation_set}
    attack : object with ``perturb`` or None, default=None
        Attack for ``I_adv`` and for robust validation accuracy; ``None`` uses a
        :class:`~skfral.nn.PGD` with the robust net's own training settings
        (:func:`skfral.nn.attack_from_net`).
    standard_estimator : estimator or None, default=None
        The standard model; ``None`` means a clone of the learner's estimator
        with ``adversarial=None`` on its final net. A clone is fitted; the
        object passed is never modified. Any classifier with ``fit`` and
        ``predict_proba`` works; only nets with ``warm_start`` and
        ``max_epochs`` (skorch) are warm-started, others are refitted.
    group_criterion : str, default="mean"
        Worst-group criterion on validation: "standard", "robust", "mean" (of
        standard and robust accuracy), or "balanced_standard",
        "balanced_robust", "balanced_mean" (balanced accuracy).
    group_allocation : {"auto", "bootstrap", "worst", "proportional", \
"none", "soft"}, default="auto"
        "auto" (the default since issue 25; our extension, not in the paper):
        "bootstrap" when the groups likely to be the worst can be told from
        the features (their cross-validated AUC, weighted by ``p_worst``, is
        at least ``predictability_threshold``), else "soft": targeting pays
        where the targeted group is predictable from the features. The
        choice, made on the validation set only, is in ``group_allocation_``.
        With ``shrinkage_prior=25``, ``min_val_count=10`` and
        ``max_group_share=0.2`` (also the defaults) it ranked first among
        JIN's variants on the *validation* worst-group robust metrics over
        the five data sets of the quality suite
        (``benchmarks/results/jin_soft.md``); the preset ``"jin_bootstrap"``
        of :data:`~skfral.query.JIN_PRESETS` is the default before it.
        "bootstrap" (the default from issue 15 to issue 25): the batch
        split in proportion to each group's probability of being the worst,
        estimated by ``n_boot`` seeded resamples of the validation rows inside
        each group (the validation set is predicted and attacked once; only
        the rows are resampled; largest-remainder rounding): a group that is
        clearly the worst gets the whole batch, one that is the worst only by
        the noise of a small validation set gets only its share.
        "worst" (the paper's reading, the default until issue 15): the whole batch
        from the validation-worst group; "proportional": the batch split over
        groups by their deficit to the best group (with two groups it equals
        "worst"). A group with too few pool samples is filled from the
        next-worst groups. "none" drops the group restriction (an ablation:
        every pool sample competes, no validation ranking is made).
        "soft" (issue 25; our extension): no restriction either, but a soft
        preference: every pool sample is scored by the weighted mean of the
        ranks (scaled to [0, 1]) of ``I_adv``, ``I_mod`` and the robust
        model's entropy (weights ``weights`` and 1 for the entropy;
        ``score_aggregation`` and ``uncertainty_weight`` are for the hard
        allocations: ranks put ``group_preference`` on a known scale) plus
        ``group_preference`` times the bootstrap probability that the
        sample's group is the worst on validation.
    n_boot : int, default=1000
        Bootstrap replicates of ``group_allocation="bootstrap"`` (ignored
        otherwise); seeded from ``random_state``.
    disagreement : {"hard", "kl", "js"}, default="hard"
        The divergence ``D``. "hard" (0/1 arg-max disagreement, ties broken by
        the KL score) is the default because it ranked first among JIN's
        variants on the *validation* worst-group metrics of the ablation
        benchmark (``benchmarks/RESULTS.md``; the margin over "kl" is within
        seed noise). ``disagreement="kl"`` is the paper-faithful setting as we
        read it.
    weights : tuple of two floats, default=(1.0, 1.0)
        ``(w_adv, w_mod)``, non-negative and not both 0: ``(1, 0)`` is only
        I_adv, ``(0, 1)`` only I_mod.
    class_balance : bool, default=True
        Take the top candidates round-robin over predicted classes.
    score_aggregation : {"sum", "rank"}, default="sum"
        Combine raw divergences, or their ranks scaled to [0, 1] (scale-free).
    warm_start_epochs : int or None, default=None
        Epochs of the standard model's warm-started refit when the labelled set
        only grew since the previous call (``None``: a third of the net's
        ``max_epochs``, at least 1). The first call fits from scratch.
    diversity : {None, "kcenter"}, default=None
        Batch diversity (our extension, not in the paper): instead of the top
        ``q`` candidates of each predicted class, k-center greedy on the robust
        net's penultimate embeddings over that class's ``diversity_factor * q``
        best candidates, starting from the best one. Top-scored batches tend to
        pile up on one stretch of the decision boundary; this spreads them.
    diversity_factor : int, default=3
        How many best candidates per batch slot the diverse choice looks at.
    uncertainty_weight : float, default=0.0
        Weight of a third term, the robust model's predictive entropy, added
        to the score (our extension, not in the paper; ``0`` leaves JIN as the
        paper defines it). Ranked like the other terms under
        ``score_aggregation="rank"``.
    group_preference : float, default=0.5
        ``beta`` of ``group_allocation="soft"`` (and of "auto" when it goes
        soft): the weight of the probability that a sample's group is the
        worst, added to a score in [0, 1]. ``0`` ignores the groups (the
        ranking of "none" with the same rank score); a large value picks
        inside the likely-worst groups first. Ignored by the other
        allocations.
    shrinkage_prior : float, default=25.0
        Empirical-Bayes shrinkage of each group's validation score toward the
        score on the whole validation set: ``(n_g * s_g + k * s) / (n_g + k)``
        with ``k = shrinkage_prior`` (a pseudo-count of samples; 20-30 pulls a
        group of 3 samples almost to the overall score and leaves a group of
        300 almost as it is). Applied to the ranking and inside every
        bootstrap replicate of ``p_worst``; ``0`` (no shrinkage) is JIN as
        before issue 25 (the default since issue 25 is 25).
    min_val_count : int, default=10
        A group with fewer validation samples than this is not ranked: it is
        never the targeted group (its ``p_worst`` is 0; the hard allocations
        give it picks only when the ranked groups' pools run out). When no
        pool group is ranked, nothing is targeted (as "none"). Groups absent
        from the validation set are refused as before. ``1`` is JIN as before
        issue 25.
    max_group_share : float in (0, 1] or None, default=0.2
        Per-query cap: one group takes at most ``ceil(max_group_share * n_g)``
        picks of its ``n_g`` remaining pool samples (``1 / R`` makes a group's
        pool last ``R`` queries); what the cap removes goes to the next
        groups (hard allocations) or to the next best-scored samples of other
        groups ("soft"). When the caps together hold fewer than the batch, the
        rest is filled without them. ``None``: no cap (JIN before issue 25).
        Not used by "none" (nothing is targeted).
    predictability_threshold : float in [0.5, 1], default=0.85
        The gate of ``group_allocation="auto"``: the ``p_worst``-weighted
        cross-validated AUC of telling each group from the rest by the
        features of the validation set (:func:`group_predictability`, a small
        logistic regression, fitted once per validation set and cached) at
        or above which the batch is targeted ("bootstrap") instead of
        softly preferred ("soft"). Ignored by the other allocations.
    {max_candidates}
    {random_state}

    Attributes
    ----------
    standard_estimator_ : estimator
        The standard model fitted at the last call.
    n_standard_fits_ : int
        Number of standard-model fits so far: one per query, except that a
        query right after :meth:`utilities` on the same labelled set reuses
        the model ``utilities`` fitted.
    group_allocation_ : str
        The allocation used at the last query ("bootstrap" or "soft" for
        ``group_allocation="auto"``, else ``group_allocation``).
    group_predictability_ : pandas.Series or None
        Per validation group, the cross-validated AUC of telling it from the
        rest by the features ("auto" only, else None).
    targeting_auc_ : float
        The ``p_worst``-weighted AUC compared with ``predictability_threshold``
        at the last query (NaN unless "auto").
    {last_query}
        Score parts: ``adversarial_inconsistency`` (``I_adv``) and
        ``model_inconsistency`` (``I_mod``), raw (``score`` combines them, or
        their scaled ranks with ``score_aggregation="rank"``); ``entropy``
        when ``uncertainty_weight > 0``; ``tie_break`` (the weighted KL
        divergences that break ties) with ``disagreement="hard"``;
        ``predicted_class`` (the robust model's, used for class balance);
        and, unless ``group_allocation="none"``, ``group_rank`` (0 = the
        validation-worst group), ``group_score`` and, with ``"bootstrap"``,
        ``"soft"`` or ``"auto"``, ``p_worst`` (the group's probability of
        being the worst). Under ``"soft"`` (or ``"auto"`` choosing it):
        ``rank_score`` (the mean of the scaled ranks) and ``preference``
        (``group_preference`` times ``p_worst``; ``score = rank_score +
        preference``). With the issue-25 ranking (``"soft"``, ``"auto"``,
        ``shrinkage_prior > 0`` or ``min_val_count > 1``, so with the
        defaults): ``raw_group_score`` (the group's validation score before
        shrinkage), ``group_val_count`` (its validation samples),
        ``group_ranked`` (``min_val_count`` met) and ``allocation`` (the
        allocation used); ``group_cap`` (the group's per-query cap) with
        ``max_group_share``; ``targeting_auc`` under ``"auto"``.

    See Also
    --------
    disagreement_scores : The divergences ``D``.
    WorstGroupSampling : Entropy or random picks inside the worst group.
    FALSampling : Expected fairness gain (refits per candidate; expensive).
    skfral.query.to_skactiveml : Use JIN in a scikit-activeml loop.

    References
    ----------
    .. [1] T.-H. Wu, H.-T. Su, S.-T. Chen and W. H. Hsu, "Fair Robust Active
       Learning by Joint Inconsistency", ICCV 2023 Workshops (AROW),
       pp. 3622-3631; arXiv:2209.10729.
    .. [2] A. Madry, A. Makelov, L. Schmidt, D. Tsipras and A. Vladu, "Towards
       Deep Learning Models Resistant to Adversarial Attacks", ICLR 2018.

    Examples
    --------
    >>> import numpy as np
    >>> from modAL.models import ActiveLearner
    >>> from skfral.nn import MLP, RobustNeuralNetClassifier
    >>> from skfral.query import JINQueryStrategy
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(200, 2).astype("float32"); y = (X[:, 0] > 0).astype(int)
    >>> s = (rng.rand(200) < 0.3).astype(int)
    >>> jin = JINQueryStrategy(X_val=X[:50], y_val=y[:50], sensitive_features_val=s[:50],
    ...                        random_state=0)
    >>> net = RobustNeuralNetClassifier(MLP, module__n_features=2, max_epochs=2,
    ...                                 attack_n_steps=2, random_state=0)
    >>> learner = ActiveLearner(net, query_strategy=jin, X_training=X[50:70],
    ...                         y_training=y[50:70])
    >>> idx, rows = learner.query(X[70:], n_instances=4, sensitive_features=s[70:])
    >>> len(idx)
    4

    Without modAL, on the fitted net and its labelled set:

    >>> idx, scores = jin(learner.estimator, X[70:], 4, sensitive_features=s[70:],
    ...                   X_labelled=X[50:70], y_labelled=y[50:70])
    >>> len(set(idx.tolist()))
    4
    """

    requires_sensitive_features = True
    requires_labelled = True

    _parameter_constraints: dict = {
        **BaseFairQueryStrategy._parameter_constraints,
        "standard_estimator": [HasMethods(["fit", "predict_proba"]), None],
        "group_criterion": [StrOptions(GROUP_CRITERIA)],
        "group_allocation": [
            StrOptions((*BOOTSTRAP_ALLOCATIONS, "none", *SOFT_ALLOCATIONS))
        ],
        "n_boot": [Interval(Integral, 1, None, closed="left")],
        "disagreement": [StrOptions(DISAGREEMENTS)],
        "weights": [
            Predicate(
                _is_number_pair, "a pair of numbers (w_adv, w_mod)", invalid=(1.0,)
            )
        ],
        "class_balance": ["boolean"],
        "score_aggregation": [StrOptions(AGGREGATIONS)],
        "warm_start_epochs": [Interval(Integral, 1, None, closed="left"), None],
        "diversity": [StrOptions(("kcenter",)), None],
        "diversity_factor": [Interval(Integral, 1, None, closed="left")],
        "uncertainty_weight": [Interval(Real, 0, None, closed="left")],
        "group_preference": [Interval(Real, 0, None, closed="left")],
        "shrinkage_prior": [Interval(Real, 0, None, closed="left")],
        "min_val_count": [Interval(Integral, 1, None, closed="left")],
        "max_group_share": [Interval(Real, 0, 1, closed="right"), None],
        "predictability_threshold": [Interval(Real, 0.5, 1, closed="both")],
    }

    def __init__(
        self,
        *,
        X_val=None,
        y_val=None,
        sensitive_features_val=None,
        attack=None,
        standard_estimator=None,
        group_criterion="mean",
        group_allocation="auto",
        n_boot=1000,
        disagreement="hard",
        weights=(1.0, 1.0),
        class_balance=True,
        score_aggregation="sum",
        warm_start_epochs=None,
        diversity=None,
        diversity_factor=3,
        uncertainty_weight=0.0,
        group_preference=0.5,
        shrinkage_prior=25.0,
        min_val_count=10,
        max_group_share=0.2,
        predictability_threshold=0.85,
        max_candidates=None,
        random_state=None,
    ):
        self.X_val = X_val
        self.y_val = y_val
        self.sensitive_features_val = sensitive_features_val
        self.attack = attack
        self.standard_estimator = standard_estimator
        self.group_criterion = group_criterion
        self.group_allocation = group_allocation
        self.n_boot = n_boot
        self.disagreement = disagreement
        self.weights = weights
        self.class_balance = class_balance
        self.score_aggregation = score_aggregation
        self.warm_start_epochs = warm_start_epochs
        self.diversity = diversity
        self.diversity_factor = diversity_factor
        self.uncertainty_weight = uncertainty_weight
        self.group_preference = group_preference
        self.shrinkage_prior = shrinkage_prior
        self.min_val_count = min_val_count
        self.max_group_share = max_group_share
        self.predictability_threshold = predictability_threshold
        self.max_candidates = max_candidates
        self.random_state = random_state

    def _validate_params(self):
        """The constraints, then the weights: each >= 0, not both 0."""
        super()._validate_params()
        w_adv = check_real(self.weights[0], "weights[0]", min_value=0)
        w_mod = check_real(self.weights[1], "weights[1]", min_value=0)
        if w_adv + w_mod == 0:
            raise ValueError(
                f"weights={tuple(self.weights)!r} is invalid: expected at least one "
                "positive weight."
            )

    def _ranks_groups(self):
        return self.group_allocation != "none"

    def _uses_shrunk_table(self):
        return (
            self.group_allocation in SOFT_ALLOCATIONS
            or self.shrinkage_prior > 0
            or self.min_val_count > 1
        )

    def _prepare(self, query, *, keep_for_next=False):
        """Attack, validation ranking (or None), standard model and allocation."""
        X_lab, y_lab = query.labelled(type(self).__name__)
        attack = self._attack(query)
        table = None
        allocation = self.group_allocation
        if allocation != "none" and self._uses_shrunk_table():
            X_val, y_val, groups_val = self._validation(query)
            table = rank_groups_shrunk(
                query.estimator,
                X_val,
                y_val,
                groups_val,
                attack=attack,
                criterion=self.group_criterion,
                pool_groups=query.groups,
                n_boot=self.n_boot,
                prior=float(self.shrinkage_prior),
                min_count=int(self.min_val_count),
                random_state=int(query.rng.randint(0, 2**31 - 1)),
            )
            if not table["ranked"].any():
                allocation = "soft" if allocation in SOFT_ALLOCATIONS else "none"
                table = None
        elif allocation == "bootstrap":
            table = self._rank(query, attack, self.group_criterion, n_boot=self.n_boot)
        elif allocation != "none":
            table = self._rank(query, attack, self.group_criterion, ranker=rank_groups)
        self.targeting_auc_ = float("nan")
        self.group_predictability_ = None
        if allocation == "auto":
            allocation = self._gate(query, table)
        self.group_allocation_ = allocation
        standard = self._fit_standard(
            query.estimator, X_lab, y_lab, keep_for_next=keep_for_next
        )
        return attack, table, standard, allocation

    def _gate(self, query, table):
        """ "bootstrap" when the likely-worst groups are predictable, else "soft"."""
        X_val, _, groups_val = self._validation(query)
        transform, _ = split_estimator(query.estimator)
        Xt = np.asarray(transform(X_val))
        key = joblib.hash((Xt, np.asarray(groups_val, dtype=object)))
        memo = getattr(self, "_predictability_memo", None)
        if memo is None or memo[0] != key:
            memo = (key, group_predictability(Xt, groups_val))
            self._predictability_memo = memo
        auc = memo[1]
        self.group_predictability_ = auc
        p = table["p_worst"]
        self.targeting_auc_ = float((p * auc.reindex(p.index).fillna(0.5)).sum())
        if self.targeting_auc_ >= self.predictability_threshold:
            return "bootstrap"
        return "soft"

    def _select(self, query):
        rng, n_instances, groups = query.rng, query.n_instances, query.groups
        attack, table, standard, allocation = self._prepare(query)
        caps = None
        if self.max_group_share is not None:
            caps = group_caps(groups, float(self.max_group_share))
        if allocation == "soft":
            return self._select_soft(query, attack, table, standard, caps)
        if table is None:  # no group restriction (and no cap)
            caps = None
            groups = np.zeros(len(groups), dtype=np.int64)
            query.groups = groups
            alloc = {0: n_instances}
        else:
            alloc = allocate(table, groups, n_instances, allocation)
            if caps is not None:
                counts = pd.Series(groups).value_counts()
                order = [g for g in table.index if counts.get(g, 0) > 0]
                available = {g: int(counts[g]) for g in order}
                alloc = cap_allocation(alloc, order, available, caps, n_instances)
        members = self._group_candidates(query, alloc)
        cand = np.sort(np.concatenate([members[g] for g in alloc]))
        comp = self._components(
            query.estimator, standard, take_rows(query.X_pool, cand), attack
        )
        score, secondary = self._combine(comp)
        picked, picked_scores = [], []
        cand_groups = groups[cand]
        pred = comp["predicted_class"]
        for g, count in alloc.items():
            local = np.flatnonzero(cand_groups == g)
            sec = None if secondary is None else secondary[local]
            order = local[rank_order(score[local], rng, secondary=sec)]
            take = (
                round_robin(order, pred, count) if self.class_balance else order[:count]
            )
            if self.diversity is not None:
                take = self._diversify(order, take, pred, comp["embedding"])
            picked.extend(cand[take])
            picked_scores.extend(score[take])
        chosen = np.searchsorted(cand, picked)  # cand is sorted and unique
        parts = self._targeting_parts(table, query.groups[picked], caps, allocation)
        parts["adversarial_inconsistency"] = comp["I_adv"][chosen]
        parts["model_inconsistency"] = comp["I_mod"][chosen]
        if self.uncertainty_weight:
            parts["entropy"] = comp["entropy"][chosen]
        if secondary is not None:
            parts["tie_break"] = secondary[chosen]
        classes = np.asarray(split_estimator(query.estimator)[1].classes_)
        parts["predicted_class"] = classes[pred[chosen]]
        n_scored = [int((cand_groups == g).sum()) for g in cand_groups[chosen]]
        self._record_query(picked, picked_scores, parts=parts, n_scored=n_scored)
        return np.asarray(picked), np.asarray(picked_scores)

    def _select_soft(self, query, attack, table, standard, caps):
        """Whole-pool ranking with the soft group preference, capped and balanced."""
        groups, k = query.groups, query.n_instances
        # every group competes: with max_candidates, each group's share of the
        # budget is its share of the pool (a stratified uniform subset)
        counts = pd.Series(groups).value_counts(sort=False)
        members = self._group_candidates(query, counts.to_dict())
        cand = np.sort(np.concatenate(list(members.values())))
        comp = self._components(
            query.estimator, standard, take_rows(query.X_pool, cand), attack
        )
        cand_groups = groups[cand]
        base, p, score, secondary = self._soft_scores(comp, cand_groups, table)
        order = rank_order(score, query.rng, secondary=secondary)
        pred = comp["predicted_class"]
        if caps is None:
            caps = group_caps(cand_groups, None)
        take = capped_pick(
            order, cand_groups, k, caps, labels=pred if self.class_balance else None
        )
        if self.diversity is not None:
            take = self._diversify(order, take, pred, comp["embedding"])
        parts = self._targeting_parts(table, cand_groups[take], caps, "soft")
        parts["adversarial_inconsistency"] = comp["I_adv"][take]
        parts["model_inconsistency"] = comp["I_mod"][take]
        parts["entropy"] = comp["entropy"][take]
        if secondary is not None:
            parts["tie_break"] = secondary[take]
        parts["rank_score"] = base[take]
        parts["p_worst"] = p[take]
        parts["preference"] = float(self.group_preference) * p[take]
        classes = np.asarray(split_estimator(query.estimator)[1].classes_)
        parts["predicted_class"] = classes[pred[take]]
        self._record_query(cand[take], score[take], parts=parts, n_scored=len(cand))
        return cand[take], score[take]

    def utilities(
        self, learner, X_pool, *, sensitive_features, X_labelled=None, y_labelled=None
    ):
        """Per-sample components for inspection and plots.

        Fits the standard model (a query that follows on the same labelled
        set reuses it) and scores *every* pool sample (``max_candidates`` is
        not applied). The inputs are checked exactly as by a query.

        Parameters
        ----------
        learner : modAL ActiveLearner or fitted estimator
            As for a query: a modAL learner or the fitted robust model.
        X_pool : array-like, DataFrame or list of shape (n_pool, ...)
            The unlabelled pool.
        sensitive_features : array-like of shape (n_pool,)
            The pool samples' groups.
        X_labelled : array-like of shape (n_labelled, ...) or None, default=None
            The labelled set (``None``: the modAL learner's ``X_training``).
        y_labelled : array-like of shape (n_labelled,) or None, default=None
            Labels of ``X_labelled``.

        Returns
        -------
        utilities : pandas.DataFrame
            One row per pool sample: ``group``, ``group_rank`` (0 = worst on
            validation), ``I_adv``, ``I_mod``, ``entropy`` (of the robust
            model's prediction), ``score`` (the combined score
            used for ranking), ``predicted_class`` (column index of the robust
            model's prediction) and ``candidate`` (whether the sample's
            group is the validation-worst one, the group the paper's
            ``"worst"`` allocation ranks; every sample under ``"soft"``, where
            ``score`` includes ``group_preference`` times the column
            ``p_worst``, added then).
        """
        query = self._check_query(
            learner,
            X_pool,
            1,
            sensitive_features=sensitive_features,
            X_labelled=X_labelled,
            y_labelled=y_labelled,
            subsample_pool=False,
        )
        attack, table, standard, allocation = self._prepare(query, keep_for_next=True)
        comp = self._components(query.estimator, standard, query.X_pool, attack)
        groups = query.groups
        p_worst = None
        if allocation == "soft":
            _, p_worst, score, _ = self._soft_scores(comp, groups, table)
        else:
            score, _ = self._combine(comp)
        rank = {g: i for i, g in enumerate(table.index)} if table is not None else {}
        group_rank = np.asarray([rank.get(g, 0) for g in groups])
        out = pd.DataFrame(
            {
                "group": groups,
                "group_rank": group_rank,
                "I_adv": comp["I_adv"],
                "I_mod": comp["I_mod"],
                "entropy": comp["entropy"],
                "score": score,
                "predicted_class": comp["predicted_class"],
                "candidate": group_rank == group_rank.min(),
            }
        )
        if p_worst is not None:
            out["p_worst"] = p_worst
            out["candidate"] = True
        return out
