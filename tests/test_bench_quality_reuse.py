"""bench_quality's --reuse (copy finished cells of another run, renamed) and --seed-from."""

import argparse
import json

import pandas as pd
import pytest

from benchmarks import bench_quality as bq


def _args(tmp_path, reuse, **kw):
    args = dict(
        suite="quality",
        datasets="german",
        strategies=None,
        seeds=2,
        seed_from=0,
        rounds=2,
        budget=20,
        initial_size=40,
        eval_attack="pgd",
        out=str(tmp_path / "out"),
        reuse=bq._parse_reuse(reuse),
        quiet=True,
    )
    args.update(kw)
    return argparse.Namespace(**args)


def _source_cell(root, dataset="german", seed=1, name="jin_auto_default", **config):
    """A finished cell as run_fral writes it (manifest, results, round records)."""
    cell = root / dataset / f"seed_{seed}" / name
    records = cell / "cells" / dataset / name / f"seed_{seed}"
    records.mkdir(parents=True)
    base = dict(
        datasets={dataset: dataset},
        strategies={name: ["jin", {"group_allocation": "auto"}]},
        seeds=[seed],
        n_rounds=2,
        budget=20,
        initial_size=40,
        estimator="default",
        estimator_params={},
        eval_attack=None,
        warm_start=False,
        **bq.SIZES[dataset],
    )
    base.update(config)
    (cell / "manifest.json").write_text(
        json.dumps({"format": 1, "skfral_version": "0.0", "config": base})
    )
    rows = [
        {"dataset": dataset, "strategy": name, "seed": seed, "round": r, "x": r / 10}
        for r in range(3)
    ]
    pd.DataFrame(rows).to_csv(cell / "results.csv", index=False)
    for row in rows:
        record = records / f"round_{row['round']:03d}.json"
        record.write_text(json.dumps({"round": row["round"], "row": row}))
    return cell


def test_reuse_copies_a_matching_cell_under_the_new_name(tmp_path):
    source = _source_cell(tmp_path / "src")
    args = _args(tmp_path, [f"{tmp_path / 'src'}:jin_auto_default=jin"])
    target = bq._out_dir(args, "german", "pgd", 1, "jin")
    assert bq._reuse_cell(args, "german", 1, "jin", target)
    results = pd.read_csv(target / "results.csv")
    assert results["strategy"].tolist() == ["jin"] * 3
    assert results["x"].tolist() == [0.0, 0.1, 0.2]  # values untouched
    records = sorted((target / "cells" / "german" / "jin" / "seed_1").glob("*.json"))
    assert [json.loads(r.read_text())["row"]["strategy"] for r in records] == [
        "jin"
    ] * 3
    manifest = json.loads((target / "manifest.json").read_text())
    # the parameters the source ran with, under the new name
    assert manifest["config"]["strategies"] == {
        "jin": ["jin", {"group_allocation": "auto"}]
    }
    mark = json.loads((target / bq.REUSE_MARK).read_text())
    assert mark["source"] == str(source) and mark["source_name"] == "jin_auto_default"
    # the source is left as it was
    assert pd.read_csv(source / "results.csv")["strategy"].eq("jin_auto_default").all()
    assert not list(target.parent.glob(".*.reuse"))  # no staging folder left


@pytest.mark.parametrize(
    "config",
    [
        {"budget": 10},  # another setting
        {"n_rounds": 3},
        {"estimator": "custom"},
        {"val_size": 0.2},
    ],
)
def test_reuse_refuses_another_setting(tmp_path, config):
    _source_cell(tmp_path / "src", **config)
    args = _args(tmp_path, [f"{tmp_path / 'src'}:jin_auto_default=jin"])
    target = bq._out_dir(args, "german", "pgd", 1, "jin")
    assert not bq._reuse_cell(args, "german", 1, "jin", target)
    assert not target.exists()


def test_reuse_needs_every_round_and_the_mapping(tmp_path):
    cell = _source_cell(tmp_path / "src")
    args = _args(tmp_path, [f"{tmp_path / 'src'}:jin_auto_default=jin"])
    target = bq._out_dir(args, "german", "pgd", 1, "jin")
    # a name the mapping does not list is never reused
    assert not bq._reuse_cell(args, "german", 1, "entropy", target)
    # an unfinished cell (round 2 missing) is not reused
    results = pd.read_csv(cell / "results.csv")
    results[results["round"] < 2].to_csv(cell / "results.csv", index=False)
    assert not bq._reuse_cell(args, "german", 1, "jin", target)
    # nor under another evaluation attack
    args = _args(
        tmp_path, [f"{tmp_path / 'src'}:jin_auto_default=jin"], eval_attack="apgd-ce"
    )
    assert not bq._reuse_cell(args, "german", 1, "jin", target)


@pytest.mark.parametrize("value", ["no-colon", "dir:", "dir:a", "dir:a=b,c"])
def test_reuse_option_is_checked(value):
    with pytest.raises(SystemExit, match="--reuse"):
        bq._parse_reuse([value])


def test_seed_from_takes_only_the_later_seeds(tmp_path):
    args = _args(tmp_path, None, seeds=4, seed_from=2, strategies="random,entropy")
    seeds = {seed for _, seed, _, _ in bq._tasks(args)}
    assert seeds == {2, 3}
