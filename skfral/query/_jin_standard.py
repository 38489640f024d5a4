"""JIN's standard model: fitted, warm-started or reused per query; resumable state.

A mixin of :class:`~skfral.query.JINQueryStrategy` (moved from ``_jin.py``
unchanged): the standard model ``I_mod`` compares with the robust one, fitted
on the labelled set of each call, and its :meth:`state_dict` /
:meth:`load_state_dict`.
"""

import math

import joblib
import numpy as np
from sklearn.base import clone
from sklearn.pipeline import Pipeline

from ..nn import final_net, get_net_state, set_net_state
from ._base import take_rows

__all__ = []


def _can_warm_start(model):
    """Only nets that continue training with ``warm_start`` and ``max_epochs``."""
    if model is None:
        return False
    params = final_net(model).get_params(deep=False)
    return "warm_start" in params and "max_epochs" in params


class _StandardModelMixin:
    """Standard-model fitting and resumable state of JIN (see the class docs)."""

    # ------------------------------------------------------- standard model
    def _fit_standard(self, estimator, X_lab, y_lab, *, keep_for_next=False):
        """Fit (or warm-start, or reuse) the standard model on the labelled set.

        ``keep_for_next`` (``utilities``): the next query on the same labelled
        set reuses this model instead of fitting again.
        """
        n = len(y_lab)
        memo = getattr(self, "_standard_memo", None)
        model = getattr(self, "standard_estimator_", None)
        full_hash = joblib.hash((X_lab, y_lab))
        same_source = memo is not None and memo.get("source") in (None, id(estimator))
        if (
            model is not None
            and memo is not None
            and memo.get("reusable")
            and same_source
            and memo["n"] == n
            and memo["hash"] == full_hash
        ):
            memo["reusable"] = keep_for_next
            return model
        warm = False
        if (
            memo is not None
            and _can_warm_start(model)
            and n >= memo["n"]
            and same_source
        ):
            head = joblib.hash(
                (take_rows(X_lab, np.arange(memo["n"])), y_lab[: memo["n"]])
            )
            warm = head == memo["hash"]
        if not warm:
            model = clone(self._standard_template(estimator))
            if self.standard_estimator is None:
                final_net(model).set_params(adversarial=None)
        else:
            epochs = self.warm_start_epochs
            if epochs is None:
                epochs = max(1, math.ceil(final_net(estimator).max_epochs / 3))
            final_net(model).set_params(warm_start=True, max_epochs=epochs)
        model.fit(X_lab, y_lab)
        self.standard_estimator_ = model
        self.n_standard_fits_ = getattr(self, "n_standard_fits_", 0) + 1
        self._standard_memo = {
            "n": n,
            "hash": full_hash,
            "source": id(estimator),
            "reusable": keep_for_next,
        }
        return model

    def _standard_template(self, estimator):
        if self.standard_estimator is not None:
            return self.standard_estimator
        if estimator is None:
            raise ValueError(
                "estimator is required to restore JIN's standard model when "
                "standard_estimator is None: pass the learner's estimator, "
                "load_state_dict(state, estimator=learner.estimator)."
            )
        return estimator

    # ------------------------------------------------------ resumable state
    def state_dict(self):
        """JIN's resumable state: the warm-started standard model and its memo.

        Returns
        -------
        state : dict
            Empty before the first query. Otherwise ``n_fits``, ``memo_n``,
            ``memo_hash``, ``reusable`` and ``standard``: the standard net's
            state (``skfral.nn.get_net_state``: tensors, numbers
            and strings, safe for ``torch.load(weights_only=True)``), or
            ``None`` for a standard model that is not warm-started (it is then
            refitted from scratch after a restore, as it would have been).
        """
        model = getattr(self, "standard_estimator_", None)
        if model is None:
            return {}
        memo = getattr(self, "_standard_memo", None) or {}
        warm = _can_warm_start(model)
        return {
            "standard": get_net_state(model) if warm else None,
            "n_fits": int(getattr(self, "n_standard_fits_", 0)),
            "memo_n": int(memo.get("n", -1)) if warm else -1,
            "memo_hash": str(memo.get("hash", "")) if warm else "",
            "reusable": bool(memo.get("reusable", False)) and warm,
        }

    def load_state_dict(self, state, *, estimator=None):
        """Restore a state from :meth:`state_dict`; the next query continues as before.

        Parameters
        ----------
        state : dict
            As returned by :meth:`state_dict` of a JIN with the same settings
            (an empty dict resets nothing and restores nothing).
        estimator : estimator or None, default=None
            The learner's estimator: the template of the standard model when
            ``standard_estimator`` is None (required then), and the model the
            restored memo belongs to.

        Returns
        -------
        self : JINQueryStrategy
        """
        if not isinstance(state, dict):
            raise TypeError(
                f"state has type {type(state).__name__}: expected the dict returned "
                "by state_dict()."
            )
        if not state:
            return self
        missing = sorted({"standard", "n_fits", "memo_n", "memo_hash"} - set(state))
        if missing:
            raise ValueError(
                f"state lacks the key(s) {missing}: expected a dict returned by "
                "JINQueryStrategy.state_dict()."
            )
        self.n_standard_fits_ = int(state["n_fits"])
        if state["standard"] is None:
            return self
        model = clone(self._standard_template(estimator))
        if self.standard_estimator is None:
            final_net(model).set_params(adversarial=None)
        set_net_state(model, state["standard"])
        self.standard_estimator_ = model
        if state["memo_n"] >= 0:
            # A restored Pipeline has unfitted steps before its net: it is
            # warm-started (refitting those steps), never reused as it is.
            reusable = bool(state.get("reusable", False))
            self._standard_memo = {
                "n": int(state["memo_n"]),
                "hash": str(state["memo_hash"]),
                "source": None if estimator is None else id(estimator),
                "reusable": reusable and not isinstance(model, Pipeline),
            }
        return self
