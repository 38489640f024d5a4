"""Safe model files: a fitted robust net (and its preprocessing) as a folder.

A model folder holds three kinds of file, none of which is unpickled:

``model.json``
    The format, the skfral version that wrote it, the net's class, module and
    every hyperparameter (plain JSON values), the classes, the user's
    ``metadata``, the SHA-256 of every other file, and the SHA-256 of the
    JSON itself (``checksum``, computed with that key left out).
``weights.pt``
    The module's weights and the rest of the training state, written with
    ``torch.save`` and read with ``torch.load(..., weights_only=True)``
    (:mod:`skfral.nn._checkpoint`): tensors, numbers, strings and containers
    only.
``preprocess.skops`` (only for a Pipeline)
    The fitted scikit-learn preprocessing, written with :func:`skops.io.dump`
    and read with :func:`skops.io.load` after every type it names was checked
    against an explicit trusted list: scikit-learn's own types (trusted by
    skops), ``numpy.dtype`` and functions of :mod:`skfral.datasets`. Any other
    type or function (foreign code) is refused, never loaded.

A file changed after it was saved fails its checksum and is refused; a model
written by a later format is refused; one written by another skfral version
loads with a :class:`ModelVersionWarning`.
"""

import hashlib
import importlib
import json
import os
import shutil
import tempfile
import warnings
from pathlib import Path

import numpy as np
import torch
from sklearn.pipeline import Pipeline

from ._checkpoint import get_net_state, load_checkpoint, save_checkpoint, set_net_state
from ._modules import MLP, SmallCNN
from ._net import RobustNeuralNetClassifier
from ._resnet import ResNet18

__all__ = ["ModelFileError", "ModelVersionWarning", "load_model", "save_model"]

FORMAT = "skfral-model"
FORMAT_VERSION = 1
SETTINGS = "model.json"
WEIGHTS = "weights.pt"
PREPROCESS = "preprocess.skops"
_MODULES = {"MLP": MLP, "SmallCNN": SmallCNN, "ResNet18": ResNet18}
_CRITERIA = ("CrossEntropyLoss", "NLLLoss")
# Types a preprocessing file may name besides scikit-learn's own (which skops
# trusts): numpy dtypes and the functions of skfral.datasets (the
# FunctionTransformer of make_tabular_preprocessor).
_TRUSTED_EXACT = ("numpy.dtype",)
_TRUSTED_PREFIXES = ("skfral.datasets.",)
# Parameters set from the module, optimizer, ... classes, not stored as values.
_CLASS_PARAMS = (
    "module",
    "criterion",
    "optimizer",
    "iterator_train",
    "iterator_valid",
    "dataset",
)


def _skfral_version():
    """The installed skfral's version (nn imports nothing above utils)."""
    return importlib.import_module(__name__.split(".")[0] + "._version").__version__


class ModelFileError(ValueError):
    """A model folder that cannot be loaded safely (tampered, foreign code, format)."""


class ModelVersionWarning(UserWarning):
    """A model folder written by another skfral version."""


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _json_value(value):
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple | np.ndarray):
        return [_json_value(v) for v in value]
    raise TypeError(type(value).__name__)


