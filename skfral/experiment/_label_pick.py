"""How a batch is picked: validation split, cold start, the strategy, the reasons.

The private half of :func:`skfral.experiment.query_batch`: the stratified
validation hold-out, when and how a cold start replaces the strategy, the
robust model, and the one-line reason of every pick.
"""

import numpy as np

from ..query import STRATEGIES, get_strategy
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


def _jin_picks(strategy, idx):
    """``strategy.last_query_`` rows of the picks ``idx``, in the order of ``idx``.

    Matched by ``position`` (never by order); a pick missing from the frame is
    a bug of the strategy.
    """
    frame = strategy.last_query_.set_index("position", drop=False)
    missing = sorted(set(idx.tolist()) - set(frame.index.tolist()))
    if missing or not frame.index.is_unique:
        raise RuntimeError(
            f"{type(strategy).__name__}.last_query_ does not describe picks "
            f"{missing[:5]} (or repeats a position): this is a bug, please report it."
        )
    return frame.loc[idx].reset_index(drop=True)


def _present(row, name):
    """``row[name]`` when the column exists and is not missing, else ``None``."""
    value = row.get(name)
    if value is None or (isinstance(value, float | np.floating) and np.isnan(value)):
        return None
    return value


def _unranked(row):
    """Whether ``last_query_`` says the pick's group was not ranked."""
    ranked = _present(row, "group_ranked")
    return ranked is not None and not bool(ranked)


def _filled_in(row, allocation):
    """Whether a hard allocation gave the group no picks of its own.

    An unranked group, a group other than the worst under "worst", and a
    group with ``p_worst == 0`` under "bootstrap" get picks only when the
    targeted groups' caps or pools cannot take the whole batch.
    """
    if _unranked(row):
        return True
    rank, p = _present(row, "group_rank"), _present(row, "p_worst")
    if allocation == "worst" and rank is not None:
        return int(rank) > 0
    return allocation == "bootstrap" and p is not None and float(p) == 0.0


def _group_standing(strategy, row, allocation):
    """Where the pick's group stands in the validation ranking JIN used."""
    g = row["group"]
    rank = _present(row, "group_rank")
    if rank is None:
        if allocation == "none" and strategy.group_allocation == "none":
            return f"group {g} (groups not ranked: group_allocation='none')"
        return (
            f"group {g} (no group ranked: no pool group has "
            f"min_val_count={strategy.min_val_count} validation rows)"
        )
    n = _present(row, "group_val_count")
    if _unranked(row):
        return (
            f"group {g} is not ranked ({int(n)} validation rows, fewer than "
            f"min_val_count={strategy.min_val_count})"
        )
    rank = int(rank)
    place = "is worst" if rank == 0 else f"ranks {rank + 1} (1 = worst)"
    score = f"{strategy.group_criterion} accuracy {float(row['group_score']):.2f}"
    raw = _present(row, "raw_group_score")
    if raw is not None and strategy.shrinkage_prior > 0:
        details = [
            f"{score} shrunk toward the overall score",
            f"{float(raw):.2f} on its {int(n)} rows",
        ]
    elif n is not None:
        details = [f"{score} on its {int(n)} rows"]
    else:
        details = [score]
    p = _present(row, "p_worst")
    if p is not None and allocation != "soft":
        details.append(f"p={float(p):.2f} of being worst")
    return f"group {g} {place} on validation ({'; '.join(details)})"


def _targeting(strategy, row, allocation):
    """How JIN used the group: targeted, filled in, soft preference or none."""
    extra = []
    cap = _present(row, "group_cap")
    if cap is not None:
        extra.append(f"group cap {int(cap)}")
    auc = _present(row, "targeting_auc")
    if auc is not None:
        sign = ">=" if allocation == "bootstrap" else "<"
        extra.append(
            f"auto: targeting AUC {float(auc):.2f} {sign} "
            f"{strategy.predictability_threshold:g}"
        )
    if allocation == "soft":
        pref, base = _present(row, "preference"), _present(row, "rank_score")
        if _present(row, "group_rank") is None:
            head = "no group preference (rank score"
            head += "" if base is None else f" {float(base):.2f}"
        else:
            p = float(_present(row, "p_worst") or 0.0)
            head = f"soft preference (p={p:.2f} of being worst"
            if pref is not None and base is not None:
                head += f", +{float(pref):.2f} on rank score {float(base):.2f}"
        return "; ".join([head, *extra]) + ")"
    if allocation == "none":
        return "not targeted (every pool row competes)"
    if _filled_in(row, allocation):
        head = (
            f"filled in ({allocation}: the targeted groups could not take the "
            "whole batch"
        )
    else:
        head = f"targeted ({allocation}"
    return "; ".join([head, *extra]) + ")"


def _reasons_jin(strategy, picks):
    """One line per pick from ``picks`` (its ``last_query_`` rows): only what JIN used.

    The group's place in JIN's validation ranking (its shrunk score, raw score
    and count, and ``p_worst`` when JIN computed them; a group below
    ``min_val_count`` is said to be unranked), how the group was used (the
    allocation, the per-group cap, the gate of "auto", the soft preference)
    and the sample's inconsistencies (and entropy when JIN scored it).
    """
    default = getattr(strategy, "group_allocation_", strategy.group_allocation)
    reasons = []
    for row in picks.to_dict("records"):
        allocation = str(_present(row, "allocation") or default)
        line = (
            f"{_group_standing(strategy, row, allocation)}; "
            f"{_targeting(strategy, row, allocation)}; "
            f"adversarial inconsistency {float(row['adversarial_inconsistency']):.2f}, "
            f"model inconsistency {float(row['model_inconsistency']):.2f}"
        )
        entropy = _present(row, "entropy")
        if entropy is not None:
            line += f", entropy {float(entropy):.2f}"
        reasons.append(line)
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
    n = min(budget, len(pool))
    idx, scores = strategy(est, X_pool, n, **kwargs)
    idx = np.asarray(idx, dtype=np.intp)
    if name == "jin":
        picks = _jin_picks(strategy, idx)
        parts = {
            "adversarial_inconsistency": picks["adversarial_inconsistency"].to_numpy(),
            "model_inconsistency": picks["model_inconsistency"].to_numpy(),
        }
        reasons = _reasons_jin(strategy, picks)
    else:
        reasons = [
            f"{name} score {float(sc):.3g}: pick {k + 1} of {n} among "
            f"{len(pool)} unlabelled rows"
            for k, sc in enumerate(scores)
        ]
    return pool[idx], np.asarray(scores, dtype=float), parts, reasons
