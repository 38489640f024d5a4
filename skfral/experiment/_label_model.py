"""The final model of a labelling loop: fit, predict, audit.

:func:`fit_model` (``skfral fit``) trains the robust model on every labelled
row of DATA and saves it as a safe model folder (:func:`skfral.nn.save_model`);
:func:`predict` (``skfral predict``) writes predictions and class
probabilities; :func:`audit` (``skfral audit``) writes the fairness report on
clean and attacked inputs, with bootstrap intervals and the majority-class
floor, as markdown and a PNG.
"""

import shutil
from pathlib import Path

import numpy as np
import pandas as pd

from ..metrics import fairness_report, majority_floor, plot_group_accuracy
from ..nn import APGD, PGD, attack_from_net, final_net, load_model, save_model
from ..utils._validation import check_int, check_real
from ._label_data import (
    commit,
    interruptible,
    read_labelling_data,
    stage_dir,
    write_table,
)
from ._label_files import ATTACKS
from ._label_pick import build_model
from ._labelling import _model_metadata

__all__ = ["ATTACKS", "audit", "fit_model", "predict"]


@interruptible
def fit_model(
    data,
    *,
    target,
    sensitive,
    save,
    id_column=None,
    image_folder=None,
    image_size=32,
    net_params=None,
    random_state=0,
):
    """Train the robust model on every labelled row and save it (``skfral fit``).

    Parameters
    ----------
    data : str or path-like
        A CSV, TSV or Parquet table (empty target = unlabelled), or with
        ``image_folder`` the labels CSV of the images.
    target : str
        The label column.
    sensitive : str or list of str
        The group column(s).
    save : str or path-like
        The model folder to write (:func:`skfral.nn.save_model`); written
        under a temporary name and renamed at the end.
    id_column : str or None, default=None
        A column of unique ids; ``None``: the row number.
    image_folder : str, path-like or None, default=None
        The images' folder (``data`` is then the labels CSV).
    image_size : int, default=32
        Images are resized to squares of this side.
    net_params : dict or None, default=None
        ``set_params`` of the robust net (e.g. ``{"max_epochs": 30}``).
    random_state : int, default=0
        Seed of the net.

    Returns
    -------
    estimator : Pipeline or RobustNeuralNetClassifier
        The fitted model.
    """
    data = read_labelling_data(
        data,
        target=target,
        sensitive=sensitive,
        id_column=id_column,
        image_folder=image_folder,
        image_size=image_size,
    )
    labelled = data.labelled
    classes = data.classes
    if len(classes) < 2:
        raise ValueError(
            f"data={str(data.path)!r} has {int(labelled.sum())} labelled row(s) and "
            f"{len(classes)} class(es): fit needs at least two classes labelled."
        )
    seed = check_int(random_state, "random_state", min_value=0)
    est = build_model(data, classes, seed, net_params)
    rows = np.flatnonzero(labelled)
    X = data.X.iloc[rows] if isinstance(data.X, pd.DataFrame) else data.X[rows]
    est.fit(X, data.y.to_numpy(dtype=object)[rows])
    meta = _model_metadata(data, {"id_column": id_column, "image_size": image_size})
    meta["n_labelled"] = int(labelled.sum())
    meta["data_sha256"] = data.sha256
    save_model(est, save, metadata=meta)
    return est


def _inputs(model_meta, data, target, sensitive, id_column, image_folder, new=False):
    target = target or model_meta.get("target")
    sensitive = sensitive or model_meta.get("sensitive")
    if not target or not sensitive:
        raise ValueError(
            "the model folder does not name its target and sensitive columns: pass "
            "target=... and sensitive=...."
        )
    d = read_labelling_data(
        data,
        target=target,
        sensitive=sensitive,
        id_column=id_column if id_column is not None else model_meta.get("id_column"),
        image_folder=image_folder,
        image_size=model_meta.get("image_size") or 32,
        allow_missing_target=new,
    )
    features = model_meta.get("features")
    if d.kind == "table" and features is not None:
        missing = [c for c in features if c not in d.X.columns]
        if missing:
            raise ValueError(
                f"data={str(d.path)!r} lacks the feature column(s) {missing} the model "
                "was fitted on."
            )
        d.X = d.X[features]
    return d


