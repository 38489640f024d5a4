"""The ``skfral`` command line.

One module per family of sub-commands (``_run``: run, report, demo), each with
``add_parsers(sub)``; settings and config files in ``_config``; this module
parses and dispatches.

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
stderr; success exits with 0; Ctrl-C (SIGINT) exits with 130 after
``skfral: interrupted; rerun the same command to resume`` and SIGTERM with 143
after ``skfral: interrupted by SIGTERM; ...``: no half-finished round is kept,
and the same command again continues to the table of an uninterrupted run.
"""

import argparse
import signal
import sys

from ..._version import __version__
from .._interrupt import exit_status, interrupt_guard, signal_name
from . import _label, _run
from ._config import (
    CONFIG_KEYS,
    DEMO_SETTINGS,
    config_to_kwargs,
    demo_kwargs,
    read_config,
)

__all__ = [
    "main",
    "CONFIG_KEYS",
    "DEMO_SETTINGS",
    "config_to_kwargs",
    "demo_kwargs",
    "read_config",
]

# The modules that add sub-commands, in the order of ``skfral --help``.
_COMMAND_MODULES = (_run, _label)


def _parser():
    parser = argparse.ArgumentParser(
        prog="skfral",
        description="Fair Robust Active Learning experiments: JIN against baselines.",
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {__version__}"
    )
    sub = parser.add_subparsers(dest="command")
    sub.required = True
    for module in _COMMAND_MODULES:
        module.add_parsers(sub)
    return parser


def main(argv=None):
    """Entry point of ``skfral`` and ``python -m skfral``; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        with interrupt_guard():  # SIGINT and SIGTERM: KeyboardInterrupt, 130 / 143
            return args.command_func(args)
    except (ValueError, TypeError, FileNotFoundError) as exc:
        message = " ".join(str(exc).split())
        print(f"skfral: error: {message}", file=sys.stderr, flush=True)
        return 2
    except KeyboardInterrupt as exc:
        resumable = getattr(args, "out", None) is not None or args.command == "demo"
        hint = (
            "rerun the same command to resume"
            if resumable or getattr(args, "config", None)
            else "pass --out to make a run resumable"
        )
        status = exit_status(exc)
        by = "" if status == 128 + signal.SIGINT else f" by {signal_name(status - 128)}"
        print(f"skfral: interrupted{by}; {hint}", file=sys.stderr, flush=True)
        return status


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
