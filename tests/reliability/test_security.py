"""Nothing unpickles a file that skfral did not write as plain tensors.

Checkpoints are read with ``torch.load(..., weights_only=True)`` and skorch's
``load_params`` keeps its ``weights_only=True`` default; a grep-like scan (an
AST walk) of the package source finds no other way to unpickle a file.

Loaders never follow a path outside the folder they are given: tested in
``tests/datasets/test_datasets_faces.py`` (``test_utkface_refuses_symlink_escaping``,
``test_celeba_refuses_escaping_names``, ``test_fairface_refuses_paths_outside``,
``test_lazy_rechecks_paths_when_reading``); the last test here checks that
those tests are still there.
"""

import ast
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

import skfral
from skfral.nn import MLP, RobustNeuralNetClassifier
from skfral.nn._checkpoint import (
    get_net_state,
    load_checkpoint,
    save_checkpoint,
    set_net_state,
)

PACKAGE = Path(skfral.__file__).resolve().parent
TESTS = Path(__file__).resolve().parents[1]
TRIGGERED = []


def _trigger(tag):
    TRIGGERED.append(tag)
    return tag


class Payload:
    """Runs ``_trigger`` when unpickled: what an attacker's checkpoint would do."""

    def __reduce__(self):
        return (_trigger, ("payload ran",))


@pytest.fixture(scope="module")
def net():
    X = np.random.RandomState(0).randn(30, 3).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    return RobustNeuralNetClassifier(
        MLP,
        module__n_features=3,
        module__hidden_sizes=(8,),
        max_epochs=1,
        attack_n_steps=1,
        random_state=0,
    ).fit(X, y)


@pytest.mark.filterwarnings("ignore:Detected pickle protocol:UserWarning")
@pytest.mark.parametrize("writer", ["torch.save", "pickle.dump"])
def test_load_checkpoint_refuses_pickled_objects(tmp_path, net, writer):
    path = tmp_path / "state_001.pt"
    evil = {"robust": get_net_state(net), "extra": Payload()}
    with path.open("wb") as fh:
        torch.save(evil, fh) if writer == "torch.save" else pickle.dump(evil, fh)
    TRIGGERED.clear()
    with pytest.raises(pickle.UnpicklingError, match="[Ww]eights only load failed"):
        load_checkpoint(path)
    assert TRIGGERED == []  # the payload never ran


def test_checkpoint_of_state_dicts_round_trips(tmp_path, net):
    path = tmp_path / "state_000.pt"
    with path.open("wb") as fh:
        save_checkpoint({"robust": get_net_state(net)}, fh)
    twin = RobustNeuralNetClassifier(
        MLP, module__n_features=3, module__hidden_sizes=(8,), classes=[0, 1]
    )
    set_net_state(twin, load_checkpoint(path)["robust"])
    X = np.random.RandomState(1).randn(5, 3).astype(np.float32)
    np.testing.assert_allclose(twin.predict_proba(X), net.predict_proba(X))


def test_saved_net_parameters_load_weights_only(tmp_path, net):
    good, bad = tmp_path / "params.pt", tmp_path / "evil.pt"
    net.save_params(f_params=good)
    twin = RobustNeuralNetClassifier(
        MLP, module__n_features=3, module__hidden_sizes=(8,), classes=[0, 1]
    ).initialize()
    twin.load_params(f_params=good)
    torch.save({"state": net.module_.state_dict(), "x": Payload()}, bad)
    TRIGGERED.clear()
    with pytest.raises(pickle.UnpicklingError, match="[Ww]eights only load failed"):
        twin.load_params(f_params=bad)
    assert TRIGGERED == []


def _dotted(node):
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    return ".".join(reversed(parts))


def _keyword(call, name):
    for kw in call.keywords:
        if kw.arg == name:
            return kw.value
    return None


def _unsafe_calls(source, filename):
    """``(line, reason)`` of every call that could unpickle a file."""
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        if not isinstance(node, ast.Call):
            continue
        name = _dotted(node.func)
        last = name.rsplit(".", 1)[-1]
        if name in (
            "pickle.load",
            "pickle.loads",
            "pickle.Unpickler",
            "cPickle.load",
            "dill.load",
            "dill.loads",
            "cloudpickle.load",
            "cloudpickle.loads",
            "joblib.load",
            "marshal.load",
            "marshal.loads",
            "shelve.open",
            "pd.read_pickle",
            "pandas.read_pickle",
        ):
            found.append((node.lineno, name))
        elif name == "torch.load" or (last == "load" and name.startswith("torch")):
            flag = _keyword(node, "weights_only")
            if not (isinstance(flag, ast.Constant) and flag.value is True):
                found.append((node.lineno, f"{name} without weights_only=True"))
        elif name in ("np.load", "numpy.load"):
            flag = _keyword(node, "allow_pickle")
            if flag is not None and not (
                isinstance(flag, ast.Constant) and flag.value is False
            ):
                found.append((node.lineno, f"{name} with allow_pickle"))
    return found


def test_the_scanner_finds_unsafe_calls():
    source = (
        "import pickle, torch, joblib, numpy as np\n"
        "pickle.load(f)\n"
        "torch.load(f)\n"
        "torch.load(f, weights_only=False)\n"
        "torch.load(f, weights_only=True)\n"
        "np.load(f, allow_pickle=True)\n"
        "np.load(f)\n"
        "joblib.load(f)\n"
    )
    lines = sorted(line for line, _ in _unsafe_calls(source, "<test>"))
    assert lines == [2, 3, 4, 6, 8]


def test_no_source_file_unpickles_user_files():
    problems = []
    for path in sorted(PACKAGE.rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        for line, reason in _unsafe_calls(source, str(path)):
            problems.append(f"{path.relative_to(PACKAGE.parent)}:{line}: {reason}")
    assert problems == []


def test_path_escape_tests_are_still_there():
    text = (TESTS / "datasets" / "test_datasets_faces.py").read_text()
    for name in (
        "test_utkface_refuses_symlink_escaping",
        "test_celeba_refuses_escaping_names",
        "test_fairface_refuses_paths_outside",
        "test_lazy_rechecks_paths_when_reading",
    ):
        assert f"def {name}(" in text, name
