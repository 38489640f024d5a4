"""The ``skfral`` command line: ``run``, ``report`` and ``demo``.

Examples::

    skfral run --datasets adult --strategies jin,random,entropy --seeds 5 \\
        --rounds 10 --budget 50 --initial-size 100 --out results/ --n-jobs 2
    skfral run --config experiment.toml
    skfral run --data loans.csv --target approved --sensitive race --dry-run
    skfral run --image-folder UTKFace/ --layout utkface --target gender \\
        --sensitive race --image-size 64 --out faces/
    skfral report results/
    skfral demo            # Adult, JIN against 4 baselines, 3 seeds, < 5 min on 2 cores

Bad input exits with status 2 and one line ``skfral: error: <message>`` on
stderr; success exits with 0; Ctrl-C exits with 130 after
``skfral: interrupted; rerun the same command to resume``.
"""

import argparse
import sys
import time
from pathlib import Path

from .._version import __version__

__all__ = ["main", "CONFIG_KEYS", "DEMO_SETTINGS", "config_to_kwargs"]

# Keys of a --config TOML file; each mirrors the flag of the same name
# (``initial_size`` is ``--initial-size``). ``estimator_params`` is a table of
# final-net parameters; ``strategies`` may be a table label -> name or
# label -> {strategy = "jin", <parameters>}. ``data`` is a table (path, target,
# sensitive, categorical, drop, name) for a CSV or Parquet file, ``image_folder``
# one (path, layout, target, sensitive, image_size, name) for a face folder.
CONFIG_KEYS = (
    "datasets",
    "data",
    "image_folder",
    "strategies",
    "seeds",
    "rounds",
    "budget",
    "initial_size",
    "val_size",
    "test_size",
    "pool_size",
    "max_epochs",
    "lr",
    "batch_size",
    "attack_eps",
    "attack_steps",
    "eval_steps",
    "warm_start",
    "estimator_params",
    "torch_threads",
    "out",
    "n_jobs",
    "quiet",
    "overwrite",
)
_DEFAULTS = {
    "strategies": "jin,random,entropy,worst_group",
    "seeds": 3,
    "rounds": 5,
    "budget": 20,
    "initial_size": 50,
    "val_size": 0.15,
    "test_size": 0.2,
    "n_jobs": 1,
    "quiet": False,
    "overwrite": False,
    "warm_start": False,
}

# The embedded main job (`skfral demo`, `make demo`): bundled Adult (groups by
# sex), JIN against random, entropy, worst-group entropy and FAL, 3 seeds.
# The pool, validation and test sets are subsamples so that the whole job
# takes at most 5 minutes on 2 cores (measured about 2.3 minutes on 2 shared
# cores, load average ~5).
DEMO_SETTINGS = {
    "datasets": ["adult"],
    "strategies": ["jin", "random", "entropy", "worst_group", "fal"],
    "strategy_params": {"fal": {"n_candidates": 8, "refit_epochs": 1}},
    "seeds": 3,
    "n_rounds": 5,
    "budget": 40,
    "initial_size": 60,
    "val_size": 500,
    "test_size": 1500,
    "pool_size": 2000,
    "estimator_params": {"max_epochs": 30},
    "n_jobs": 2,
}


# ---------------------------------------------------------------- parsing
def _number(text, name):
    """An int or float from a string ("50" -> 50, "0.05" -> 0.05)."""
    if isinstance(text, int | float) and not isinstance(text, bool):
        return text
    try:
        return int(text)
    except (TypeError, ValueError):
        pass
    try:
        return float(text)
    except (TypeError, ValueError):
        raise ValueError(f"{name}={text!r} is not a number.") from None


def _seeds(value):
    if isinstance(value, str):
        parts = [p.strip() for p in value.split(",") if p.strip()]
        try:
            numbers = [int(p) for p in parts]
        except ValueError:
            raise ValueError(
                f"seeds={value!r} is invalid: expected a number of seeds (e.g. 5) or a "
                "comma-separated list of seeds (e.g. 0,3,7)."
            ) from None
        if len(parts) == 1 and "," not in value:
            return numbers[0]
        return numbers
    return value


