"""``skfral query | merge | fit | predict | audit``: label your own data.

Examples::

    skfral query loans.csv --target approved --sensitive race --budget 20
    #   ... fill the 'approved' column of loans.skfral/to_label.csv, then
    skfral merge loans.csv --labels loans.skfral/to_label.csv
    skfral query loans.csv --target approved --sensitive race   # next batch
    skfral fit loans.csv --target approved --sensitive race --save model/
    skfral predict model/ new_loans.csv --predictions predictions.csv
    skfral audit model/ holdout.csv --attack apgd-ce --out audit/

    skfral query --image-folder photos/ --layout labels-csv \\
        --labels-file photos/labels.csv --target label --sensitive group

Every command writes its files under temporary names and renames them at the
end: Ctrl-C or SIGTERM leaves DATA and the state folder as they were (exit
status 130).
"""

import json
import signal
import sys
from pathlib import Path

from .._label_files import ATTACKS, FORMATS, SETTINGS, default_state_dir

__all__ = ["add_parsers"]


def _sigterm(signum, frame):
    raise KeyboardInterrupt


def _guarded(func):
    """Run a command with SIGTERM as Ctrl-C, and say that nothing was changed."""

    def command(args):
        old = None
        try:
            old = signal.signal(signal.SIGTERM, _sigterm)
        except ValueError:  # pragma: no cover - not the main thread
            pass
        try:
            return func(args)
        except KeyboardInterrupt:
            print(
                f"skfral: {args.command} interrupted; no file was changed (rerun "
                "the same command)",
                file=sys.stderr,
                flush=True,
            )
            return 130
        finally:
            if old is not None:
                signal.signal(signal.SIGTERM, old)

    return command


def _sensitive(values):
    if not values:
        return None
    names = [v.strip() for value in values for v in value.split(",") if v.strip()]
    return names[0] if len(names) == 1 else names


def _saved_settings(args, data):
    state = (
        Path(args.state) if getattr(args, "state", None) else default_state_dir(data)
    )
    file = state / SETTINGS
    if file.is_file():
        return json.loads(file.read_text(encoding="utf-8"))
    return {}


def _data_and_images(args, command):
    folder = getattr(args, "image_folder", None)
    if folder is None:
        if args.data is None:
            raise ValueError(
                f"skfral {command} needs DATA (a CSV, TSV or Parquet table) or "
                "--image-folder with --labels-file."
            )
        return args.data, None
    if args.layout != "labels-csv":
        raise ValueError(
            f"--layout={args.layout!r}: skfral {command} reads image folders in the "
            "labels-csv layout (a CSV of file, label, group); pass --layout labels-csv."
        )
    if args.labels_file is None:
        raise ValueError(
            "--image-folder needs --labels-file: the CSV listing each image's file, "
            "label (blank: unlabelled) and group."
        )
    return args.labels_file, folder


def _columns(args, data, settings, image):
    target = args.target or settings.get("target") or ("label" if image else None)
    sensitive = (
        _sensitive(args.sensitive)
        or settings.get("sensitive")
        or ("group" if image else None)
    )
    if target is None or sensitive is None:
        raise ValueError(
            "pass --target COLUMN and --sensitive COLUMN (no earlier skfral query on "
            f"{data} records them)."
        )
    id_column = getattr(args, "id", None) or settings.get("id_column")
    if image:
        id_column = None
    return target, sensitive, id_column


def _net_params(args):
    return {"max_epochs": args.epochs} if args.epochs is not None else None


def _cmd_query(args):
    data, folder = _data_and_images(args, "query")
    target, sensitive, id_column = _columns(args, data, {}, folder is not None)
    from .._labelling import query_batch  # torch loads here, after parsing

    result = query_batch(
        data,
        target=target,
        sensitive=sensitive,
        id_column=id_column,
        budget=args.budget,
        strategy=args.strategy,
        state_dir=args.state,
        to_label=args.to_label,
        val_size=args.val_size,
        min_labels=args.min_labels,
        format=args.format,
        image_folder=folder,
        image_size=args.image_size,
        net_params=_net_params(args),
        random_state=args.seed,
    )
    print(result.message)
    print(f"to label: {result.to_label}")
    if folder is not None:
        print(f"contact sheet: {Path(result.to_label).with_suffix('.html')}")
    if args.format == "label-studio":
        print(f"Label Studio tasks: {Path(result.to_label).with_suffix('.json')}")
    id_name = result.batch.columns[0]
    for _, row in result.batch.iterrows():
        print(f"  {row[id_name]}  group {row['group']}: {row['reason']}")
    return 0