def _settings_checksum(settings):
    rest = {k: v for k, v in settings.items() if k != "checksum"}
    text = json.dumps(rest, sort_keys=True, allow_nan=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _net_settings(net):
    if type(net) is not RobustNeuralNetClassifier:
        raise TypeError(
            f"estimator ends in {type(net).__name__}: save_model saves a "
            "skfral.nn.RobustNeuralNetClassifier (or a Pipeline ending in one)."
        )
    params = net.get_params(deep=False)
    module = params["module"]
    name = getattr(module, "__name__", type(module).__name__)
    if _MODULES.get(name) is not module:
        raise TypeError(
            f"the net's module {name!r} is not one of skfral's modules "
            f"({', '.join(_MODULES)}): a model file only rebuilds those (no code is "
            "stored in it)."
        )
    optimizer = params["optimizer"]
    if getattr(torch.optim, getattr(optimizer, "__name__", ""), None) is not optimizer:
        raise TypeError(
            f"the net's optimizer {optimizer!r} is not a torch.optim class: a model "
            "file stores the optimizer by its torch.optim name."
        )
    criterion = params["criterion"]
    if getattr(criterion, "__name__", None) not in _CRITERIA:
        raise TypeError(
            f"the net's criterion {criterion!r} is not one of {_CRITERIA}: a model "
            "file stores the criterion by its torch.nn name."
        )
    defaults = RobustNeuralNetClassifier(MLP).get_params(deep=False)
    for key in ("iterator_train", "iterator_valid", "dataset"):
        if params[key] is not defaults[key]:
            raise TypeError(
                f"the net's {key}={params[key]!r} is not skorch's default: a model "
                "file cannot store it."
            )
    values = {}
    for key, value in params.items():
        if key in _CLASS_PARAMS or key.startswith("_"):
            continue
        if key.startswith(("callbacks__", "optimizer__", "criterion__")) or (
            key == "callbacks" and value is not None
        ):
            raise TypeError(
                f"the net's {key}={value!r} cannot be stored in a model file: use "
                "the default (no callbacks, no optimizer or criterion arguments)."
            )
        try:
            values[key] = _json_value(value)
        except TypeError as exc:
            raise TypeError(
                f"the net's parameter {key}={value!r} has type {exc}: a model file "
                "stores numbers, strings, booleans, None and lists of them only."
            ) from None
    return {
        "class": "RobustNeuralNetClassifier",
        "module": name,
        "optimizer": optimizer.__name__,
        "criterion": criterion.__name__,
        "params": values,
    }


def save_model(estimator, path, *, metadata=None):
    """Save a fitted robust net (or a Pipeline ending in one) as a safe model folder.

    The folder is built next to ``path`` under a temporary name and renamed
    into place at the end: an interrupted save leaves ``path`` as it was (an
    existing model folder at ``path`` is replaced only once the new one is
    complete).

    Parameters
    ----------
    estimator : fitted RobustNeuralNetClassifier or Pipeline
        A skfral robust net built with one of skfral's modules (:class:`MLP`,
        :class:`SmallCNN`, :class:`ResNet18`), or a two-step Pipeline: a
        fitted scikit-learn preprocessing step (e.g.
        :func:`skfral.datasets.make_tabular_preprocessor`), then the net.
    path : str or path-like
        The model folder to write.
    metadata : dict or None, default=None
        Plain JSON values kept with the model (e.g. the target and
        sensitive column names, the feature columns); returned by
        :func:`load_model`.

    Returns
    -------
    path : pathlib.Path

    See Also
    --------
    load_model : Read it back, refusing tampered files and foreign code.

    Examples
    --------
    >>> import tempfile
    >>> import numpy as np
    >>> from skfral.nn import MLP, RobustNeuralNetClassifier, load_model, save_model
    >>> X = np.random.RandomState(0).randn(40, 3).astype("float32")
    >>> y = np.where(X[:, 0] > 0, "yes", "no")
    >>> net = RobustNeuralNetClassifier(MLP, module__n_features=3, max_epochs=2,
    ...                                 attack_n_steps=2, random_state=0).fit(X, y)
    >>> folder = tempfile.TemporaryDirectory()
    >>> _ = save_model(net, folder.name + "/model", metadata={"target": "y"})
    >>> twin, meta = load_model(folder.name + "/model")
    >>> bool(np.allclose(twin.predict_proba(X), net.predict_proba(X))), meta["target"]
    (True, 'y')
    >>> folder.cleanup()
    """
    if isinstance(estimator, Pipeline):
        if len(estimator.steps) != 2:
            raise TypeError(
                f"estimator is a Pipeline of {len(estimator.steps)} steps: save_model "
                "saves a net or a Pipeline of (preprocessing, net)."
            )
        preprocess, net = estimator.steps[0][1], estimator.steps[1][1]
        step_names = [estimator.steps[0][0], estimator.steps[1][0]]
    else:
        preprocess, net, step_names = None, estimator, None
    settings_net = _net_settings(net)
    state = get_net_state(net)  # refuses an unfitted net
    try:
        metadata = _json_value(metadata) if isinstance(metadata, list) else metadata
        json.dumps(metadata or {}, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"metadata={metadata!r} is not plain JSON ({exc}): expected a dict of "
            "numbers, strings, booleans, None, lists and dicts."
        ) from None
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(
        tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    )
    try:
        files = {}
        with open(tmp / WEIGHTS, "wb") as fh:
            save_checkpoint(state, fh)
            fh.flush()
            os.fsync(fh.fileno())
        files[WEIGHTS] = _sha256(tmp / WEIGHTS)
        if preprocess is not None:
            import skops.io as sio

            sio.dump(preprocess, tmp / PREPROCESS)
            files[PREPROCESS] = _sha256(tmp / PREPROCESS)
        settings = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "skfral_version": _skfral_version(),
            "net": settings_net,
            "classes": _json_value(list(net.classes_)),
            "pipeline_steps": step_names,
            "metadata": metadata or {},
            "files": files,
        }
        settings["checksum"] = _settings_checksum(settings)
        (tmp / SETTINGS).write_text(
            json.dumps(settings, indent=1, allow_nan=False) + "\n", encoding="utf-8"
        )
        _replace_folder(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return path


def _replace_folder(tmp, path):
    """Move the complete folder ``tmp`` to ``path`` (an old one is removed after)."""
    if path.exists() or path.is_symlink():
        if not (path / SETTINGS).is_file():
            raise FileExistsError(
                f"path={str(path)!r} exists and is not a skfral model folder: "
                "expected a new path or an earlier model folder to replace."
            )
        old = Path(
            tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".old")
        )
        os.rmdir(old)
        os.replace(path, old)
        try:
            os.replace(tmp, path)
        except BaseException:
            os.replace(old, path)
            raise
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, path)