def _strategies(value):
    """Config/flag strategies -> run_fral's argument."""
    if isinstance(value, dict):
        out = {}
        for label, spec in value.items():
            if isinstance(spec, str):
                out[label] = spec
            elif isinstance(spec, dict):
                spec = dict(spec)
                short = spec.pop("strategy", label)
                out[label] = (short, spec)
            else:
                raise TypeError(
                    f"strategies.{label} = {spec!r}: expected a strategy name or a "
                    "table "
                    '{strategy = "jin", <parameters>}.'
                )
        return out
    return value


def read_config(path):
    """Read a TOML config file; unknown keys -> ValueError naming them."""
    import tomllib

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"config file {str(path)!r} does not exist.")
    with path.open("rb") as fh:
        try:
            config = tomllib.load(fh)
        except tomllib.TOMLDecodeError as exc:
            raise ValueError(
                f"config file {str(path)!r} is not valid TOML: {exc}"
            ) from None
    config = {k.replace("-", "_"): v for k, v in config.items()}
    unknown = [k for k in config if k not in CONFIG_KEYS]
    if unknown:
        raise ValueError(
            f"unknown key {unknown[0]!r} in config file {str(path)!r}: expected some "
            "of "
            f"{', '.join(CONFIG_KEYS)}."
        )
    return config


def config_to_kwargs(config, *, infos=None):
    """Turn config keys (flags' names) into :func:`run_fral` keyword arguments.

    ``data`` and ``image_folder`` tables are read here (the user's data set
    is labelled with the file's name unless the table sets ``name``); what
    was inferred from them goes into the dict ``infos`` when one is given.
    """
    unknown = [k for k in config if k not in CONFIG_KEYS]
    if unknown:
        raise ValueError(
            f"unknown key {unknown[0]!r}: expected some of {', '.join(CONFIG_KEYS)}."
        )
    cfg = {**_DEFAULTS, **{k: v for k, v in config.items() if v is not None}}
    if not any(k in cfg for k in ("datasets", "data", "image_folder")):
        raise ValueError(
            "no data set given: pass --datasets (e.g. --datasets adult,german), "
            "--data FILE.csv --target COLUMN --sensitive COLUMN, or --image-folder "
            "(or datasets = [...], [data] or [image_folder] in the config file)."
        )
    for key in ("quiet", "overwrite", "warm_start"):
        if not isinstance(cfg[key], bool):
            raise TypeError(
                f"{key}={cfg[key]!r} has type {type(cfg[key]).__name__}: expected "
                "true or false."
            )
    est_params = cfg.get("estimator_params") or {}
    if not isinstance(est_params, dict):
        raise TypeError(
            f"estimator_params={est_params!r} has type {type(est_params).__name__}: "
            "expected a table of the net's parameters, e.g. "
            "[estimator_params] max_epochs = 10."
        )
    net = dict(est_params)
    for key in ("max_epochs", "lr", "batch_size"):
        if cfg.get(key) is not None:
            net[key] = cfg[key]
    attack = {}
    if cfg.get("attack_eps") is not None:
        attack["eps"] = _number(cfg["attack_eps"], "attack_eps")
    if cfg.get("attack_steps") is not None:
        attack["n_steps"] = cfg["attack_steps"]
    datasets = cfg.get("datasets")
    if "data" in cfg or "image_folder" in cfg:
        from ._settings import _split_names
        from ._userdata import load_user_data

        own, found = load_user_data(cfg)
        if infos is not None:
            infos.update(found)
        names = {} if datasets is None else {n: n for n in _split_names(datasets)}
        clash = sorted(set(names) & set(own))
        if clash:
            raise ValueError(
                f"data set name {clash[0]!r} is both a bundled data set and your "
                "data: set name = ... in the [data] or [image_folder] table."
            )
        datasets = {**names, **own}
    kwargs = {
        "datasets": datasets,
        "strategies": _strategies(cfg["strategies"]),
        "seeds": _seeds(cfg["seeds"]),
        "n_rounds": cfg["rounds"],
        "budget": cfg["budget"],
        "initial_size": _number(cfg["initial_size"], "initial_size"),
        "val_size": _number(cfg["val_size"], "val_size"),
        "test_size": _number(cfg["test_size"], "test_size"),
        "pool_size": cfg.get("pool_size"),
        "estimator_params": net or None,
        "attack": attack or None,
        "eval_attack": cfg.get("eval_steps"),
        "warm_start": cfg["warm_start"],
        "out_dir": cfg.get("out"),
        "overwrite": cfg["overwrite"],
        "n_jobs": cfg["n_jobs"],
        "torch_threads": cfg.get("torch_threads"),
        "progress": not cfg["quiet"],
    }
    return kwargs


