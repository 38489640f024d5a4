"""How a batch is picked: validation split, cold start, the strategy, the reasons.

The private half of :func:`skfral.experiment.query_batch`: the stratified
validation hold-out, when and how a cold start replaces the strategy, the
robust model, and the one-line reason of every pick.
"""

import numpy as np

from ..metrics import group_scores
from ..nn import attack_from_net, final_net, split_estimator
from ..query import STRATEGIES, get_strategy
from ..utils._validation import check_random_state
from ._catalog import build_estimator
from ._label_data import take

COLD_START = "cold start"


# ------------------------------------------------------------------ splitting
def _stratified_split(keys, val_size, rng):
    """Hold out about ``val_size`` of every (group, class) cell; keep >= 1 to fit."""
    keys = np.asarray(keys, dtype=object)
    val = np.zeros(len(keys), dtype=bool)
    for key in sorted(set(keys.tolist()), key=str):
        members = np.flatnonzero(keys == key)
        if len(members) < 2:
            continue
        n_val = min(len(members) - 1, max(1, int(round(val_size * len(members)))))
        val[rng.permutation(members)[:n_val]] = True
    return val


def _cold_reason(data, labelled, strategy, min_labels, val_mask):
    """Why the strategy cannot run yet (``None`` when it can)."""
    n = int(labelled.sum())
    counts = data.y[labelled].value_counts()
    if n < min_labels:
        return f"only {n} labelled row(s), fewer than min_labels={min_labels}"
    if len(counts) < 2:
        return (
            f"only {len(counts)} class labelled ({', '.join(map(str, counts.index))})"
        )
    if counts.min() < 2:
        return f"class {counts.idxmin()!r} has only {int(counts.min())} label"
    if STRATEGIES[strategy].requires_validation and val_mask is not None:
        lab_groups = set(data.groups[labelled].tolist())
        val_groups = set(data.groups[labelled][val_mask].tolist())
        missing = sorted(set(data.groups.tolist()) - val_groups, key=str)
        if missing:
            where = "labelled" if set(missing) - lab_groups else "validation"
            return (
                f"group(s) {', '.join(map(str, missing))} have no {where} row, and "
                f"{strategy} ranks groups on validation"
            )
    return None


def _features_for_centroids(data, labelled):
    """Numbers for the nearest-class-mean rule of the cold start."""
    if data.kind == "images":
        return np.asarray(data.X, dtype=np.float64).reshape(len(data.y), -1)
    from ..datasets import make_tabular_preprocessor

    pre = make_tabular_preprocessor(data.X)
    pre.fit(data.X[labelled])
    return pre.transform(data.X)


def cold_start_pick(data, budget, rng):
    """Group- and class-stratified random pick among the unlabelled rows.

    The batch is split over the groups as evenly as the pool allows (a group
    short of rows gives its share to the others, groups in a random order).
    Inside a group, when at least two classes are labelled, the pool rows are
    given the class of the nearest labelled class mean (standardised
    features) and the group's share is drawn round-robin over those classes;
    otherwise at random.

    Returns
    -------
    rows : ndarray of int
        Positions in DATA, in the order picked.
    """
    labelled = data.labelled
    pool = np.flatnonzero(~labelled)
    classes_lab = data.y[labelled].unique()
    pred = np.zeros(len(data.y), dtype=object)
    if len(classes_lab) >= 2:
        Z = _features_for_centroids(data, labelled)
        y_lab = data.y[labelled].to_numpy(dtype=object)
        means = np.stack([Z[labelled][y_lab == c].mean(axis=0) for c in classes_lab])
        d = ((Z[pool][:, None, :] - means[None, :, :]) ** 2).sum(axis=2)
        pred[pool] = np.asarray(classes_lab, dtype=object)[d.argmin(axis=1)]
    groups = data.groups
    queues = {}
    for g in rng.permutation(sorted(set(groups[pool].tolist()), key=str)):
        members = pool[groups[pool] == g]
        by_class = {}
        for c in rng.permutation(sorted(set(pred[members].tolist()), key=str)):
            by_class[c] = list(rng.permutation(members[pred[members] == c]))
        order = []
        while any(by_class.values()):
            for c in list(by_class):
                if by_class[c]:
                    order.append(by_class[c].pop(0))
        queues[g] = order
    picked = []
    while len(picked) < budget and any(queues.values()):
        for g in list(queues):
            if queues[g] and len(picked) < budget:
                picked.append(queues[g].pop(0))
    return np.asarray(picked, dtype=np.intp)


# ------------------------------------------------------------------ the model
def build_model(data, classes, random_state, net_params=None):
    """The default robust model for DATA (tabular preprocessing + MLP, or SmallCNN)."""
    return build_estimator(None, data.X, np.asarray(classes), random_state, net_params)


_N_BOOT_REASON = 200


