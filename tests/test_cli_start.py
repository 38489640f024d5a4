"""The command line answers without torch, skorch, fairlearn or modAL; lazy exports.

Each check runs in a fresh interpreter (the test process has long imported
everything) and reads ``sys.modules`` after the command.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("torch", "skorch", "fairlearn", "modAL", "matplotlib")

PROBE = """
import json, sys
from skfral.experiment._cli import main
code = None
try:
    code = main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
sys.stderr.write("\\nPROBE=" + json.dumps(
    {"code": code, "loaded": [m for m in {heavy!r} if m in sys.modules]}) + "\\n")
""".replace("{heavy!r}", repr(HEAVY))


def probe(*argv):
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, *argv],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    lines = [x for x in proc.stderr.splitlines() if x.startswith("PROBE=")]
    assert lines, f"{argv}: no probe line; stderr: {proc.stderr[-2000:]}"
    result = json.loads(lines[-1][len("PROBE=") :])
    return result, proc.stdout, proc.stderr


@pytest.mark.parametrize(
    ("argv", "code", "says"),
    [
        (["--help"], 0, "usage: skfral"),
        (["--version"], 0, "skfral "),
        (["run", "--help"], 0, "--image-folder"),
        (["report", "--help"], 0, "usage: skfral report"),
        (["run", "--bogus"], 2, "unrecognized arguments: --bogus"),
        (["nocommand"], 2, "invalid choice"),
        (["run", "--seeds", "x"], 2, "no data set given"),
        (["run", "--target", "y"], 2, "--target needs --data"),
    ],
)
def test_cli_answers_without_heavy_imports(argv, code, says):
    result, out, err = probe(*argv)
    assert result["code"] == code, f"skfral {' '.join(argv)}: exit {result['code']}"
    assert says in out + err, f"skfral {' '.join(argv)} did not say {says!r}"
    assert result["loaded"] == [], (
        f"skfral {' '.join(argv)} imported {result['loaded']} before answering"
    )


@pytest.mark.slow
def test_probe_sees_heavy_imports():
    """The probe is not blind: a real run's entry point does load torch."""
    result, _, err = probe("run", "--datasets", "nope", "--quiet")
    assert result["code"] == 2, err
    assert "torch" in result["loaded"]


def run_python(code):
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def test_import_skfral_is_light():
    out = run_python(
        "import sys, skfral, skfral.experiment\n"
        f"print([m for m in {HEAVY!r} if m in sys.modules])"
    )
    assert out.strip() == "[]", f"import skfral loaded {out.strip()}"


@pytest.mark.slow
def test_modal_works_after_import_skfral():
    """The README's promise: modAL imported after skfral is patched, and runs."""
    out = run_python(
        """
import numpy as np, pandas as pd, sklearn.utils, inspect
import skfral
from modAL.models import ActiveLearner
from modAL.utils import data
from skfral.nn import MLP, RobustNeuralNetClassifier
from skfral.query import EntropySampling

needs = "force_all_finite" not in inspect.signature(sklearn.utils.check_X_y).parameters
import modAL.models.learners as learners
assert getattr(learners.check_X_y, "__skfral_compat__", False) is needs
assert getattr(data.retrieve_rows, "__skfral_compat__", False)
rng = np.random.RandomState(0)
X = rng.normal(size=(60, 3)).astype(np.float32)
y = (X[:, 0] > 0).astype(np.int64)
net = RobustNeuralNetClassifier(MLP, max_epochs=2, random_state=0, train_split=None)
learner = ActiveLearner(net, query_strategy=EntropySampling(),
                        X_training=X[:10], y_training=y[:10])
p = learner.estimator.predict_proba(X[10:])
entropy = -(p * np.log(p)).sum(axis=1)
expected = set(np.argsort(-entropy)[:3].tolist())  # by hand
idx, _ = learner.query(X[10:], n_instances=3)
assert set(np.asarray(idx).tolist()) == expected, (idx, expected)
learner.teach(X[10:][idx], y[10:][idx])
print(len(idx), learner.X_training.shape[0])
"""
    )
    assert out.split() == ["3", "13"]


@pytest.mark.slow
def test_modal_imported_before_skfral_is_patched_at_once():
    out = run_python(
        "import modAL.models.learners as L\n"
        "before = getattr(L.ActiveLearner.__dict__['__init__'], '__skfral_compat__',"
        " False)\n"
        "import skfral\n"
        "after = getattr(L.ActiveLearner.__dict__['__init__'], '__skfral_compat__',"
        " False)\n"
        "print(before, after)"
    )
    assert out.split() == ["False", "True"]


def test_hook_only_touches_modal():
    out = run_python(
        "import sys, skfral, json\n"
        "import sklearn.utils\n"
        "hooks = [type(f).__name__ for f in sys.meta_path]\n"
        "print(json.dumps([hooks.count('_ModalImportHook'),"
        " type(sys.modules['sklearn.utils'].__spec__.loader).__name__]))"
    )
    count, loader = json.loads(out)
    assert count == 1
    assert loader != "_PatchAfterExec"


def test_experiment_exports_are_lazy_and_complete():
    import skfral.experiment as experiment
    from skfral.experiment import _EXPORTS

    listed = [name for names in _EXPORTS.values() for name in names]
    assert sorted(listed) == sorted(experiment.__all__)
    assert len(set(listed)) == len(listed)
    for name in experiment.__all__:
        assert getattr(experiment, name) is not None, name
        assert name in dir(experiment)
    from skfral.experiment._runner import run_fral

    assert experiment.run_fral is run_fral
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        experiment.nope  # noqa: B018
    namespace = {}
    exec("from skfral.experiment import *", namespace)
    assert set(experiment.__all__) <= set(namespace)


def test_skfral_subpackages_load_on_first_use():
    out = run_python(
        "import sys, skfral\n"
        "print('skfral.query' in sys.modules, 'query' in dir(skfral),"
        " skfral.query.__name__, 'skfral.query' in sys.modules)"
    )
    assert out.split() == ["False", "True", "skfral.query", "True"]


def test_lazy_exports_rejects_an_unlisted_name():
    from skfral._lazy import lazy_exports

    with pytest.raises(ImportError, match=r"\['missing'\] without a module"):
        lazy_exports("skfral", {"._version": ("__version__",)}, ["missing"])