def _parser():
    parser = argparse.ArgumentParser(
        prog="skfral",
        description="Fair Robust Active Learning experiments: JIN against baselines.",
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {__version__}"
    )
    sub = parser.add_subparsers(dest="command", metavar="{run,report,demo}")
    sub.required = True

    run = sub.add_parser(
        "run",
        help="run data sets x strategies x seeds and write the results table",
        description="Run FRAL rounds for data sets x strategies x seeds. Flags "
        "override the keys of --config (same names with underscores).",
    )
    run.add_argument("--config", help="TOML file whose keys mirror these flags")
    run.add_argument(
        "--datasets",
        help="comma-separated: synthetic, adult, adult_race, "
        "german, german_age, digits",
    )
    own = run.add_argument_group(
        "your own data",
        "a CSV/Parquet table (--data) or a face-image folder (--image-folder); "
        "also [data] / [image_folder] tables in --config",
    )
    own.add_argument("--data", metavar="PATH", help="a CSV or Parquet file")
    own.add_argument("--image-folder", metavar="PATH", help="a folder of face images")
    own.add_argument("--target", metavar="COLUMN", help="the label column/attribute")
    own.add_argument(
        "--sensitive",
        metavar="COLUMN",
        action="append",
        help="a group column/attribute; repeat for intersectional groups",
    )
    own.add_argument(
        "--categorical",
        metavar="COL,COL",
        help="numeric columns to treat as categories (object, category and bool "
        "columns are categorical anyway)",
    )
    own.add_argument("--drop", metavar="COL,COL", help="columns to leave out")
    own.add_argument(
        "--layout",
        choices=["utkface", "celeba", "fairface"],
        help="image folder layout",
    )
    own.add_argument(
        "--image-size",
        type=int,
        metavar="N",
        help="images resized to N x N (default 64)",
    )
    run.add_argument(
        "--dry-run",
        action="store_true",
        help="print what was inferred (columns, groups, classes, split sizes) and exit",
    )
    run.add_argument(
        "--strategies",
        help=f"comma-separated short names (default: {_DEFAULTS['strategies']})",
    )
    run.add_argument(
        "--seeds",
        help="number of seeds (0..k-1) or a comma-separated list "
        f"(default: {_DEFAULTS['seeds']})",
    )
    run.add_argument(
        "--rounds",
        type=int,
        help=f"query rounds after round 0 (default: {_DEFAULTS['rounds']})",
    )
    run.add_argument(
        "--budget",
        type=int,
        help=f"labels queried per round (default: {_DEFAULTS['budget']})",
    )
    run.add_argument(
        "--initial-size",
        help="initial labelled set: count or fraction "
        f"(default: {_DEFAULTS['initial_size']})",
    )
    run.add_argument(
        "--val-size", help="validation set: count or fraction (default 0.15)"
    )
    run.add_argument("--test-size", help="test set: count or fraction (default 0.2)")
    run.add_argument(
        "--pool-size", type=int, help="subsample the pool to this many samples"
    )
    run.add_argument("--max-epochs", type=int, help="training epochs of the net")
    run.add_argument("--lr", type=float, help="learning rate of the net")
    run.add_argument("--batch-size", type=int, help="batch size of the net")
    run.add_argument("--attack-eps", type=float, help="training attack radius")
    run.add_argument("--attack-steps", type=int, help="training PGD steps")
    run.add_argument(
        "--eval-steps",
        type=int,
        help="evaluation PGD steps (default: max(20, training steps))",
    )
    run.add_argument(
        "--warm-start",
        action="store_true",
        default=None,
        help="continue training the previous round's net",
    )
    run.add_argument(
        "--torch-threads",
        type=int,
        help="torch threads per cell (default: cores // parallel cells; pass 1 on "
        "a machine shared with other jobs)",
    )
    run.add_argument("--out", help="folder for results, resume and the report")
    run.add_argument("--n-jobs", type=int, help="cells run in parallel (default 1)")
    run.add_argument(
        "--quiet", action="store_true", default=None, help="no progress bars"
    )
    run.add_argument(
        "--overwrite",
        action="store_true",
        default=None,
        help="replace results of a different configuration in --out",
    )

    report = sub.add_parser(
        "report",
        help="summary table (Markdown, CSV) and learning curves of a run folder",
    )
    report.add_argument("results", help="a run folder (written by skfral run --out)")
    report.add_argument(
        "--out", help="where to write the report (default: the run folder)"
    )
    report.add_argument("--quiet", action="store_true", help="do not print the table")

    demo = sub.add_parser(
        "demo",
        help="Adult: JIN vs random, entropy, worst_group and FAL, 3 seeds "
        "(< 5 min on 2 cores)",
    )
    demo.add_argument(
        "--out", default="skfral_demo", help="output folder (default: skfral_demo/)"
    )
    demo.add_argument(
        "--n-jobs",
        type=int,
        default=DEMO_SETTINGS["n_jobs"],
        help=f"parallel cells (default {DEMO_SETTINGS['n_jobs']})",
    )
    demo.add_argument("--quiet", action="store_true", help="no progress bars")
    demo.add_argument(
        "--overwrite",
        action="store_true",
        help="replace results of a different configuration in --out",
    )
    return parser


