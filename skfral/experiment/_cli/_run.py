"""``skfral run``, ``skfral report`` and ``skfral demo``: simulated FRAL rounds.

Each command module of the command line exposes ``add_parsers(sub)``, which adds
its sub-commands to the ``skfral`` parser and binds each to the function that
runs it (``parser.set_defaults(command_func=...)``).
"""

import sys
import time

from ._config import (
    _DEFAULTS,
    DEMO_SETTINGS,
    config_to_kwargs,
    demo_kwargs,
    read_config,
)

__all__ = ["add_parsers"]


def add_parsers(sub):
    """Add ``run``, ``report`` and ``demo`` to the sub-parsers ``sub``."""

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
    run.add_argument(
        "--min-group-size",
        type=int,
        metavar="N",
        help="merge the groups with fewer than N rows (in the whole data set) into "
        "one group, merged_small_groups",
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
        "--quiet",
        action="store_true",
        default=None,
        help="no progress bars (the final table is still printed)",
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
    demo.add_argument(
        "--quiet",
        action="store_true",
        help="no progress bars (the final table is still printed)",
    )
    demo.add_argument(
        "--overwrite",
        action="store_true",
        help="replace results of a different configuration in --out",
    )
    run.set_defaults(command_func=_cmd_run)
    report.set_defaults(command_func=_cmd_report)
    demo.set_defaults(command_func=_cmd_demo)


# --------------------------------------------------------------- commands
def _print(text, quiet=False):
    if not quiet:
        print(text, flush=True)


def _cmd_run(args):
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
        "min_group_size": args.min_group_size,
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
    from .._cpu_defaults import apply_image_cpu_defaults, cache_image_data

    note = apply_image_cpu_defaults(config, kwargs)  # stated, never silent
    if note:
        print(note, file=sys.stderr, flush=True)
    if args.dry_run:
        return _dry_run(kwargs, infos)
    cache_image_data(kwargs)  # each image decoded once, not once per pass
    from .._runner import run_fral  # after the settings are checked: torch loads here
    from .._settings import merged_message
    from .._summary import summarize, summary_markdown, write_report

    start = time.perf_counter()
    df = run_fral(**kwargs)
    elapsed = time.perf_counter() - start
    for label, merged in df.attrs.get("merged_groups", {}).items():
        print(merged_message(label, merged, kwargs["min_group_size"]), flush=True)
    # --quiet hides the progress bars only: the final table is always printed
    if kwargs["out_dir"] is not None:
        _, text, files = write_report(df, kwargs["out_dir"])
        _print(text)
        _print(
            f"Wrote results.csv, {', '.join(f.name for f in files)} to "
            f"{kwargs['out_dir']} ({elapsed:.0f} s)."
        )
    else:
        _print(summary_markdown(summarize(df)))
        _print(f"Done in {elapsed:.0f} s (pass --out to keep the results).")
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
    from .._catalog import load_dataset
    from .._settings import check_strategies
    from .._userdata import describe

    check_strategies(kwargs["strategies"])
    datasets = kwargs["datasets"]
    if not isinstance(datasets, dict):
        from .._settings import _split_names

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
    from .._store import load_results
    from .._summary import write_report

    load_results(args.results)  # a clear error for a folder that is not a run
    out = args.out or args.results
    # The folder itself: its manifest gives the expected rounds and cells, so a
    # partial folder's report also names the cells not started yet.
    _, text, files = write_report(args.results, out)
    _print(text, args.quiet)
    _print(f"Wrote {', '.join(f.name for f in files)} to {out}.", args.quiet)
    return 0


def _cmd_demo(args):
    from .._runner import run_fral
    from .._summary import write_report

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