def _refuse(path, why):
    raise ModelFileError(f"model={str(path)!r} is refused: {why}")


def _read_settings(path):
    file = path / SETTINGS
    if not path.is_dir():
        raise FileNotFoundError(
            f"model={str(path)!r} is not a folder: expected a model folder written "
            "by skfral.nn.save_model (skfral fit --save)."
        )
    if not file.is_file():
        _refuse(path, f"it has no {SETTINGS}: expected a folder written by save_model.")
    try:
        settings = json.loads(file.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        _refuse(path, f"{SETTINGS} is not valid JSON ({exc}).")
    if not isinstance(settings, dict) or settings.get("format") != FORMAT:
        _refuse(path, f"{SETTINGS} does not describe a skfral model.")
    if settings.get("checksum") != _settings_checksum(settings):
        _refuse(
            path,
            f"{SETTINGS} does not match its checksum: it was changed after it was "
            "saved (tampered or corrupted). Save the model again.",
        )
    version = settings.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        _refuse(
            path,
            f"it has format version {version!r}, written by skfral "
            f"{settings.get('skfral_version')}; this skfral ({_skfral_version()}) reads "
            f"versions up to {FORMAT_VERSION}: upgrade skfral.",
        )
    for name, digest in settings.get("files", {}).items():
        if name not in (WEIGHTS, PREPROCESS):
            _refuse(path, f"{SETTINGS} lists an unknown file {name!r}.")
        if not (path / name).is_file():
            _refuse(path, f"{name} is missing.")
        if _sha256(path / name) != digest:
            _refuse(
                path,
                f"{name} does not match the checksum in {SETTINGS}: it was changed "
                "after it was saved (tampered or corrupted). Save the model again.",
            )
    if WEIGHTS not in settings.get("files", {}):
        _refuse(path, f"{SETTINGS} lists no {WEIGHTS}.")
    saved = settings.get("skfral_version")
    current = _skfral_version()
    if saved != current:
        warnings.warn(
            f"model={str(path)!r} was saved by skfral {saved}; this is skfral "
            f"{current}. It loads (same file format {version}); check its "
            "predictions, or save it again with this version.",
            ModelVersionWarning,
            stacklevel=3,
        )
    return settings


def _load_preprocess(path):
    import skops.io as sio

    file = path / PREPROCESS
    try:
        untrusted = sio.get_untrusted_types(file=file)
    except Exception as exc:  # skops raises several types for a bad archive
        _refuse(path, f"{PREPROCESS} is not a skops file ({type(exc).__name__}).")
    foreign = [
        name
        for name in untrusted
        if name not in _TRUSTED_EXACT and not name.startswith(_TRUSTED_PREFIXES)
    ]
    if foreign:
        _refuse(
            path,
            f"{PREPROCESS} names types or functions outside the trusted list "
            f"(scikit-learn, numpy.dtype, skfral.datasets): {foreign}. It is not "
            "loaded: it could run foreign code.",
        )
    try:
        return sio.load(file, trusted=list(untrusted))
    except Exception as exc:
        _refuse(
            path,
            f"{PREPROCESS} could not be loaded ({type(exc).__name__}: {exc}); it may "
            "come from another skfral or scikit-learn version: save it again.",
        )


def load_model(path):
    """Load a model folder written by :func:`save_model`, without unpickling code.

    Parameters
    ----------
    path : str or path-like
        The model folder.

    Returns
    -------
    estimator : RobustNeuralNetClassifier or Pipeline
        The fitted net (or the Pipeline of preprocessing and net), ready for
        ``predict`` and ``predict_proba``.
    metadata : dict
        The ``metadata`` given to :func:`save_model`.

    Raises
    ------
    ModelFileError
        A file changed after it was saved (checksums), a preprocessing file
        naming types or functions outside the trusted list, an unknown module
        or a newer file format.
    FileNotFoundError
        ``path`` is not a folder.

    Warns
    -----
    ModelVersionWarning
        The folder was written by another skfral version (same file format).
    """
    path = Path(path)
    settings = _read_settings(path)
    spec = settings["net"]
    module = _MODULES.get(spec.get("module"))
    optimizer = getattr(torch.optim, str(spec.get("optimizer")), None)
    criterion = spec.get("criterion")
    if (
        spec.get("class") != "RobustNeuralNetClassifier"
        or module is None
        or not isinstance(optimizer, type)
        or criterion not in _CRITERIA
    ):
        _refuse(path, f"{SETTINGS} names an unknown net {spec!r}.")
    params = dict(spec.get("params", {}))
    params["classes"] = settings["classes"]
    try:
        net = RobustNeuralNetClassifier(
            module,
            criterion=getattr(torch.nn, criterion),
            optimizer=optimizer,
            **params,
        )
    except TypeError as exc:
        _refuse(
            path,
            f"its net settings do not fit this skfral version ({exc}); save it "
            "again with this version.",
        )
    try:
        state = load_checkpoint(path / WEIGHTS)
    except Exception as exc:  # torch raises UnpicklingError, RuntimeError, ...
        _refuse(
            path,
            f"{WEIGHTS} holds more than weights ({type(exc).__name__}); it is not "
            "loaded (weights_only).",
        )
    try:
        set_net_state(net, state)
    except (RuntimeError, KeyError, ValueError) as exc:
        _refuse(path, f"{WEIGHTS} does not fit the net it describes ({exc}).")
    if PREPROCESS in settings["files"]:
        preprocess = _load_preprocess(path)
        names = settings.get("pipeline_steps") or ["preprocess", "net"]
        estimator = Pipeline([(names[0], preprocess), (names[1], net)])
    else:
        estimator = net
    return estimator, dict(settings.get("metadata") or {})