# --------------------------------------------------------------- commands
def _print(text, quiet=False):
    if not quiet:
        print(text, flush=True)


def _cmd_run(args):
    from ._runner import run_fral
    from ._summary import summarize, summary_markdown, write_report

    config = read_config(args.config) if args.config else {}
    flags = {
        "datasets": args.datasets,
        "strategies": args.strategies,
        "seeds": args.seeds,
        "rounds": args.rounds,
        "budget": args.budget,
        "initial_size": args.initial_size,
        "val_size": args.val_size,
        "test_size": args.test_size,
        "pool_size": args.pool_size,
        "max_epochs": args.max_epochs,
        "lr": args.lr,
        "batch_size": args.batch_size,
        "attack_eps": args.attack_eps,
        "attack_steps": args.attack_steps,
        "eval_steps": args.eval_steps,
        "warm_start": args.warm_start,
        "torch_threads": args.torch_threads,
        "out": args.out,
        "n_jobs": args.n_jobs,
        "quiet": args.quiet,
        "overwrite": args.overwrite,
    }
    config.update({k: v for k, v in flags.items() if v is not None})
    _own_data_flags(args, config)
    infos = {}
    kwargs = config_to_kwargs(config, infos=infos)
    quiet = not kwargs["progress"]
    if args.dry_run:
        return _dry_run(kwargs, infos)
    start = time.perf_counter()
    df = run_fral(**kwargs)
    elapsed = time.perf_counter() - start
    if kwargs["out_dir"] is not None:
        _, text, files = write_report(df, kwargs["out_dir"])
        _print(text, quiet)
        _print(
            f"Wrote results.csv, {', '.join(f.name for f in files)} to "
            f"{kwargs['out_dir']} ({elapsed:.0f} s).",
            quiet,
        )
    else:
        _print(summary_markdown(summarize(df)), quiet)
        _print(f"Done in {elapsed:.0f} s (pass --out to keep the results).", quiet)
    return 0


def _own_data_flags(args, config):
    """``--data`` / ``--image-folder`` and their column flags into config tables."""
    table = {
        "path": args.data,
        "target": args.target,
        "sensitive": args.sensitive,
        "categorical": args.categorical,
        "drop": args.drop,
    }
    images = {
        "path": args.image_folder,
        "target": args.target,
        "sensitive": args.sensitive,
        "layout": args.layout,
        "image_size": args.image_size,
    }
    wanted = [k for k in ("data", "image_folder") if config.get(k) is not None]
    wanted += [
        k
        for k, flag in (("data", args.data), ("image_folder", args.image_folder))
        if flag is not None and k not in wanted
    ]
    if len(wanted) > 1 and (args.target or args.sensitive):
        raise ValueError(
            "--target/--sensitive apply to one data source, but both --data and "
            "--image-folder are given: put each in its [data] / [image_folder] table "
            "of a config file."
        )
    for key, given in (("data", table), ("image_folder", images)):
        given = {k: v for k, v in given.items() if v is not None}
        if key in wanted:
            spec = config.get(key) or {}
            if not isinstance(spec, dict):
                raise TypeError(
                    f"{key}={spec!r} has type {type(spec).__name__}: expected a table "
                    f"[{key}] with path, target and sensitive."
                )
            config[key] = {**spec, **given}
    if not wanted:
        stray = [
            f"--{name.replace('_', '-')}"
            for name in (
                "target",
                "sensitive",
                "categorical",
                "drop",
                "layout",
                "image_size",
            )
            if getattr(args, name) is not None
        ]
        if stray:
            raise ValueError(
                f"{stray[0]} needs --data (a CSV or Parquet file) or --image-folder."
            )