def predict(
    model,
    data,
    *,
    predictions=None,
    target=None,
    sensitive=None,
    id_column=None,
    image_folder=None,
):
    """Predictions and class probabilities of a saved model (``skfral predict``).

    Parameters
    ----------
    model : str or path-like
        A model folder (:func:`fit_model`, ``skfral fit --save``).
    data : str or path-like
        A table with the model's feature columns and group column (the target
        column may be empty or absent), or an image labels CSV.
    predictions : str, path-like or None, default=None
        Where to write the table (CSV, atomically); ``None`` writes nothing.
    target, sensitive, id_column, image_folder
        Default: as saved with the model.

    Returns
    -------
    table : pandas.DataFrame
        One row per row of DATA: the id, ``prediction`` and ``proba_<class>``
        for every class.
    """
    est, meta = load_model(model)
    d = _inputs(meta, data, target, sensitive, id_column, image_folder, new=True)
    proba = est.predict_proba(d.X)
    classes = list(final_net(est).classes_)
    out = pd.DataFrame({d.id_name: d.ids})
    out["prediction"] = np.asarray(classes, dtype=object)[proba.argmax(axis=1)]
    for k, c in enumerate(classes):
        out[f"proba_{c}"] = proba[:, k]
    if predictions is not None:
        path = Path(predictions)
        staging = stage_dir(path.parent)
        try:
            write_table(out, staging / path.name, "csv")
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        commit([(staging / path.name, path)], staging)
    return out


def _majority_floor(y_labelled, y_eval, groups):
    """:func:`skfral.metrics.majority_floor`, with the constant class it predicts."""
    classes, counts = np.unique(np.asarray(y_labelled), return_counts=True)
    return {
        "floor_class": classes[np.argmax(counts)],  # ties: the smallest label, as there
        **majority_floor(y_labelled, y_eval, groups),
    }


def _attack(name, eps, net):
    if name is None:
        return None
    if name not in ATTACKS:
        raise ValueError(
            f"attack={name!r} is not valid: expected one of {', '.join(ATTACKS)}."
        )
    base = attack_from_net(net, random_state=0)
    eps = (
        float(base.eps) if eps is None else check_real(eps, "attack_eps", min_value=0.0)
    )
    clip = {"clip_min": base.clip_min, "clip_max": base.clip_max}
    if name == "pgd":
        return PGD(eps=eps, n_steps=20, norm=base.norm, random_state=0, **clip)
    loss = "ce" if name == "apgd-ce" else "dlr"
    return APGD(loss=loss, eps=eps, norm=base.norm, n_steps=20, random_state=0, **clip)


def audit(
    model,
    data,
    *,
    target=None,
    sensitive=None,
    id_column=None,
    image_folder=None,
    attack="pgd",
    attack_eps=None,
    out=None,
    n_boot=200,
    random_state=0,
):
    """Fairness report of a saved model on the labelled rows (``skfral audit``).

    Per-group accuracy on clean inputs and under the attack (fairlearn
    MetricFrames, :func:`skfral.metrics.fairness_report`), percentile
    bootstrap intervals, and the majority-class floor: the labelled set's
    majority class predicted for every sample (accuracy, worst-group accuracy
    and balanced accuracy), the level a model must beat to have learned
    anything.

    Only the **labelled** rows of DATA are evaluated. Rows the model was
    fitted on give optimistic numbers: audit on a held-out labelled table.

    Parameters
    ----------
    model : str or path-like
        A model folder.
    data : str or path-like
        A table (or an image labels CSV) with labels.
    target, sensitive, id_column, image_folder
        Default: as saved with the model.
    attack : {"pgd", "apgd-ce", "apgd-dlr"} or None, default="pgd"
        20 steps, at the net's training radius unless ``attack_eps``.
    attack_eps : float or None, default=None
        The attack's radius; ``None``: the net's training ``attack_eps``.
    out : str, path-like or None, default=None
        Folder for ``audit.md``, ``audit.png`` and ``audit.csv`` (per group);
        ``None`` writes nothing.
    n_boot : int, default=200
        Bootstrap resamples of the intervals.
    random_state : int, default=0
        Seed of the bootstrap resamples.

    Returns
    -------
    report : FairnessReport
        With the floor entries added (``floor_accuracy``,
        ``floor_worst_group_accuracy``, ``floor_balanced_accuracy``;
        ``report.attrs["floor_class"]``).
    """
    est, meta = load_model(model)
    d = _inputs(meta, data, target, sensitive, id_column, image_folder)
    lab = d.labelled
    if lab.sum() == 0:
        raise ValueError(
            f"data={str(d.path)!r} has no labelled row: audit needs labels to compare "
            "with."
        )
    rows = np.flatnonzero(lab)
    X = d.X.iloc[rows] if isinstance(d.X, pd.DataFrame) else d.X[rows]
    y = d.y.to_numpy(dtype=object)[rows]
    known = set(map(str, final_net(est).classes_))
    unknown = sorted(set(map(str, y)) - known)
    if unknown:
        raise ValueError(
            f"data={str(d.path)!r} has label(s) {unknown} the model does not know "
            f"(its classes: {sorted(known)})."
        )
    g = d.groups[rows]
    atk = _attack(attack, attack_eps, final_net(est))
    report = fairness_report(
        est,
        X,
        y,
        sensitive_features=g,
        attack=atk,
        n_boot=check_int(n_boot, "n_boot", min_value=2),
        random_state=random_state,
    )
    floor = _majority_floor(y, y, g)
    by_group = report.by_group
    for key in (
        "floor_accuracy",
        "floor_worst_group_accuracy",
        "floor_balanced_accuracy",
    ):
        report[key] = floor[key]
    report.attrs["floor_class"] = floor["floor_class"]
    report.attrs["by_group"] = by_group.to_dict(orient="index")
    if out is not None:
        _write_audit(report, by_group, floor, out, model, d, attack, atk)
    return report


