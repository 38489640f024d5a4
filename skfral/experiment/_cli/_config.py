"""Settings of the ``skfral`` command line: config keys, defaults, TOML reading.

:func:`config_to_kwargs` turns a config (the flags' names, from ``--config`` or
the command line) into :func:`~skfral.experiment.run_fral` keyword arguments.
"""

from pathlib import Path

__all__ = [
    "CONFIG_KEYS",
    "DEMO_SETTINGS",
    "config_to_kwargs",
    "demo_kwargs",
    "read_config",
]

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
    "min_group_size",
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
        from .._settings import _split_names
        from .._userdata import load_user_data

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
        "min_group_size": cfg.get("min_group_size"),
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