def _cmd_merge(args):
    settings = _saved_settings(args, args.data)
    target = args.target or settings.get("target")
    if target is None:
        raise ValueError(
            f"pass --target COLUMN (no earlier skfral query on {args.data} records it)."
        )
    id_column = args.id or settings.get("id_column")
    if settings.get("image_folder"):
        id_column = settings.get("id_name") or "file"
    classes = (
        [c.strip() for c in args.classes.split(",") if c.strip()]
        if args.classes
        else None
    )
    from .._label_merge import merge_labels  # torch loads here, after parsing

    result = merge_labels(
        args.data,
        args.labels,
        target=target,
        id_column=id_column,
        classes=classes,
        backup=not args.no_backup,
    )
    print(
        f"merged {result.n_merged} label(s) into {result.data} "
        f"({result.n_unchanged} already there, {result.n_blank} left blank)"
        + (f"; previous version: {result.backup}" if result.backup else "")
    )
    return 0


def _cmd_fit(args):
    data, folder = _data_and_images(args, "fit")
    settings = _saved_settings(args, data)
    target, sensitive, id_column = _columns(args, data, settings, folder is not None)
    from .._label_model import fit_model  # torch loads here, after parsing

    fit_model(
        data,
        target=target,
        sensitive=sensitive,
        id_column=id_column,
        save=args.save,
        image_folder=folder,
        image_size=args.image_size,
        net_params=_net_params(args),
        random_state=args.seed,
    )
    print(f"model saved to {args.save}")
    return 0


def _cmd_predict(args):
    from .._label_model import predict  # torch loads here, after parsing

    out = predict(
        args.model,
        args.data,
        predictions=args.predictions,
        image_folder=args.image_folder,
    )
    if args.predictions is None:
        print(out.to_csv(index=False), end="")
    else:
        print(f"{len(out)} predictions written to {args.predictions}")
    return 0


def _cmd_audit(args):
    from .._label_model import audit  # torch loads here, after parsing

    report = audit(
        args.model,
        args.data,
        target=args.target,
        sensitive=_sensitive(args.sensitive),
        image_folder=args.image_folder,
        attack=None if args.attack == "none" else args.attack,
        attack_eps=args.attack_eps,
        out=args.out,
        n_boot=args.n_boot,
    )
    keys = (
        "standard_accuracy",
        "robust_accuracy",
        "worst_group_standard_accuracy",
        "worst_group_robust_accuracy",
        "floor_accuracy",
        "floor_worst_group_accuracy",
        "floor_balanced_accuracy",
    )
    for key in keys:
        print(f"{key}: {report[key]:.3f}")
    if args.out:
        print(f"report: {Path(args.out) / 'audit.md'} and audit.png")
    return 0


def _add_data(parser, *, images=True):
    parser.add_argument(
        "data",
        nargs="?",
        metavar="DATA",
        help="a CSV/TSV/Parquet table; rows with an empty target are unlabelled",
    )
    parser.add_argument("--target", metavar="COLUMN", help="the label column")
    parser.add_argument(
        "--sensitive",
        metavar="COLUMN",
        action="append",
        help="the group column; repeat for intersectional groups",
    )
    parser.add_argument(
        "--id",
        metavar="COLUMN",
        help="a column of unique row ids (default: row number)",
    )
    if images:
        parser.add_argument(
            "--image-folder", metavar="DIR", help="a folder of images (labels-csv)"
        )
        parser.add_argument("--layout", choices=["labels-csv"], default="labels-csv")
        parser.add_argument(
            "--labels-file",
            metavar="FILE",
            help="CSV of file, label (blank: unlabelled) and group columns",
        )
        parser.add_argument("--image-size", type=int, default=32, metavar="N")


