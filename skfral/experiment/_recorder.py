"""``FRALRecorder``: the results table of :func:`run_fral`, from a user's own loop."""

import time
from numbers import Integral

import numpy as np
import pandas as pd

from ..utils._validation import check_int
from ._columns import RESULT_COLUMNS, floor_row, report_row
from ._settings import derive_seed, eval_attack_for, seeded

__all__ = ["FRALRecorder"]


def _check_name(value, name):
    if not isinstance(value, str) or not value:
        raise TypeError(
            f"{name}={value!r} has type {type(value).__name__}: expected a non-empty "
            "string."
        )
    return value


def _check_seconds(value, name):
    if value is None:
        return np.nan
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise TypeError(
            f"{name}={value!r} has type {type(value).__name__}: expected seconds "
            "(a number) or None."
        ) from None
    if not np.isnan(value) and (value < 0 or not np.isfinite(value)):
        raise ValueError(f"{name}={value!r} is invalid: expected seconds >= 0.")
    return value


class FRALRecorder:
    """Record a user's own active-learning loop as :func:`run_fral`'s table.

    Call :meth:`record` once per round, after the model was fitted on the
    labelled set: it evaluates the model on the test set (and on a
    validation set when given) with :func:`skfral.metrics.fairness_report`,
    clean and under attack, and stores one row with exactly the columns of
    :func:`~skfral.experiment.run_fral`'s results
    (:data:`~skfral.experiment.RESULT_COLUMNS`). :meth:`to_frame` returns the
    table that :func:`~skfral.experiment.plot_learning_curves`,
    :func:`~skfral.experiment.summarize`,
    :func:`~skfral.experiment.paired_comparisons` and
    :func:`~skfral.experiment.write_report` (``skfral report``) read;
    concatenate the tables of several recorders (strategies, seeds) with
    :func:`pandas.concat`.

    Parameters
    ----------
    strategy : str
        The label of the strategy in the table (e.g. ``"jin"``).
    seed : int, default=0
        The seed of this run: rows with the same seed are paired across
        strategies in the summaries, so give every strategy the same seeds
        (and the same splits per seed). It also seeds the evaluation attack
        of every round as :func:`run_fral` does
        (``derive_seed(seed, round, "eval")``).
    dataset : str, default="data"
        The label of the data set in the table.
    base_strategy : str or None, default=None
        The ``base_strategy`` column (the strategy's registry name, e.g.
        ``"jin"`` for a variant labelled ``"jin_kl"``); ``None``: ``strategy``.

    Attributes
    ----------
    rows_ : list of dict
        The rows recorded so far, in order.

    See Also
    --------
    run_fral : The same table from a grid of data sets, strategies and seeds.
    plot_learning_curves : Learning curves of the table.

    Examples
    --------
    >>> import numpy as np
    >>> from skfral.experiment import FRALRecorder
    >>> from skfral.nn import MLP, PGD, RobustNeuralNetClassifier
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(60, 4).astype("float32")
    >>> y = (X[:, 0] > 0).astype(int)
    >>> s = np.where(X[:, 1] > 0, "a", "b")
    >>> net = RobustNeuralNetClassifier(MLP, module__n_features=4, max_epochs=2,
    ...                                 attack_n_steps=2, random_state=0)
    >>> recorder = FRALRecorder(strategy="random", seed=0)
    >>> for n in (20, 30):
    ...     _ = net.fit(X[:n], y[:n])
    ...     _ = recorder.record(net, X[40:], y[40:], sensitive_features=s[40:],
    ...                         n_labels=n, y_labelled=y[:n],
    ...                         attack=PGD(eps=0.1, n_steps=3))
    >>> df = recorder.to_frame()
    >>> df[["strategy", "seed", "round", "n_labels"]].values.tolist()
    [['random', 0, 0, 20], ['random', 0, 1, 30]]
    >>> bool(df["floor_accuracy"].notna().all())
    True
    """

    def __init__(self, strategy, seed=0, dataset="data", *, base_strategy=None):
        self.strategy = _check_name(strategy, "strategy")
        self.seed = check_int(seed, "seed", min_value=0)
        self.dataset = _check_name(dataset, "dataset")
        self.base_strategy = (
            self.strategy
            if base_strategy is None
            else _check_name(base_strategy, "base_strategy")
        )
        self.rows_ = []

    def __len__(self):
        return len(self.rows_)

    def __repr__(self):
        return (
            f"FRALRecorder(strategy={self.strategy!r}, seed={self.seed}, "
            f"dataset={self.dataset!r}; {len(self.rows_)} round(s) recorded)"
        )

    def record(
        self,
        estimator,
        X_test,
        y_test,
        *,
        sensitive_features,
        n_labels,
        attack=None,
        X_val=None,
        y_val=None,
        sensitive_features_val=None,
        y_labelled=None,
        round=None,
        n_queried=None,
        n_pool=None,
        query_seconds=None,
        train_seconds=None,
    ):
        """Evaluate the fitted model of one round and store its row.

        Parameters
        ----------
        estimator : fitted RobustNeuralNetClassifier or Pipeline ending in one
            The model of this round, fitted on the labelled set.
        X_test : array-like of shape (n_test, ...)
            Test inputs.
        y_test : array-like of shape (n_test,)
            Test labels (the attack uses them).
        sensitive_features : array-like of shape (n_test,) or (n_test, k)
            Group of every test sample.
        n_labels : int
            Labels used so far (the size of the labelled set): the x axis of
            the learning curves.
        attack : object with ``perturb(net, X, y)`` or None, default=None
            The evaluation attack (cloned and seeded per round when it has a
            ``random_state``). ``None``: :func:`run_fral`'s default, PGD with
            the net's training settings and ``max(20, attack_n_steps)`` steps
            (:func:`skfral.nn.attack_from_net`).
        X_val : array-like of shape (n_val, ...) or None, default=None
            Validation inputs: fills the ``val_*`` columns (what defaults are
            chosen on); ``None`` leaves them NaN.
        y_val : array-like of shape (n_val,) or None, default=None
            Validation labels; required with ``X_val``.
        sensitive_features_val : array-like of shape (n_val,) or (n_val, k) or \
None, default=None
            Validation groups; required with ``X_val``.
        y_labelled : array-like of shape (n_labels,) or None, default=None
            The labels the model was fitted on: fills the majority floor
            columns (``floor_accuracy``, ``floor_worst_group_accuracy``,
            ``floor_balanced_accuracy``: predicting the labelled set's
            majority class for every test sample,
            :func:`skfral.metrics.majority_floor`) that ``skfral report``,
            the summaries and the curves show beside the strategies, and
            that the warning about models no better than a constant
            (:class:`~skfral.experiment.TrivialModelWarning`) compares with;
            ``None`` leaves them NaN. Its length must be ``n_labels``.
        round : int or None, default=None
            The round number; ``None``: the next one (0 for the first call).
            Rounds must increase.
        n_queried : int or None, default=None
            Labels queried so far (``n_labels`` minus the initial set);
            ``None``: ``n_labels`` minus the first round's ``n_labels``.
        n_pool : int or None, default=None
            Size of the unlabelled pool left; ``None`` leaves it NaN.
        query_seconds : float or None, default=None
            Seconds of this round's query (NaN at round 0).
        train_seconds : float or None, default=None
            Seconds of this round's fit.

        Returns
        -------
        row : dict
            The stored row (one value per column of
            :data:`~skfral.experiment.RESULT_COLUMNS`).
        """
        from ..metrics import fairness_report
        from ..nn import final_net

        if round is None:
            round = self.rows_[-1]["round"] + 1 if self.rows_ else 0
        round = check_int(round, "round", min_value=0)
        if self.rows_ and round <= self.rows_[-1]["round"]:
            raise ValueError(
                f"round={round} is invalid: round {self.rows_[-1]['round']} is "
                "already recorded; expected a later round (or round=None for the "
                "next one)."
            )
        n_labels = check_int(n_labels, "n_labels", min_value=0)
        if n_queried is None:
            n_queried = n_labels - self.rows_[0]["n_labels"] if self.rows_ else 0
        n_queried = check_int(n_queried, "n_queried", min_value=0)
        if n_pool is not None:
            n_pool = check_int(n_pool, "n_pool", min_value=0)
        query_seconds = _check_seconds(query_seconds, "query_seconds")
        train_seconds = _check_seconds(train_seconds, "train_seconds")
        given = [v is not None for v in (X_val, y_val, sensitive_features_val)]
        if any(given) and not all(given):
            raise ValueError(
                "X_val, y_val and sensitive_features_val go together: got "
                f"X_val={'set' if given[0] else None}, "
                f"y_val={'set' if given[1] else None}, "
                f"sensitive_features_val={'set' if given[2] else None}; pass all "
                "three or none."
            )

        if y_labelled is not None:
            y_labelled = np.asarray(y_labelled)
            if y_labelled.ndim != 1 or len(y_labelled) != n_labels:
                raise ValueError(
                    f"y_labelled has shape {y_labelled.shape}: expected the "
                    f"n_labels={n_labels} labels the model was fitted on, one "
                    "dimension."
                )

        if attack is not None and not callable(getattr(attack, "perturb", None)):
            raise TypeError(
                f"attack={attack!r} has type {type(attack).__name__}: expected "
                "None or an attack with perturb(net, X, y), e.g. "
                "skfral.nn.PGD(eps=0.1, n_steps=20)."
            )
        if attack is None or hasattr(attack, "get_params"):
            # run_fral's evaluation attack: PGD-20 from the net by default,
            # seeded per (seed, round)
            template = eval_attack_for(final_net(estimator), attack)
            attack = seeded(template, derive_seed(self.seed, round, "eval"))

        t0 = time.perf_counter()
        report = fairness_report(
            estimator,
            X_test,
            y_test,
            sensitive_features=sensitive_features,
            attack=attack,
        )
        val_report = None
        if all(given):
            val_report = fairness_report(
                estimator,
                X_val,
                y_val,
                sensitive_features=sensitive_features_val,
                attack=attack,
            )
        eval_seconds = time.perf_counter() - t0

        row = dict.fromkeys(RESULT_COLUMNS, np.nan)
        row.update(
            dataset=self.dataset,
            strategy=self.strategy,
            base_strategy=self.base_strategy,
            seed=self.seed,
            round=round,
            n_labels=n_labels,
            n_queried=n_queried,
            n_pool=np.nan if n_pool is None else n_pool,
            query_seconds=query_seconds,
            train_seconds=train_seconds,
            eval_seconds=eval_seconds,
        )
        metrics = report_row(report, {} if val_report is None else val_report)
        if y_labelled is not None:
            metrics.update(floor_row(y_labelled, y_test, sensitive_features))
        row.update({key: _plain(value) for key, value in metrics.items()})
        self.rows_.append(row)
        return dict(row)

    def to_frame(self):
        """The recorded rows as :func:`run_fral`'s table.

        Returns
        -------
        results : pandas.DataFrame
            One row per recorded round, columns
            :data:`~skfral.experiment.RESULT_COLUMNS` in that order (empty,
            with those columns, before the first :meth:`record`).
        """
        return pd.DataFrame(self.rows_, columns=list(RESULT_COLUMNS))


def _plain(value):
    """A numpy scalar as a Python number (NaN for None)."""
    if value is None:
        return np.nan
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Integral):
        return int(value)
    return value