def _dry_run(kwargs, infos):
    from ._registry import load_dataset
    from ._settings import check_strategies
    from ._userdata import describe

    check_strategies(kwargs["strategies"])
    datasets = kwargs["datasets"]
    if not isinstance(datasets, dict):
        from ._settings import _split_names

        datasets = {n: n for n in _split_names(datasets)}
    blocks = []
    for label, value in datasets.items():
        info = {}
        if isinstance(value, str):
            X, y, s = load_dataset(value)
            info = {"format": f"bundled data set {value!r}"}
        else:
            X, y, s = value
        blocks.append(describe(label, X, y, s, infos.get(label, info), kwargs))
    print("\n".join(blocks), flush=True)
    print("skfral run --dry-run: nothing was trained or written.", flush=True)
    return 0


def _cmd_report(args):
    from ._store import load_results
    from ._summary import write_report

    load_results(args.results)  # a clear error for a folder that is not a run
    out = args.out or args.results
    # The folder itself: its manifest gives the expected rounds and cells, so a
    # partial folder's report also names the cells not started yet.
    _, text, files = write_report(args.results, out)
    _print(text, args.quiet)
    _print(f"Wrote {', '.join(f.name for f in files)} to {out}.", args.quiet)
    return 0


def demo_kwargs(out_dir="skfral_demo", *, n_jobs=None, progress=True, overwrite=False):
    """The :func:`run_fral` arguments of ``skfral demo``."""
    s = DEMO_SETTINGS
    strategies = {
        name: (name, dict(s["strategy_params"].get(name, {})))
        for name in s["strategies"]
    }
    return {
        "datasets": list(s["datasets"]),
        "strategies": strategies,
        "seeds": s["seeds"],
        "n_rounds": s["n_rounds"],
        "budget": s["budget"],
        "initial_size": s["initial_size"],
        "val_size": s["val_size"],
        "test_size": s["test_size"],
        "pool_size": s["pool_size"],
        "estimator_params": dict(s["estimator_params"]),
        "out_dir": out_dir,
        "overwrite": overwrite,
        "n_jobs": s["n_jobs"] if n_jobs is None else n_jobs,
        "progress": progress,
    }


def _cmd_demo(args):
    from ._runner import run_fral
    from ._summary import write_report

    kwargs = demo_kwargs(
        args.out, n_jobs=args.n_jobs, progress=not args.quiet, overwrite=args.overwrite
    )
    s = DEMO_SETTINGS
    print(
        f"skfral demo: Adult (groups by sex), {', '.join(s['strategies'])}; "
        f"{s['seeds']} seeds, {s['n_rounds']} rounds of {s['budget']} labels after "
        f"{s['initial_size']} initial ones; pool {s['pool_size']}, validation "
        f"{s['val_size']}, test {s['test_size']}; PGD-10 training, PGD-20 evaluation; "
        f"{kwargs['n_jobs']} parallel jobs. Output: {args.out}/",
        flush=True,
    )
    start = time.perf_counter()
    df = run_fral(**kwargs)
    elapsed = time.perf_counter() - start
    _, text, files = write_report(df, args.out)
    print(text, flush=True)
    print(
        f"Done in {elapsed:.0f} s. Wrote results.csv, "
        f"{', '.join(f.name for f in files)} "
        f"to {args.out}/",
        flush=True,
    )
    return 0


def main(argv=None):
    """Entry point of ``skfral`` and ``python -m skfral``; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    commands = {"run": _cmd_run, "report": _cmd_report, "demo": _cmd_demo}
    try:
        return commands[args.command](args)
    except (ValueError, TypeError, FileNotFoundError) as exc:
        message = " ".join(str(exc).split())
        print(f"skfral: error: {message}", file=sys.stderr, flush=True)
        return 2
    except KeyboardInterrupt:
        resumable = getattr(args, "out", None) is not None or args.command == "demo"
        hint = (
            "rerun the same command to resume"
            if resumable or getattr(args, "config", None)
            else "pass --out to make a run resumable"
        )
        print(f"skfral: interrupted; {hint}", file=sys.stderr, flush=True)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
