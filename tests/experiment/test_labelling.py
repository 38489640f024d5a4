"""The labelling loop on a table: query, merge, fit, predict, audit (issue 26)."""

import hashlib
import json

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import MetricFrame
from sklearn.metrics import accuracy_score

from skfral.experiment import (
    audit,
    default_state_dir,
    fit_model,
    merge_labels,
    predict,
    query_batch,
)
from skfral.experiment._cli import main

NET = {"max_epochs": 2, "attack_n_steps": 1}
JIN = {"n_boot": 20}


# The reason of a JIN pick (the defaults: "auto", shrunk scores, min_val_count=10,
# a per-group cap): the group's standing in JIN's validation ranking, how JIN
# used the group, the pick's inconsistencies (and entropy when JIN scored it).
_NUM = r"\d\.\d\d"
_SCORE = (
    rf"mean accuracy {_NUM} shrunk toward the overall score; {_NUM} on its \d+ rows"
)
REASON = (
    r"^group [ab] (?:"
    rf"(?:is worst|ranks 2 \(1 = worst\)) on validation \({_SCORE}(?:; p={_NUM} of "
    r"being worst)?\)"
    r"|is not ranked \(\d validation rows, fewer than min_val_count=10\)"
    r"|\(no group ranked: no pool group has min_val_count=10 validation rows\)"
    r"); (?:"
    r"(?:targeted \(bootstrap|filled in \(bootstrap: the targeted groups could not "
    r"take the whole batch)"
    rf"|soft preference \(p={_NUM} of being worst, \+{_NUM} on rank score {_NUM}"
    rf"|no group preference \(rank score {_NUM}"
    rf"); group cap \d+(?:; auto: targeting AUC {_NUM} (?:>=|<) 0\.85)?\); "
    rf"adversarial inconsistency {_NUM}, model inconsistency {_NUM}"
    rf"(?:, entropy {_NUM})?$"
)


def sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tree_hashes(folder):
    return {
        str(p.relative_to(folder)): sha(p)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def make_table(folder, n=120, n_labelled=40, seed=0):
    """A loans table: ``n_labelled`` labelled rows (both groups, both classes)."""
    rng = np.random.RandomState(seed)
    X = rng.randn(n, 2)
    race = np.where(np.arange(n) % 3 == 0, "b", "a")
    y = np.where(X[:, 0] + 0.3 * (race == "b") > 0, "yes", "no")
    frame = pd.DataFrame(
        {
            "income": X[:, 0].round(3),
            "job": np.where(X[:, 1] > 0, "clerk", "nurse"),
            "race": race,
            "approved": y,
        }
    )
    truth = frame["approved"].copy()
    frame.loc[n_labelled:, "approved"] = ""
    path = folder / "loans.csv"
    frame.to_csv(path, index=False)
    return path, truth


def fill(to_label, truth, id_col="row", target="approved"):
    batch = pd.read_csv(to_label, dtype=str, keep_default_na=False)
    batch[target] = truth[batch[id_col].astype(int)].to_numpy()
    batch.to_csv(to_label, index=False)
    return batch[id_col].astype(int).tolist()


def labelled_rows(path):
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    return set(np.flatnonzero(frame["approved"].str.strip() != "").tolist())


@pytest.mark.slow
def test_table_loop_query_merge_fit_predict_audit(tmp_path):
    path, truth = make_table(tmp_path)
    seen = set()
    history_ids = []
    for _ in range(3):
        before = labelled_rows(path)
        res = query_batch(
            path,
            target="approved",
            sensitive="race",
            budget=10,
            net_params=NET,
            strategy_params=JIN,
        )
        assert not res.pending and not res.cold_start, res.message
        ids = [int(i) for i in res.batch["row"]]
        assert len(set(ids)) == 10
        assert not set(ids) & before, "a picked row was already labelled"
        assert not set(ids) & seen, "a picked row was in an earlier batch"
        reasons = res.batch["reason"]
        assert reasons.str.contains(REASON).all(), reasons.tolist()
        assert res.batch["approved"].eq("").all()
        seen |= set(ids)
        history_ids.append(ids)
        filled = fill(res.to_label, truth)
        assert merge_labels(path, res.to_label, target="approved").n_merged == 10
        assert labelled_rows(path) == before | set(filled)
    history = json.loads((default_state_dir(path) / "history.json").read_text())
    assert [h["ids"] for h in history] == history_ids
    assert all(h["strategy"] == "jin" and len(h["data_sha256"]) == 64 for h in history)

    model = tmp_path / "model"
    fit_model(path, target="approved", sensitive="race", save=model, net_params=NET)
    preds = predict(model, path, predictions=tmp_path / "pred.csv")
    written = pd.read_csv(tmp_path / "pred.csv")
    assert list(written.columns) == ["row", "prediction", "proba_no", "proba_yes"]
    np.testing.assert_allclose(
        written[["proba_no", "proba_yes"]].sum(axis=1), 1, atol=1e-5
    )

    report = audit(model, path, out=tmp_path / "audit", n_boot=10)
    lab = sorted(labelled_rows(path))
    frame = pd.read_csv(path)
    mf = MetricFrame(
        metrics=accuracy_score,
        y_true=frame["approved"].iloc[lab].to_numpy(),
        y_pred=preds["prediction"].iloc[lab].to_numpy(),
        sensitive_features=frame["race"].iloc[lab].to_numpy(),
    )
    got = report.by_group["standard"]
    for group, value in mf.by_group.items():
        assert got[group] == pytest.approx(value), f"group {group}"
    # the floor: the labelled majority class predicted for every labelled row
    y = frame["approved"].iloc[lab]
    majority = y.value_counts().idxmax()
    assert report["floor_accuracy"] == pytest.approx((y == majority).mean())
    worst = (y == majority).groupby(frame["race"].iloc[lab]).mean().min()
    assert report["floor_worst_group_accuracy"] == pytest.approx(worst)
    for name in ("audit.md", "audit.png", "audit.csv"):
        assert (tmp_path / "audit" / name).stat().st_size > 0
    assert "Majority-class floor" in (tmp_path / "audit" / "audit.md").read_text()


def test_cold_start_is_group_stratified_and_says_why(tmp_path):
    path, _ = make_table(tmp_path, n=90, n_labelled=6)
    res = query_batch(path, target="approved", sensitive="race", budget=9)
    assert res.cold_start
    assert "fewer than min_labels=20" in res.message
    assert res.batch["reason"].str.startswith("cold start: only 6 labelled").all()
    # 9 picks over 2 groups: as even as possible (5 and 4)
    counts = res.batch["group"].value_counts()
    assert sorted(counts.tolist()) == [4, 5]
    assert not (tmp_path / "loans.skfral" / "model").exists()
    assert res.batch["score"].isna().all()


def test_asking_again_before_merging_returns_the_pending_batch(tmp_path):
    path, _ = make_table(tmp_path, n=60, n_labelled=5)
    first = query_batch(path, target="approved", sensitive="race", budget=5)
    state = default_state_dir(path)
    hashes = tree_hashes(state)
    again = query_batch(
        path, target="approved", sensitive="race", budget=7, strategy="random"
    )
    assert again.pending and again.batch_number == first.batch_number == 1
    assert again.batch["row"].astype(int).tolist() == first.batch["row"].tolist()
    assert tree_hashes(state) == hashes, "a pending query rewrote the state folder"


# ------------------------------------------------------------------ merge
@pytest.fixture
def queried(tmp_path):
    path, truth = make_table(tmp_path, n=40, n_labelled=6)
    res = query_batch(path, target="approved", sensitive="race", budget=4)
    return path, truth, res


def write_labels(path, rows):
    pd.DataFrame(rows, columns=["row", "approved"]).to_csv(path, index=False)


BAD = {
    "unknown id": ([("999", "yes")], r"unknown id '999'"),
    "duplicate": ([("10", "yes"), ("10", "no")], r"id '10' given twice"),
    "relabel": ([("0", "__other__")], r"id '0' is already labelled"),
    "unknown class": (
        [("12", "maybe")],
        r"unknown class 'maybe' .*known classes: 'no', 'yes'",
    ),
    "no filled label": ([("12", "")], r"has no filled label"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_labels_are_refused_and_data_is_unchanged(queried, tmp_path, case):
    path, truth, _ = queried
    rows, match = BAD[case]
    if case == "relabel":  # row 0 is labelled: give it the other class
        other = "no" if truth[0] == "yes" else "yes"
        rows = [("0", other)]
        match = rf"id '0' is already labelled '{truth[0]}' in loans.csv, not '{other}'"
    labels = tmp_path / "filled.csv"
    write_labels(labels, rows)
    before = sha(path)
    with pytest.raises(ValueError, match=match):
        merge_labels(path, labels, target="approved")
    assert sha(path) == before, f"{case}: DATA changed"
    assert not path.with_name("loans.csv.bak").exists()


def test_every_bad_row_is_listed(queried, tmp_path):
    path, _, _ = queried
    labels = tmp_path / "filled.csv"
    write_labels(labels, [("998", "yes"), ("12", "maybe"), ("13", "yes"), ("13", "no")])
    before = sha(path)
    with pytest.raises(ValueError) as info:
        merge_labels(path, labels, target="approved")
    msg = str(info.value)
    assert "3 bad row(s)" in msg
    for part in ("'998'", "'maybe'", "id '13' given twice"):
        assert part in msg
    assert sha(path) == before


@pytest.mark.parametrize("content", ["", "row,approved\n"])
def test_empty_labels_file_is_refused(queried, tmp_path, content):
    path, _, _ = queried
    labels = tmp_path / "filled.csv"
    labels.write_text(content)
    before = sha(path)
    with pytest.raises(ValueError, match="is empty"):
        merge_labels(path, labels, target="approved")
    assert sha(path) == before


def test_merge_changes_only_the_filled_cells_and_keeps_a_backup(queried):
    path, truth, res = queried
    original = path.read_bytes()
    old = pd.read_csv(path, dtype=str, keep_default_na=False)
    ids = fill(res.to_label, truth)
    out = merge_labels(path, res.to_label, target="approved")
    assert out.n_merged == len(ids) and out.backup.read_bytes() == original
    new = pd.read_csv(path, dtype=str, keep_default_na=False)
    expected = old.copy()
    expected.loc[ids, "approved"] = truth[ids].to_numpy()
    pd.testing.assert_frame_equal(new, expected)
    # merging the same file again changes nothing (same values)
    again = merge_labels(path, res.to_label, target="approved")
    assert again.n_merged == 0 and again.n_unchanged == len(ids)


# ------------------------------------------------------------------ Label Studio
def test_label_studio_tasks_and_exports_merge(queried, tmp_path):
    path, truth, _ = queried
    state = default_state_dir(path)
    # a new state folder, to write tasks for the same pool
    res = query_batch(
        path,
        target="approved",
        sensitive="race",
        budget=4,
        state_dir=tmp_path / "ls",
        format="label-studio",
    )
    tasks = json.loads(res.to_label.with_suffix(".json").read_text())
    assert len(tasks) == 4 and all("data" in t for t in tasks)
    ids = [t["data"]["skfral_id"] for t in tasks]
    assert ids == res.batch["row"].tolist()
    assert all("income=" in t["data"]["text"] for t in tasks)
    config = res.to_label.with_suffix(".label_config.xml").read_text()
    assert '<Choices name="approved" toName="text"' in config
    assert '<Choice value="no"/>' in config and '<Choice value="yes"/>' in config
    # Label Studio's full JSON export: annotations with a choices result
    export = [
        {
            "id": k + 1,
            "data": t["data"],
            "annotations": [
                {
                    "was_cancelled": False,
                    "result": [
                        {
                            "from_name": "approved",
                            "to_name": "text",
                            "type": "choices",
                            "value": {"choices": [truth[t["data"]["skfral_id"]]]},
                        }
                    ],
                }
            ],
        }
        for k, t in enumerate(tasks)
    ]
    file = tmp_path / "export.json"
    file.write_text(json.dumps(export))
    assert merge_labels(path, file, target="approved").n_merged == 4
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert frame.loc[ids, "approved"].tolist() == truth[ids].tolist()
    assert state.exists()


def test_label_studio_json_min_and_csv_exports(queried, tmp_path):
    path, truth, res = queried
    ids = res.batch["row"].tolist()
    json_min = [{"skfral_id": i, "approved": truth[i], "id": 7} for i in ids[:2]]
    (tmp_path / "min.json").write_text(json.dumps(json_min))
    assert merge_labels(path, tmp_path / "min.json", target="approved").n_merged == 2
    pd.DataFrame(
        {"skfral_id": ids[2:], "approved": truth[ids[2:]].to_numpy(), "annotator": 1}
    ).to_csv(tmp_path / "export.csv", index=False)
    assert merge_labels(path, tmp_path / "export.csv", target="approved").n_merged == 2


def test_label_studio_disagreeing_annotators_are_refused(queried, tmp_path):
    path, _, res = queried
    rid = int(res.batch["row"].iloc[0])

    def ann(label):
        return {
            "result": [
                {
                    "type": "choices",
                    "from_name": "approved",
                    "value": {"choices": [label]},
                }
            ]
        }

    export = [{"data": {"skfral_id": rid}, "annotations": [ann("yes"), ann("no")]}]
    (tmp_path / "e.json").write_text(json.dumps(export))
    before = sha(path)
    with pytest.raises(ValueError, match="annotators disagree"):
        merge_labels(path, tmp_path / "e.json", target="approved")
    assert sha(path) == before


# ------------------------------------------------------------------ interrupts
def test_interrupted_query_leaves_data_and_state_unchanged(tmp_path, monkeypatch):
    import skfral.experiment._labelling as labelling

    path, truth = make_table(tmp_path, n=60, n_labelled=24)
    first = query_batch(path, target="approved", sensitive="race", budget=4)
    fill(first.to_label, truth)
    merge_labels(path, first.to_label, target="approved")
    state = default_state_dir(path)
    data_hash, state_hashes = sha(path), tree_hashes(state)

    def boom(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(labelling, "save_model", boom)
    with pytest.raises(KeyboardInterrupt):
        query_batch(
            path,
            target="approved",
            sensitive="race",
            budget=4,
            strategy="entropy",
            net_params=NET,
        )
    assert sha(path) == data_hash
    assert tree_hashes(state) == state_hashes
    assert not list(state.glob(".skfral-staging-*"))


def test_interrupted_merge_leaves_data_unchanged(queried, monkeypatch):
    import skfral.experiment._label_data as label_data

    path, truth, res = queried
    fill(res.to_label, truth)
    before = sha(path)
    real = label_data.os.replace
    calls = []

    def replace(src, dst):  # the backup is renamed, then Ctrl-C before DATA
        calls.append(dst)
        if str(dst) == str(path):
            raise KeyboardInterrupt
        return real(src, dst)

    monkeypatch.setattr(label_data.os, "replace", replace)
    with pytest.raises(KeyboardInterrupt):
        merge_labels(path, res.to_label, target="approved", backup=False)
    assert sha(path) == before and calls


def test_interrupted_fit_keeps_the_old_model(tmp_path, monkeypatch):
    import skfral.nn._model_file as model_file

    path, _ = make_table(tmp_path, n=60, n_labelled=30)
    model = tmp_path / "model"
    fit_model(path, target="approved", sensitive="race", save=model, net_params=NET)
    before = tree_hashes(model)

    def boom(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(model_file, "save_checkpoint", boom)
    with pytest.raises(KeyboardInterrupt):
        fit_model(path, target="approved", sensitive="race", save=model, net_params=NET)
    assert tree_hashes(model) == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


# ------------------------------------------------------------------ command line
def test_cli_loop_and_exit_codes(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path, truth = make_table(tmp_path, n=60, n_labelled=6)
    args = ["loans.csv", "--target", "approved", "--sensitive", "race"]
    assert main(["query", *args, "--budget", "4"]) == 0
    out = capsys.readouterr().out
    assert "cold start" in out and "to label: loans.skfral/to_label.csv" in out
    to_label = tmp_path / "loans.skfral" / "to_label.csv"
    # a bad file: exit 2, one error line, DATA unchanged
    bad = tmp_path / "bad.csv"
    write_labels(bad, [("777", "yes")])
    before = sha(path)
    assert main(["merge", "loans.csv", "--labels", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("skfral: error:") and "unknown id '777'" in err
    assert sha(path) == before
    fill(to_label, truth)
    assert main(["merge", "loans.csv", "--labels", str(to_label)]) == 0
    assert "merged 4 label(s)" in capsys.readouterr().out
    assert main(["fit", *args, "--save", "model", "--epochs", "1"]) == 0
    assert main(["predict", "model", "loans.csv", "--predictions", "p.csv"]) == 0
    assert len(pd.read_csv(tmp_path / "p.csv")) == 60
    assert main(["audit", "model", "loans.csv", "--out", "audit", "--n-boot", "5"]) == 0
    out = capsys.readouterr().out
    assert "floor_worst_group_accuracy" in out
    assert (tmp_path / "audit" / "audit.png").is_file()


def test_cli_interrupt_exits_130(tmp_path, capsys, monkeypatch):
    import skfral.experiment._labelling as labelling

    monkeypatch.chdir(tmp_path)
    make_table(tmp_path, n=30, n_labelled=4)

    def boom(*args, **kwargs):
        raise KeyboardInterrupt

    # the command imports query_batch from its module when it runs
    monkeypatch.setattr(labelling, "query_batch", boom)
    rc = main(["query", "loans.csv", "--target", "approved", "--sensitive", "race"])
    assert rc == 130
    assert "no file was changed" in capsys.readouterr().err


def test_predict_on_new_rows_without_the_target_column(tmp_path):
    path, _ = make_table(tmp_path, n=60, n_labelled=30)
    model = tmp_path / "model"
    est = fit_model(
        path, target="approved", sensitive="race", save=model, net_params=NET
    )
    new = pd.read_csv(path).drop(columns=["approved"]).iloc[:7]
    new.to_csv(tmp_path / "new.csv", index=False)
    out = predict(model, tmp_path / "new.csv")
    expected = est.predict_proba(new.drop(columns=["race"]))
    np.testing.assert_allclose(out[["proba_no", "proba_yes"]].to_numpy(), expected)
    assert out["row"].tolist() == list(range(7))


@pytest.mark.slow
@pytest.mark.parametrize("signame", ["SIGTERM", "SIGINT"])
def test_signal_during_fit_leaves_files_unchanged(tmp_path, signame):
    """skorch ends training early on Ctrl-C; skfral fit must stop without saving."""
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    path, _ = make_table(tmp_path, n=3000, n_labelled=3000)
    before = sha(path)
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root), "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "skfral",
            "fit",
            str(path),
            "--target",
            "approved",
            "--sensitive",
            "race",
            "--save",
            str(tmp_path / "model"),
            "--epochs",
            "500",
        ],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(15)  # imports (slow on a loaded machine), then training
    assert proc.poll() is None, "fit ended before the signal: make it longer"
    proc.send_signal(getattr(signal, signame))
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "no file was changed" in err
    assert sha(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["loans.csv"]


def test_to_label_elsewhere_and_a_second_state_folder(tmp_path):
    path, _ = make_table(tmp_path, n=40, n_labelled=6)
    out = tmp_path / "team" / "batch.csv"
    res = query_batch(
        path,
        target="approved",
        sensitive="race",
        budget=3,
        state_dir=tmp_path / "s",
        to_label=out,
    )
    assert res.to_label == out and len(pd.read_csv(out)) == 3
    assert sorted(p.name for p in out.parent.iterdir()) == ["batch.csv"]
    history = json.loads((tmp_path / "s" / "history.json").read_text())
    assert history[-1]["to_label"] == str(out)
    assert not default_state_dir(path).exists()


@pytest.mark.parametrize("fmt", ["tsv", "parquet"])
@pytest.mark.parametrize("numeric", [False, True])
def test_merge_into_tsv_and_parquet(tmp_path, fmt, numeric):
    rng = np.random.RandomState(1)
    frame = pd.DataFrame(
        {
            "income": rng.randn(20).round(2),
            "race": ["a", "b"] * 10,
            "approved": ([1, 0] if numeric else ["yes", "no"]) * 10,
        }
    )
    truth = frame["approved"].copy()
    frame["approved"] = frame["approved"].astype(object)
    frame.loc[6:, "approved"] = None
    path = tmp_path / f"loans.{fmt}"
    if fmt == "parquet":
        if numeric:
            frame["approved"] = frame["approved"].astype(float)
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, sep="\t", index=False)
    res = query_batch(path, target="approved", sensitive="race", budget=4)
    ids = fill(res.to_label, truth.astype(str))
    merge_labels(path, res.to_label, target="approved")
    back = pd.read_parquet(path) if fmt == "parquet" else pd.read_csv(path, sep="\t")
    got = back.loc[ids, "approved"]
    if numeric:
        assert got.astype(int).tolist() == truth[ids].tolist()
        assert pd.api.types.is_numeric_dtype(back["approved"])
    else:
        assert got.tolist() == truth[ids].tolist()
    assert back["approved"].notna().sum() == 6 + 4
    pd.testing.assert_series_equal(back["income"], frame["income"])


def test_a_signal_during_the_renames_is_held_until_all_are_done(tmp_path, monkeypatch):
    import os
    import signal

    import skfral.experiment._label_data as label_data

    staging = label_data.stage_dir(tmp_path)
    for name in ("a.txt", "b.txt"):
        (staging / name).write_text("new " + name)
        (tmp_path / name).write_text("old " + name)
    real = os.replace
    calls = []

    def replace(src, dst):
        calls.append(dst)
        if len(calls) == 1:
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C between the two renames
        return real(src, dst)

    monkeypatch.setattr(label_data.os, "replace", replace)
    with pytest.raises(KeyboardInterrupt):
        label_data.commit(
            [
                (staging / "a.txt", tmp_path / "a.txt"),
                (staging / "b.txt", tmp_path / "b.txt"),
            ],
            staging,
        )
    assert len(calls) == 2
    assert (tmp_path / "a.txt").read_text() == "new a.txt"
    assert (tmp_path / "b.txt").read_text() == "new b.txt"
    assert not staging.exists()
