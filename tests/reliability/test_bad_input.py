"""Bad input, every public entry point: a clear error, and nothing changed.

One table of cases, one parametrised test. Each case calls an entry point
(nets, PGD, metrics, every query strategy, loaders, the split, the runner,
the command line) with messy input and expects ``ValueError`` / ``TypeError``
/ scikit-learn's ``NotFittedError`` whose message names the argument and what
was expected (``match=``). The same test checks that the error is raised by
skfral (or scikit-learn / skorch for "not fitted"), not deep inside torch,
pandas, numpy or fairlearn, and that the shared fitted net, the modAL learner,
a scratch copy of the net and every user array are unchanged afterwards.
Command-line cases run ``skfral.experiment._cli.main`` in process: exit status
not 0 and the message on stderr.

Messy input that *should work* (string and categorical labels and groups, NaN
in the features given to the split) is checked at the end of the file.
"""

import copy
import re
from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch
from modAL.models import ActiveLearner
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

import skfral  # noqa: F401  (modAL shim)
from skfral.datasets import (
    fral_split,
    load_adult,
    load_celeba,
    load_german_credit,
    load_group_digits,
    load_utkface,
    make_fral_classification,
)
from skfral.experiment import run_fral
from skfral.experiment._cli import main
from skfral.metrics import (
    fairness_report,
    group_scores,
    majority_class_levels,
    make_worst_group_scorer,
    plot_group_accuracy,
    robust_metric_frame,
    worst_group,
)
from skfral.nn import FGSM, MLP, PGD, RobustNeuralNetClassifier
from skfral.query import STRATEGIES, get_strategy

from ..small_run import small_run_settings

N_FEATURES = 3