def add_parsers(sub):
    """Add ``query``, ``merge``, ``fit``, ``predict`` and ``audit`` to ``sub``."""
    query = sub.add_parser(
        "query",
        help="pick the next rows to label, with a reason for each",
        description="Fit the robust model on the labelled rows, run the strategy "
        "on the unlabelled ones and write to_label.csv to fill. Asking again before "
        "merging returns the same pending batch.",
    )
    _add_data(query)
    query.add_argument("--budget", type=int, default=20, help="rows per batch")
    query.add_argument("--strategy", default="jin", help="query strategy (default jin)")
    query.add_argument(
        "--state", metavar="DIR", help="state folder (default: DATA.skfral/ next to it)"
    )
    query.add_argument(
        "--to-label", metavar="FILE", help="batch file (default: STATE/to_label.csv)"
    )
    query.add_argument(
        "--val-size",
        type=float,
        default=0.25,
        help="share of every labelled (group, class) held out for validation",
    )
    query.add_argument(
        "--min-labels",
        type=int,
        default=20,
        help="fewer labelled rows give a cold start (stratified random)",
    )
    query.add_argument("--format", choices=list(FORMATS), default="csv")
    query.add_argument("--epochs", type=int, help="training epochs of the net")
    query.add_argument("--seed", type=int, default=0)
    query.set_defaults(command_func=_guarded(_cmd_query))

    merge = sub.add_parser(
        "merge",
        help="merge filled labels into DATA (all rows or none)",
        description="Check every row of the labels file (to_label.csv, or a Label "
        "Studio JSON/CSV export) and write DATA again with them, keeping the "
        "previous version as DATA.bak. Any bad row: nothing is written.",
    )
    merge.add_argument("data", metavar="DATA", help="the table (or labels CSV)")
    merge.add_argument("--labels", required=True, metavar="FILE")
    merge.add_argument("--target", metavar="COLUMN")
    merge.add_argument("--id", metavar="COLUMN")
    merge.add_argument("--state", metavar="DIR")
    merge.add_argument(
        "--classes", metavar="A,B", help="the allowed classes (default: DATA's)"
    )
    merge.add_argument("--no-backup", action="store_true")
    merge.set_defaults(command_func=_guarded(_cmd_merge))

    fit = sub.add_parser(
        "fit",
        help="train the robust model on every labelled row and save it",
        description="Train the final robust model on all labelled rows of DATA and "
        "save it as a model folder (weights, JSON settings, preprocessing; loaded "
        "without unpickling code).",
    )
    _add_data(fit)
    fit.add_argument("--save", required=True, metavar="MODEL")
    fit.add_argument("--state", metavar="DIR")
    fit.add_argument("--epochs", type=int)
    fit.add_argument("--seed", type=int, default=0)
    fit.set_defaults(command_func=_guarded(_cmd_fit))

    pred = sub.add_parser(
        "predict", help="predictions and class probabilities of a saved model"
    )
    pred.add_argument("model", metavar="MODEL")
    pred.add_argument("data", metavar="DATA")
    pred.add_argument("--predictions", metavar="FILE", help="CSV to write")
    pred.add_argument("--image-folder", metavar="DIR")
    pred.set_defaults(command_func=_guarded(_cmd_predict))

    aud = sub.add_parser(
        "audit",
        help="fairness report on clean and attacked inputs (markdown + PNG)",
        description="Per-group accuracy on clean and attacked inputs of the "
        "labelled rows of DATA, bootstrap intervals, and the majority-class floor.",
    )
    aud.add_argument("model", metavar="MODEL")
    aud.add_argument("data", metavar="DATA")
    aud.add_argument("--target", metavar="COLUMN")
    aud.add_argument("--sensitive", metavar="COLUMN", action="append")
    aud.add_argument("--image-folder", metavar="DIR")
    aud.add_argument("--attack", choices=[*ATTACKS, "none"], default="pgd")
    aud.add_argument("--attack-eps", type=float, metavar="E")
    aud.add_argument("--out", metavar="DIR")
    aud.add_argument("--n-boot", type=int, default=200)
    aud.set_defaults(command_func=_guarded(_cmd_audit))