def _p_worst(y, y_clean, y_adv, groups, criterion, rng):
    """Share of validation bootstraps (rows resampled inside each group) in
    which each group scores lowest; ``None`` for the balanced criteria."""
    if criterion not in ("standard", "robust", "mean"):
        return None
    ok_c = (y_clean == y).astype(float)
    ok_a = (y_adv == y).astype(float)
    hits = {"standard": ok_c, "robust": ok_a, "mean": (ok_c + ok_a) / 2}[criterion]
    names = sorted(set(groups.tolist()), key=str)
    members = [np.flatnonzero(groups == g) for g in names]
    wins = np.zeros(len(names))
    for _ in range(_N_BOOT_REASON):
        scores = np.array([hits[rng.choice(m, len(m))].mean() for m in members])
        low = np.flatnonzero(scores == scores.min())
        wins[low] += 1.0 / len(low)
    return dict(zip(names, wins / _N_BOOT_REASON, strict=True))


def _reasons_jin(strategy, est, X_val, y_val, s_val, rows_groups, parts, rng):
    """One line per pick: its group's validation standing, its two inconsistencies.

    The validation set is predicted and attacked once (the strategy's attack,
    made with the true labels); ``p`` is the share of 200 bootstrap
    resamples of the validation rows (inside each group) in which the group
    scores lowest.
    """
    attack = strategy.attack or attack_from_net(final_net(est))
    transform, net = split_estimator(est)
    Xt = transform(X_val)
    y_val = np.asarray(y_val, dtype=object)
    classes = np.asarray(net.classes_, dtype=object)
    y_clean = classes[net.predict_proba(Xt).argmax(axis=1)]
    y_adv = classes[net.predict_proba(attack.perturb(net, Xt, y_val)).argmax(axis=1)]
    s_val = np.asarray(s_val, dtype=object)
    criterion = strategy.group_criterion
    table = group_scores(y_val, y_clean, y_adv, s_val, criterion)
    p = _p_worst(y_val, y_clean, y_adv, s_val, criterion, rng)
    rank = {g: i for i, g in enumerate(table.index)}
    reasons = []
    for g, (i_adv, i_mod) in zip(rows_groups, parts, strict=True):
        r = rank.get(g)
        if r is None:
            where = f"group {g} has no validation row"
        else:
            score = float(table.loc[g, "score"])
            place = (
                "is worst" if r == 0 else f"ranks {r + 1} of {len(table)} (1 = worst)"
            )
            extra = "" if p is None else f", p={p[g]:.2f} of being worst"
            where = (
                f"group {g} {place} on validation "
                f"({criterion} accuracy {score:.2f}{extra})"
            )
        reasons.append(
            f"{where}; adversarial inconsistency {i_adv:.2f}, "
            f"model inconsistency {i_mod:.2f}"
        )
    return reasons


def _run_strategy(name, params, data, est, fit_rows, val_rows, budget, seed):
    """Fit ``est`` on ``fit_rows``, query the pool; rows, scores, parts, reasons."""
    y = data.y.to_numpy(dtype=object)
    X_fit, y_fit = take(data.X, fit_rows), y[fit_rows]
    est.fit(X_fit, y_fit)
    params = dict(params or {})
    params.setdefault("random_state", seed)
    if STRATEGIES[name].requires_validation:
        params.update(
            X_val=take(data.X, val_rows),
            y_val=y[val_rows],
            sensitive_features_val=data.groups[val_rows],
        )
    strategy = get_strategy(name, **params)
    pool = np.flatnonzero(~data.labelled)
    X_pool, s_pool = take(data.X, pool), data.groups[pool]
    kwargs = {"sensitive_features": s_pool}
    if STRATEGIES[name].requires_labelled:
        kwargs.update(X_labelled=X_fit, y_labelled=y_fit)
    parts = {}
    if name == "jin":
        util = strategy.utilities(est, X_pool, **kwargs)
    n = min(budget, len(pool))
    idx, scores = strategy(est, X_pool, n, **kwargs)
    idx = np.asarray(idx, dtype=np.intp)
    if name == "jin":
        parts = {
            "adversarial_inconsistency": util["I_adv"].to_numpy()[idx],
            "model_inconsistency": util["I_mod"].to_numpy()[idx],
        }
        reasons = _reasons_jin(
            strategy,
            est,
            params["X_val"],
            params["y_val"],
            params["sensitive_features_val"],
            s_pool[idx],
            zip(parts["adversarial_inconsistency"], parts["model_inconsistency"]),
            check_random_state(seed),
        )
    else:
        reasons = [
            f"{name} score {float(sc):.3g}: pick {k + 1} of {n} among "
            f"{len(pool)} unlabelled rows"
            for k, sc in enumerate(scores)
        ]
    return pool[idx], np.asarray(scores, dtype=float), parts, reasons