def _fmt(v):
    return (
        "" if v is None or (isinstance(v, float) and not np.isfinite(v)) else f"{v:.3f}"
    )


def _markdown(report, by_group, floor, model, d, attack, atk):
    lines = [
        f"# Fairness audit of `{model}`",
        "",
        f"Data: `{d.path}` ({int(report['n_samples'])} labelled rows, "
        f"{int(report['n_groups'])} groups by {', '.join(d.sensitive)}). "
        f"Attack: {attack or 'none'}"
        + (f" (eps={atk.eps:g}, 20 steps)" if atk is not None else "")
        + ".",
        "",
        "| metric | clean | attacked | 95% interval (clean) | 95% interval (attacked) |",
        "|---|---|---|---|---|",
    ]
    for name, label in (
        ("accuracy", "accuracy"),
        ("worst_group", "worst-group accuracy"),
    ):
        key = "" if name == "accuracy" else "worst_group_"
        lines.append(
            f"| {label} | {_fmt(report[key + 'standard_accuracy'])} | "
            f"{_fmt(report[key + 'robust_accuracy'])} | "
            f"{_fmt(report.get(key + 'standard_accuracy_ci_low'))} - "
            f"{_fmt(report.get(key + 'standard_accuracy_ci_high'))} | "
            f"{_fmt(report.get(key + 'robust_accuracy_ci_low'))} - "
            f"{_fmt(report.get(key + 'robust_accuracy_ci_high'))} |"
        )
    lines.append(
        f"| worst-group balanced accuracy | "
        f"{_fmt(report['worst_group_standard_balanced_accuracy'])} | "
        f"{_fmt(report['worst_group_robust_balanced_accuracy'])} | | |"
    )
    lines += [
        "",
        f"Majority-class floor (predict {floor['floor_class']!r}, the labelled set's "
        f"majority class, for every row): accuracy {_fmt(floor['floor_accuracy'])}, "
        f"worst-group accuracy {_fmt(floor['floor_worst_group_accuracy'])}, balanced "
        f"accuracy {_fmt(floor['floor_balanced_accuracy'])}.",
        "",
        "## Per group",
        "",
        by_group.to_markdown() if _has_tabulate() else by_group.to_string(),
        "",
    ]
    return "\n".join(lines)


def _has_tabulate():
    try:
        import tabulate  # noqa: F401
    except ImportError:
        return False
    return True


def _write_audit(report, by_group, floor, out, model, d, attack, atk):
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    out = Path(out)
    staging = stage_dir(out)
    try:
        (staging / "audit.md").write_text(
            _markdown(report, by_group, floor, model, d, attack, atk), encoding="utf-8"
        )
        by_group.to_csv(staging / "audit.csv")
        fig, ax = plt.subplots(figsize=(6, 3.5))
        plot_group_accuracy(report, ax=ax)
        ax.axhline(
            floor["floor_worst_group_accuracy"],
            color="grey",
            linestyle=":",
            label="majority-class floor (worst group)",
        )
        ax.legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(staging / "audit.png", dpi=100)
        plt.close(fig)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    commit(
        [(staging / n, out / n) for n in ("audit.md", "audit.csv", "audit.png")],
        staging,
    )