def _net(**params):
    defaults = dict(
        module__n_features=N_FEATURES,
        module__hidden_sizes=(8,),
        max_epochs=2,
        attack_n_steps=2,
        batch_size=32,
        random_state=0,
    )
    return RobustNeuralNetClassifier(MLP, **{**defaults, **params})


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="module")
def base():
    rng = np.random.RandomState(0)
    n = 80
    X = rng.randn(n, N_FEATURES).astype(np.float32)
    y = (X[:, 0] + 0.3 * rng.randn(n) > 0).astype(np.int64)
    s = np.tile([0, 1], n // 2)
    lab, val, pool = slice(0, 20), slice(20, 45), slice(45, n)
    X_nan = X.copy()
    X_nan[3, 1] = np.nan
    X_inf = X.copy()
    X_inf[5, 0] = np.inf
    s_unknown = s[pool].copy()
    s_unknown[0] = 7
    val_nan = X[val].copy()
    val_nan[2, 2] = np.nan
    pool_nan = X[pool].copy()
    pool_nan[4, 0] = np.nan
    X_run, y_run, s_run = make_fral_classification(
        n_samples=120, n_features=N_FEATURES, random_state=0
    )
    arrays = dict(
        X=X,
        y=y,
        s=s,
        X_nan=X_nan,
        X_inf=X_inf,
        X_lab=X[lab],
        y_lab=y[lab],
        X_val=X[val],
        y_val=y[val],
        s_val=s[val],
        X_pool=X[pool],
        s_pool=s[pool],
        pool_nan=pool_nan,
        val_nan=val_nan,
        s_pool_unknown=s_unknown,
        X_run=X_run,
        y_run=y_run,
        s_run=s_run,
        X_run_nan=np.where(X_run > 2.5, np.nan, X_run),
    )
    net = _net().fit(X, y)
    learner = ActiveLearner(estimator=_net(), X_training=X[lab], y_training=y[lab])
    return SimpleNamespace(net=net, learner=learner, arrays=arrays)


@pytest.fixture
def env(base, capsys, tmp_path):
    a = base.arrays
    return SimpleNamespace(
        **a,
        arrays=a,
        net=base.net,
        learner=base.learner,
        scratch=copy.deepcopy(base.net),  # a fitted net that fit() may touch
        attack=PGD(eps=0.1, n_steps=2, random_state=0),
        capsys=capsys,
        tmp=tmp_path,
    )


# ---------------------------------------------------------------- helpers
def strategy(e, name, **params):
    cls = STRATEGIES[name]
    kwargs = {"random_state": 0}
    if cls.requires_validation:
        kwargs.update(X_val=e.X_val, y_val=e.y_val, sensitive_features_val=e.s_val)
    if name == "fal":
        kwargs.update(n_candidates=2, refit_epochs=1)
    kwargs.update(params)
    return get_strategy(name, **kwargs)


def query(e, name, X_pool=None, n=2, s_pool=None, learner=None, **params):
    return strategy(e, name, **params)(
        e.learner if learner is None else learner,
        e.X_pool if X_pool is None else X_pool,
        n_instances=n,
        sensitive_features=e.s_pool if s_pool is None else s_pool,
    )


def run(e, datasets=None, strategies=("random",), **overrides):
    kwargs = small_run_settings(
        seeds=1,
        n_rounds=1,
        budget=5,
        initial_size=10,
        val_size=30,
        test_size=30,
        eval_attack=1,
        torch_threads=None,
    )
    kwargs.update(overrides)
    if datasets is None:
        datasets = {"toy": (e.X_run, e.y_run, e.s_run)}
    if not isinstance(strategies, dict):
        strategies = list(strategies)
    return run_fral(datasets, strategies, **kwargs)


CLI_BASE = [
    "run",
    "--datasets",
    "synthetic",
    "--strategies",
    "random",
    "--seeds",
    "1",
    "--rounds",
    "1",
    "--budget",
    "5",
    "--initial-size",
    "20",
    "--val-size",
    "60",
    "--test-size",
    "60",
    "--pool-size",
    "50",
    "--max-epochs",
    "1",
    "--attack-steps",
    "1",
    "--eval-steps",
    "1",
    "--quiet",
]


def flags(**changes):
    """CLI_BASE with ``--flag value`` replaced or appended."""
    argv = list(CLI_BASE)
    for key, value in changes.items():
        flag = "--" + key.replace("_", "-")
        if flag in argv:
            argv[argv.index(flag) + 1] = value
        else:
            argv += [flag, value]
    return argv


def config(e, text):
    path = e.tmp / "config.toml"
    path.write_text(text)
    return ["run", "--config", str(path), "--quiet"]


class CLI:
    """Marker: ``call`` returns argv for ``main``; expect exit != 0, message on stderr."""


@dataclass
class Case:
    name: str
    call: object
    exc: object
    match: str

    def __str__(self):
        return self.name


# ----------------------------------------------------------------- the table
CASES = [
    # ---- nets: data
    Case(
        "net_fit_nan_X",
        lambda e: e.scratch.fit(e.X_nan, e.y),
        ValueError,
        r"X contains NaN or infinity in 1 sample",
    ),
    Case(
        "net_fit_inf_X",
        lambda e: e.scratch.fit(e.X_inf, e.y),
        ValueError,
        r"X contains NaN or infinity",
    ),
    Case(
        "net_fit_1d_X",
        lambda e: e.scratch.fit(e.X[:, 0], e.y),
        ValueError,
        r"X is 1-d with shape \(80,\): expected a 2-d array",
    ),
    Case(
        "net_fit_wrong_n_features",
        lambda e: e.scratch.fit(e.X[:, :2], e.y),
        ValueError,
        r"X with samples of shape \(2,\) does not fit the module MLP",
    ),
    Case(
        "net_fit_empty",
        lambda e: e.scratch.fit(e.X[:0], e.y[:0]),
        ValueError,
        r"X has 0 samples: expected at least 1",
    ),
    Case(
        "net_fit_len_X_ne_len_y",
        lambda e: e.scratch.fit(e.X, e.y[:-1]),
        ValueError,
        r"X has 80 samples, y has 79: expected the same number",
    ),
    Case(
        "net_fit_single_class",
        lambda e: e.scratch.fit(e.X, np.zeros_like(e.y)),
        ValueError,
        r"y contains only one class, \[0\]",
    ),
    Case(
        "net_fit_2d_y",
        lambda e: e.scratch.fit(e.X, np.c_[e.y, e.y]),
        ValueError,
        r"y has shape \(80, 2\): expected a 1-d array",
    ),
    Case(
        "net_partial_fit_unknown_labels",
        lambda e: e.scratch.partial_fit(e.X, e.y + 5),
        ValueError,
        r"y contains labels \[.*\] that the net does not know: expected labels "
        r"among \[0, 1\]",
    ),
    Case(
        "net_predict_nan_X",
        lambda e: e.net.predict(e.X_nan),
        ValueError,
        r"X contains NaN or infinity",
    ),
    Case(
        "net_predict_wrong_n_features",
        lambda e: e.net.predict(e.X[:, :2]),
        ValueError,
        r"X has 2 features, but RobustNeuralNetClassifier is expecting 3",
    ),
    Case(
        "net_predict_unfitted",
        lambda e: _net().predict_proba(e.X),
        NotFittedError,
        r"not initialized",
    ),
    # ---- nets: hyperparameters of the wrong type or value
    Case(
        "net_attack_eps_None",
        lambda e: _net(attack_eps=None).fit(e.X, e.y),
        TypeError,
        r"attack_eps=None has type NoneType: expected a number",
    ),
    Case(
        "net_attack_eps_str",
        lambda e: clone(e.scratch).set_params(attack_eps="0.1").fit(e.X, e.y),
        TypeError,
        r"attack_eps='0.1' has type str: expected a number",
    ),
    Case(
        "net_attack_n_steps_float",
        lambda e: _net(attack_n_steps=2.5).fit(e.X, e.y),
        TypeError,
        r"attack_n_steps=2.5 has type float: expected an integer",
    ),
    Case(
        "net_lr_str_on_fitted_net",
        lambda e: e.scratch.set_params(lr="0.1").fit(e.X, e.y),
        TypeError,
        r"lr='0.1' has type str: expected a number",
    ),
    Case(
        "net_lr_nan",
        lambda e: _net(lr=float("nan")).fit(e.X, e.y),
        ValueError,
        r"lr=nan is invalid: expected a finite number",
    ),
    Case(
        "net_max_epochs_negative",
        lambda e: _net(max_epochs=-1).fit(e.X, e.y),
        ValueError,
        r"max_epochs=-1 is invalid: expected an integer >= 0",
    ),
    Case(
        "net_batch_size_zero",
        lambda e: _net(batch_size=0).fit(e.X, e.y),
        ValueError,
        r"batch_size=0 is invalid: expected a positive integer",
    ),
    Case(
        "net_random_state_float",
        lambda e: _net(random_state=1.5).fit(e.X, e.y),
        TypeError,
        r"random_state=1.5 has type float: expected an integer",
    ),
    Case(
        "net_attack_clip_min_str",
        lambda e: _net(attack_clip_min="a").fit(e.X, e.y),
        TypeError,
        r"attack_clip_min='a' has type str: expected None, a number",
    ),
    Case(
        "net_module_n_features_str",
        lambda e: clone(e.scratch).set_params(module__n_features="3").fit(e.X, e.y),
        TypeError,
        r"n_features='3' has type str: expected an integer",
    ),
    # ---- PGD / FGSM
    Case(
        "pgd_eps_str",
        lambda e: PGD(eps="0.1").perturb(e.net, e.X, e.y),
        TypeError,
        r"eps='0.1' has type str: expected a number",
    ),
    Case(
        "pgd_n_steps_float",
        lambda e: PGD(n_steps=2.5).perturb(e.net, e.X, e.y),
        TypeError,
        r"n_steps=2.5 has type float: expected an integer",
    ),
    Case(
        "pgd_step_size_zero",
        lambda e: PGD(step_size=0).perturb(e.net, e.X, e.y),
        ValueError,
        r"step_size=0 is invalid: expected a finite number > 0",
    ),
    Case(
        "pgd_norm_unknown",
        lambda e: PGD(norm="l1").perturb(e.net, e.X, e.y),
        ValueError,
        r"norm='l1' is not valid: expected one of 'linf', 'l2'",
    ),
    Case(
        "pgd_random_state_str",
        lambda e: PGD(random_state="a").perturb(e.net, e.X, e.y),
        TypeError,
        r"random_state='a' has type str: expected None, an int or a RandomState",
    ),
    Case(
        "pgd_clip_min_wrong_shape",
        lambda e: PGD(clip_min=[0, 0]).perturb(e.net, e.X, e.y),
        ValueError,
        r"clip_min has shape \(2,\), which does not broadcast",
    ),
    Case(
        "pgd_nan_X",
        lambda e: e.attack.perturb(e.net, e.X_nan, e.y),
        ValueError,
        r"X contains NaN or infinity",
    ),
    Case(
        "pgd_wrong_n_features",
        lambda e: e.attack.perturb(e.net, e.X[:, :2], e.y),
        ValueError,
        r"X has 2 features, but RobustNeuralNetClassifier is expecting 3",
    ),
    Case(
        "pgd_empty_X",
        lambda e: e.attack.perturb(e.net, e.X[:0], e.y[:0]),
        ValueError,
        r"X has 0 samples",
    ),
    Case(
        "pgd_len_X_ne_len_y",
        lambda e: e.attack.perturb(e.net, e.X, e.y[:-1]),
        ValueError,
        r"X has 80 samples, y has 79",
    ),
    Case(
        "pgd_unknown_labels",
        lambda e: e.attack.perturb(e.net, e.X, e.y + 2),
        ValueError,
        r"y contains labels \[.*\] that the net was not fitted on",
    ),
    Case(
        "pgd_unfitted_net",
        lambda e: e.attack.perturb(_net(), e.X, e.y),
        NotFittedError,
        r"not fitted",
    ),
    Case(
        "fgsm_eps_str",
        lambda e: FGSM(eps="a").perturb(e.net, e.X, e.y),
        TypeError,
        r"eps='a' has type str: expected a number",
    ),
    # ---- metrics
    Case(
        "report_nan_X",
        lambda e: fairness_report(
            e.net, e.X_nan, e.y, sensitive_features=e.s, attack=e.attack
        ),
        ValueError,
        r"X contains NaN or infinity",
    ),
    Case(
        "report_len_s_ne_len_X",
        lambda e: fairness_report(
            e.net, e.X, e.y, sensitive_features=e.s[:-1], attack=e.attack
        ),
        ValueError,
        r"X has 80 samples, y has 80, sensitive_features has 79",
    ),
    Case(
        "report_len_y_ne_len_X",
        lambda e: fairness_report(
            e.net, e.X, e.y[:-1], sensitive_features=e.s, attack=e.attack
        ),
        ValueError,
        r"X has 80 samples, y has 79",
    ),
    Case(
        "report_groups_missing",
        lambda e: fairness_report(
            e.net, e.X, e.y, sensitive_features=None, attack=e.attack
        ),
        ValueError,
        r"sensitive_features is required",
    ),
    Case(
        "report_groups_with_nan",
        lambda e: fairness_report(
            e.net,
            e.X,
            e.y,
            sensitive_features=np.where(e.s == 1, None, "a"),
            attack=e.attack,
        ),
        ValueError,
        r"sensitive_features contains missing values",
    ),
    Case(
        "report_unused_categorical_group",
        lambda e: fairness_report(
            e.net,
            e.X,
            e.y,
            attack=e.attack,
            sensitive_features=pd.Series(pd.Categorical(e.s, categories=[0, 1, 2])),
        ),
        ValueError,
        r"sensitive_features has categorical level\(s\) 2 with no sample",
    ),
    Case(
        "report_unfitted",
        lambda e: fairness_report(
            _net(), e.X, e.y, sensitive_features=e.s, attack=e.attack
        ),
        NotFittedError,
        r"not fitted",
    ),
    Case(
        "frame_attack_None",
        lambda e: robust_metric_frame(
            e.net, e.X, e.y, sensitive_features=e.s, attack=None
        ),
        TypeError,
        r"attack=None has no perturb\(net, X, y\) method",
    ),
    Case(
        "frame_empty",
        lambda e: robust_metric_frame(
            e.net, e.X[:0], e.y[:0], sensitive_features=e.s[:0], attack=e.attack
        ),
        ValueError,
        r"y is empty: expected at least one sample",
    ),
    Case(
        "worst_group_bad_criterion",
        lambda e: worst_group(
            e.net, e.X, e.y, sensitive_features=e.s, attack=e.attack, criterion="min"
        ),
        ValueError,
        r"criterion='min' is not valid: expected one of 'standard'",
    ),
    Case(
        "group_scores_len_mismatch",
        lambda e: group_scores(e.y, e.y[:-1], e.y, e.s),
        ValueError,
        r"y_true has 80 samples, y_pred_clean has 79",
    ),
    Case(
        "majority_levels_len_mismatch",
        lambda e: majority_class_levels(e.y, e.s[:10]),
        ValueError,
        r"y has 80 samples, sensitive_features has 10",
    ),
    Case(
        "scorer_robust_without_attack",
        lambda e: make_worst_group_scorer("robust"),
        TypeError,
        r"attack=None is not valid for kind='robust'",
    ),
    Case(
        "scorer_without_groups",
        lambda e: make_worst_group_scorer()(e.net, e.X, e.y),
        ValueError,
        r"sensitive_features is required by the worst-group scorer",
    ),
    Case(
        "plot_wrong_type",
        lambda e: plot_group_accuracy("report"),
        TypeError,
        r"report_or_frame of type str is not supported",
    ),
    # ---- strategies, shared inputs
    Case(
        "jin_pool_group_absent_from_val",
        lambda e: query(e, "jin", s_pool=e.s_pool_unknown),
        ValueError,
        r"sensitive_features has group\(s\) \[7\] that are absent from "
        r"sensitive_features_val",
    ),
    Case(
        "worst_group_pool_group_absent_from_val",
        lambda e: query(e, "worst_group", s_pool=e.s_pool_unknown),
        ValueError,
        r"group\(s\) \[7\] that are absent from sensitive_features_val",
    ),
    Case(
        "jin_len_groups_ne_len_pool",
        lambda e: query(e, "jin", s_pool=e.s_pool[:-1]),
        ValueError,
        r"sensitive_features has 34 entries but there are 35 samples",
    ),
    Case(
        "jin_weights_str",
        lambda e: query(e, "jin", weights="a"),
        TypeError,
        r"weights='a' is invalid: expected a pair of numbers",
    ),
    Case(
        "jin_val_nan",
        lambda e: query(e, "jin", X_val=e.val_nan),
        ValueError,
        r"X_val contains NaN or infinity",
    ),
    Case(
        "jin_unfitted_learner",
        lambda e: query(e, "jin", learner=ActiveLearner(estimator=_net())),
        NotFittedError,
        r"not fitted",
    ),
    Case(
        "worst_group_val_unknown_label",
        lambda e: query(e, "worst_group", y_val=e.y_val + 3),
        ValueError,
        r"y_val contains labels \[.*\] that the net was not fitted on",
    ),
    Case(
        "fal_n_candidates_zero",
        lambda e: query(e, "fal", n_candidates=0),
        ValueError,
        r"n_candidates=0 is invalid: expected an integer >= 1",
    ),
    Case(
        "fal_val_wrong_n_features",
        lambda e: query(e, "fal", X_val=e.X_val[:, :2]),
        ValueError,
        r"X_val has 2 features, but the learner's "
        r"RobustNeuralNetClassifier is expecting 3",
    ),
    Case(
        "entropy_random_state_str",
        lambda e: query(e, "entropy", random_state="a"),
        TypeError,
        r"random_state='a' has type str",
    ),
    Case(
        "margin_n_instances_float",
        lambda e: query(e, "margin", n=2.5),
        TypeError,
        r"n_instances=2.5 has type float: expected an integer",
    ),
    Case(
        "badge_unexpected_keyword",
        lambda e: strategy(e, "badge")(e.learner, e.X_pool, 2, foo=1),
        TypeError,
        r"unexpected keyword argument\(s\) \['foo'\]",
    ),
]
# ---- strategies: every one of them on the same four bad inputs
for _name in STRATEGIES:
    CASES += [
        Case(
            f"{_name}_pool_nan",
            lambda e, n=_name: query(e, n, X_pool=e.pool_nan),
            ValueError,
            r"X_pool contains NaN or infinity in 1 sample",
        ),
        Case(
            f"{_name}_pool_wrong_n_features",
            lambda e, n=_name: query(e, n, X_pool=e.X_pool[:, :2]),
            ValueError,
            r"X_pool has 2 features, but the learner's RobustNeuralNetClassifier "
            r"is expecting 3",
        ),
        Case(
            f"{_name}_n_instances_zero",
            lambda e, n=_name: query(e, n, n=0),
            ValueError,
            r"n_instances=0 is invalid: expected an integer >= 1",
        ),
        Case(
            f"{_name}_n_instances_negative",
            lambda e, n=_name: query(e, n, n=-3),
            ValueError,
            r"n_instances=-3 is invalid: expected an integer >= 1",
        ),
        Case(
            f"{_name}_n_instances_above_pool",
            lambda e, n=_name: query(e, n, n=36),
            ValueError,
            r"n_instances=36 is larger than the pool \(35 samples\)",
        ),
        Case(
            f"{_name}_empty_pool",
            lambda e, n=_name: query(e, n, X_pool=e.X_pool[:0], s_pool=e.s_pool[:0]),
            ValueError,
            r"X_pool is empty",
        ),
    ]
CASES += [
    # ---- data sets and the split
    Case(
        "make_fral_n_samples_str",
        lambda e: make_fral_classification(n_samples="50"),
        TypeError,
        r"n_samples='50' has type str: expected an integer",
    ),
    Case(
        "make_fral_random_state_str",
        lambda e: make_fral_classification(random_state="x"),
        TypeError,
        r"random_state='x' has type str",
    ),
    Case(
        "adult_unknown_sensitive",
        lambda e: load_adult(sensitive="gender"),
        ValueError,
        r"sensitive='gender' is not valid: expected one of 'sex'",
    ),
    Case(
        "german_age_threshold_str",
        lambda e: load_german_credit(sensitive="age", age_threshold="25"),
        TypeError,
        r"age_threshold='25' has type str: expected an integer",
    ),
    Case(
        "digits_n_class_float",
        lambda e: load_group_digits(n_class=2.5),
        TypeError,
        r"n_class=2.5 has type float: expected an integer",
    ),
    Case(
        "utkface_path_int",
        lambda e: load_utkface(3),
        TypeError,
        r"path=3 has type int: expected a str or os.PathLike",
    ),
    Case(
        "utkface_size_zero",
        lambda e: load_utkface(e.tmp, size=0),
        ValueError,
        r"size\[0\] \(height\)=0 is invalid",
    ),
    Case(
        "celeba_path_None",
        lambda e: load_celeba(None),
        TypeError,
        r"path=None has type NoneType",
    ),
    Case(
        "split_len_y_ne_len_X",
        lambda e: fral_split(e.X, e.y[:-1], e.s),
        ValueError,
        r"X has 80 samples, y has 79, sensitive has 80",
    ),
    Case(
        "split_len_s_ne_len_X",
        lambda e: fral_split(e.X, e.y, e.s[:-2]),
        ValueError,
        r"X has 80 samples, y has 80, sensitive has 78",
    ),
    Case(
        "split_empty",
        lambda e: fral_split(e.X[:0], e.y[:0], e.s[:0]),
        ValueError,
        r"X has 0 sample\(s\): expected at least 2",
    ),
    Case(
        "split_initial_size_zero",
        lambda e: fral_split(e.X, e.y, e.s, initial_size=0),
        ValueError,
        r"initial_size=0 is invalid: expected an int count in \[1, 80\]",
    ),
    Case(
        "split_initial_size_str",
        lambda e: fral_split(e.X, e.y, e.s, initial_size="5"),
        TypeError,
        r"initial_size='5' has type str: expected an int count or a float fraction",
    ),
    Case(
        "split_no_pool_left",
        lambda e: fral_split(e.X, e.y, e.s, initial_size=4, val_size=0.9),
        ValueError,
        r"leaving no unlabelled pool",
    ),
    Case(
        "split_y_nan",
        lambda e: fral_split(e.X, np.where(e.y == 1, np.nan, 0.0), e.s, initial_size=4),
        ValueError,
        r"y contains missing values",
    ),
    Case(
        "split_random_state_str",
        lambda e: fral_split(e.X, e.y, e.s, initial_size=4, random_state="a"),
        TypeError,
        r"random_state='a' has type str",
    ),
    # ---- runner (every case fails before any training)
    Case(
        "run_n_rounds_zero",
        lambda e: run(e, n_rounds=0),
        ValueError,
        r"n_rounds=0 is invalid: expected an integer >= 1",
    ),
    Case(
        "run_budget_negative",
        lambda e: run(e, budget=-1),
        ValueError,
        r"budget=-1 is invalid: expected an integer >= 1",
    ),
    Case(
        "run_seeds_zero",
        lambda e: run(e, seeds=0),
        ValueError,
        r"seeds=0 is invalid: expected an integer >= 1",
    ),
    Case(
        "run_n_rounds_float",
        lambda e: run(e, n_rounds=1.5),
        TypeError,
        r"n_rounds=1.5 has type float: expected an integer",
    ),
    Case(
        "run_budget_above_pool",
        lambda e: run(e, budget=100),
        ValueError,
        r"n_rounds \* budget = 1 \* 100 = 100 labels exceed the pool",
    ),
    Case(
        "run_data_nan",
        lambda e: run(e, {"toy": (e.X_run_nan, e.y_run, e.s_run)}),
        ValueError,
        r"datasets\['toy'\]: X contains NaN or infinity",
    ),
    Case(
        "run_data_len_mismatch",
        lambda e: run(e, {"toy": (e.X_run, e.y_run[:-1], e.s_run)}),
        ValueError,
        r"X has 120 samples, y has 119, s has 120",
    ),
    Case(
        "run_data_single_class",
        lambda e: run(e, {"toy": (e.X_run, np.zeros_like(e.y_run), e.s_run)}),
        ValueError,
        r"datasets\['toy'\]: y has a single class \[0\]: expected at least 2",
    ),
    Case(
        "run_strategy_bad_setting",
        lambda e: run(e, strategies={"j": ("jin", {"weights": "a"})}),
        TypeError,
        r"weights='a' is invalid",
    ),
    Case(
        "run_fal_n_candidates_zero",
        lambda e: run(e, strategies={"f": ("fal", {"n_candidates": 0})}),
        ValueError,
        r"n_candidates=0 is invalid",
    ),
    Case(
        "run_n_jobs_str",
        lambda e: run(e, n_jobs="2"),
        TypeError,
        r"n_jobs='2' has type str: expected an integer",
    ),
    Case(
        "run_out_dir_int",
        lambda e: run(e, out_dir=3),
        TypeError,
        r"out_dir=3 has type int: expected None or a folder path",
    ),
    Case(
        "run_overwrite_str",
        lambda e: run(e, overwrite="false"),
        TypeError,
        r"overwrite='false': expected True or False",
    ),
    Case(
        "run_no_validation_set",
        lambda e: run(e, val_size=0),
        ValueError,
        r"val_size=0 leaves data set 'toy' without a validation set",
    ),
    Case(
        "run_validation_set_misses_a_group",
        lambda e: run(e, strategies=["jin"], val_size=1),
        ValueError,
        r"val_size=1 gives data set 'toy' a validation set without group",
    ),
    Case(
        "run_eval_attack_zero",
        lambda e: run(e, eval_attack=0),
        ValueError,
        r"eval_attack=0 is invalid: expected an integer >= 1",
    ),
    Case(
        "run_unknown_dataset",
        lambda e: run(e, "adlt"),
        ValueError,
        r"Unknown data set 'adlt' \(did you mean 'adult'\?\)",
    ),
    # ---- command line
    Case(
        "cli_rounds_zero",
        lambda e: flags(rounds="0"),
        CLI,
        r"skfral: error: n_rounds=0 is invalid: expected an integer >= 1",
    ),
    Case(
        "cli_rounds_not_int",
        lambda e: flags(rounds="two"),
        CLI,
        r"argument --rounds: invalid int value: 'two'",
    ),
    Case(
        "cli_seeds_not_number",
        lambda e: flags(seeds="a"),
        CLI,
        r"seeds='a' is invalid: expected a number of seeds",
    ),
    Case(
        "cli_budget_negative",
        lambda e: flags(budget="-1"),
        CLI,
        r"budget=-1 is invalid",
    ),
    Case("cli_n_jobs_zero", lambda e: flags(n_jobs="0"), CLI, r"n_jobs=0 is invalid"),
    Case(
        "cli_lr_nan",
        lambda e: flags(lr="nan"),
        CLI,
        r"lr=nan is invalid: expected a finite number",
    ),
    Case(
        "cli_initial_size_text",
        lambda e: flags(initial_size="a"),
        CLI,
        r"initial_size='a' is not a number",
    ),
    Case(
        "cli_unknown_dataset",
        lambda e: flags(datasets="adlt"),
        CLI,
        r"Unknown data set 'adlt' \(did you mean 'adult'\?\)",
    ),
    Case(
        "cli_config_estimator_params_not_table",
        lambda e: config(e, 'datasets = ["synthetic"]\nestimator_params = 3\n'),
        CLI,
        r"estimator_params=3 has type int: expected a table",
    ),
    Case(
        "cli_config_overwrite_string",
        lambda e: config(e, 'datasets = ["synthetic"]\noverwrite = "false"\n'),
        CLI,
        r"overwrite='false' has type str: expected true or false",
    ),
    Case(
        "cli_config_missing",
        lambda e: ["run", "--config", str(e.tmp / "no.toml")],
        CLI,
        r"config file '.*no\.toml' does not exist",
    ),
    Case(
        "cli_report_missing_folder",
        lambda e: ["report", str(e.tmp / "nothing")],
        CLI,
        r"out_dir='.*nothing' does not exist: expected a run folder",
    ),
]

# Where an error may legitimately be raised from (the raise statement's file).
_OWN = ("skfral", "sklearn", "skorch", "argparse")
_FOREIGN = re.compile(r"[/\\](torch|pandas|numpy|fairlearn)[/\\]")


def _net_state(net):
    state = {"initialized": bool(getattr(net, "initialized_", False))}
    if state["initialized"]:
        state.update(
            module={k: v.clone() for k, v in net.module_.state_dict().items()},
            classes=np.asarray(net.classes_).tolist(),
            n_features=getattr(net, "n_features_in_", None),
            epochs=len(net.history),
        )
    return state


def _same_net_state(a, b):
    assert a.keys() == b.keys()
    for key in a:
        if key == "module":
            assert a[key].keys() == b[key].keys()
            assert all(torch.equal(a[key][k], b[key][k]) for k in a[key])
        else:
            assert a[key] == b[key], key


def _snapshot(e):
    return {
        "arrays": copy.deepcopy(e.arrays),
        "net": _net_state(e.net),
        "scratch": _net_state(e.scratch),
        "learner": _net_state(e.learner.estimator),
        "X_training": np.array(e.learner.X_training, copy=True),
        "y_training": np.array(e.learner.y_training, copy=True),
    }


def _check_unchanged(e, before):
    for key, value in before["arrays"].items():
        np.testing.assert_array_equal(e.arrays[key], value, err_msg=key)
        assert e.arrays[key].dtype == value.dtype
    _same_net_state(before["net"], _net_state(e.net))
    _same_net_state(before["learner"], _net_state(e.learner.estimator))
    np.testing.assert_array_equal(e.learner.X_training, before["X_training"])
    np.testing.assert_array_equal(e.learner.y_training, before["y_training"])
    # the scratch net is a fitted copy that the failing call may have touched
    _same_net_state(before["scratch"], _net_state(e.scratch))


def test_battery_is_large_and_names_are_unique():
    names = [c.name for c in CASES]
    assert len(names) == len(set(names))
    assert len(CASES) >= 40


@pytest.mark.parametrize("case", CASES, ids=str)
def test_bad_input_gives_a_clear_error_and_changes_nothing(case, env):
    before = _snapshot(env)
    if case.exc is CLI:
        env.capsys.readouterr()
        try:
            code = main(case.call(env))
        except SystemExit as exc:  # argparse's own errors
            code = exc.code
        err = env.capsys.readouterr().err
        assert code not in (0, None), err
        assert re.search(case.match, err), err
        # one line "skfral: error: ..." (argparse adds its usage above)
        assert (
            err.strip().splitlines()[-1].startswith(("skfral: error:", "skfral run:"))
        )
    else:
        assert case.exc in (ValueError, TypeError, NotFittedError)
        with pytest.raises(case.exc, match=case.match) as info:
            case.call(env)
        # never a bare exception from the libraries underneath
        origin = str(info.traceback[-1].path)
        assert not _FOREIGN.search(origin), f"raised inside {origin}: {info.value!r}"
        assert any(part in origin for part in _OWN), origin
    _check_unchanged(env, before)


# ----------------------------------------------------- messy input that works
@pytest.mark.slow
def test_string_and_categorical_labels_and_groups_work(base):
    a = base.arrays
    words = np.where(a["y"] == 1, "yes", "no")
    groups = np.where(a["s"] == 1, "f", "m")
    net = _net().fit(a["X"], pd.Series(pd.Categorical(words)))
    assert sorted(net.classes_.tolist()) == ["no", "yes"]
    assert set(net.predict(a["X"]).tolist()) <= {"no", "yes"}
    attack = PGD(eps=0.1, n_steps=2, random_state=0)
    for sf in (groups, pd.Series(pd.Categorical(groups)), pd.Categorical(groups)):
        report = fairness_report(
            net, a["X"], words, sensitive_features=sf, attack=attack
        )
        assert report["worst_group_standard"] in ("f", "m")
        assert report["n_groups"] == 2
    learner = ActiveLearner(
        estimator=_net(), X_training=a["X_lab"], y_training=words[:20]
    )
    for name, cls in STRATEGIES.items():
        params = {"random_state": 0}
        if cls.requires_validation:
            params.update(
                X_val=a["X_val"],
                y_val=words[20:45],
                sensitive_features_val=pd.Categorical(groups[20:45]),
            )
        if name == "fal":
            params.update(n_candidates=2, refit_epochs=1)
        idx, _ = get_strategy(name, **params)(
            learner, a["X_pool"], n_instances=3, sensitive_features=groups[45:]
        )
        assert len(set(idx.tolist())) == 3


def test_split_works_with_nan_features_strings_and_one_class(base):
    """The split never reads X's values: raw tables with missing values split."""
    a = base.arrays
    X = pd.DataFrame(a["X_nan"], columns=["a", "b", "c"])
    labels = np.where(a["y"] == 1, "yes", "no")
    split = fral_split(
        X, labels, np.where(a["s"] == 1, "f", "m"), initial_size=4, random_state=0
    )
    parts = ("initial", "pool", "val", "test")
    assert all(isinstance(split[f"X_{p}"], pd.DataFrame) for p in parts)
    assert sum(int(split[f"X_{p}"].isna().to_numpy().sum()) for p in parts) == 1
    assert set(split.y_initial.tolist()) == {"no", "yes"}
    one = fral_split(a["X"], np.zeros(80, int), a["s"], initial_size=4, random_state=0)
    assert set(one.s_initial.tolist()) == {0, 1}


def test_partial_fit_with_a_class_missing_keeps_every_class(base):
    """A continued fit on a batch without some class keeps the net's classes."""
    a = base.arrays
    net = copy.deepcopy(base.net)
    only_ones = a["y"] == 1
    net.partial_fit(a["X"][only_ones], a["y"][only_ones])
    assert net.classes_.tolist() == [0, 1]
    assert net.predict_proba(a["X"]).shape == (80, 2)


@pytest.mark.slow
def test_runner_accepts_string_labels_and_groups(base):
    a = base.arrays
    labels = np.where(a["y_run"] == 1, "yes", "no")
    groups = np.where(a["s_run"] == 1, "minority", "majority")
    df = run_fral(
        {"toy": (a["X_run"], labels, groups)},
        ["random"],
        **small_run_settings(
            seeds=1,
            n_rounds=1,
            budget=5,
            initial_size=10,
            val_size=30,
            test_size=30,
            eval_attack=1,
            torch_threads=None,
        ),
    )
    assert set(df["worst_group_standard"]) <= {"minority", "majority"}
