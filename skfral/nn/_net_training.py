"""The training step of :class:`~skfral.nn.RobustNeuralNetClassifier`.

The net's random streams, skorch's training callbacks, the adversarial training
step (PGD-AT, TRADES) and the attack it trains on. Moved out of ``_net.py`` as
they were (issue 27).
"""

import contextlib

import numpy as np
import torch
import torch.nn.functional as F
from skorch.dataset import unpack_data
from skorch.utils import to_tensor

from ._attack_checks import _as_bound, check_clip_range
from ._attack_maths import pgd_attack, trades_attack
from ._data import augment_batch, autocast, is_lazy_array
from ._skorch_plumbing import _forward_and_loss, eval_mode


class _NetTraining:
    """Random streams and the training step (a mixin of RobustNeuralNetClassifier)."""

    def initialize(self):
        """Initialise the module, criterion, optimizer and the net's random stream.

        Returns
        -------
        self
        """
        # Settings first: skorch builds the optimizer with lr before any fit check.
        with self._settings_scope():
            if self.random_state is None:
                self._rng = None
            elif isinstance(self.random_state, np.random.RandomState):
                self._rng = self.random_state
            else:
                self._rng = np.random.RandomState(int(self.random_state))
            self._torch_rng_state = None
            self.__dict__.pop("n_features_in_", None)  # a fresh net knows no data yet
            return super().initialize()

    def _draw_seed(self):
        rng = getattr(self, "_rng", None)
        return None if rng is None else int(rng.randint(0, 2**31 - 1))

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        """Seed the training attack, shuffling, dropout and augmentation streams.

        Parameters
        ----------
        net : RobustNeuralNetClassifier
            This net (skorch's callback signature).
        X, y : array-like or None, default=None
            The training data.
        **kwargs
            Ignored.
        """
        super().on_train_begin(net, X=X, y=y, **kwargs)
        settings = self._current_settings()
        self._grad_scaler = None
        if settings.amp_dtype is torch.float16:
            self._grad_scaler = torch.amp.GradScaler(torch.device(self.device).type)
        seed = self._draw_seed()
        self._attack_generator = torch.Generator()
        self._augment_generator = None
        if seed is None:
            self._attack_generator.seed()
            self._torch_rng_state = None
            if self.augment is not None:
                self._augment_generator = torch.Generator()
                self._augment_generator.seed()
            return
        self._attack_generator.manual_seed(seed)
        self._torch_rng_state = (
            torch.Generator().manual_seed(self._draw_seed()).get_state()
        )
        if self.augment is not None:
            self._augment_generator = torch.Generator().manual_seed(self._draw_seed())

    @contextlib.contextmanager
    def _private_torch_rng(self):
        """Run under the net's own torch RNG state (shuffling, dropout), then put
        the global state back, even when training raises."""
        state = getattr(self, "_torch_rng_state", None)
        if state is None:
            yield
            return
        with torch.random.fork_rng(devices=[]):
            torch.set_rng_state(state)
            try:
                yield
            finally:
                self._torch_rng_state = torch.get_rng_state()

    def on_train_end(self, net, X=None, y=None, **kwargs):
        """Drop the last step's weight gradients (memory; attacks start clean).

        Parameters
        ----------
        net : RobustNeuralNetClassifier
            This net (skorch's callback signature).
        X, y : array-like or None, default=None
            The training data.
        **kwargs
            Ignored.
        """
        super().on_train_end(net, X=X, y=y, **kwargs)
        module = getattr(self, "module_", None)
        if isinstance(module, torch.nn.Module):
            module.zero_grad(set_to_none=True)
        self._grad_scaler = None

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        """One pass over ``iterator`` under the net's private torch RNG state.

        Parameters
        ----------
        iterator : iterable of batches or None
            The batches (``None``: skip).
        training : bool
            Training (True) or validation pass.
        prefix : str
            History key prefix (``"train"`` / ``"valid"``).
        step_fn : callable
            Called on each batch.
        **fit_params
            Passed to ``step_fn``.
        """
        with self._private_torch_rng():
            return super().run_single_epoch(
                iterator, training, prefix, step_fn, **fit_params
            )

    def train_step_single(self, batch, **fit_params):
        """One optimisation step: standard, PGD-AT or TRADES, on one batch.

        The batch is moved to the device, augmented (``augment``), attacked
        (``adversarial``) and the loss back-propagated, under the net's
        ``amp_dtype`` autocast.

        Parameters
        ----------
        batch : tuple
            ``(X_batch, y_batch)`` from the training iterator.
        **fit_params
            Passed to the module's ``forward``.

        Returns
        -------
        dict
            ``{"loss": loss, "y_pred": logits}``.
        """
        settings = self._current_settings()
        self._set_training(True)
        Xi, yi = unpack_data(batch)
        x = to_tensor(Xi, device=self.device)
        needs_tensor = self.adversarial is not None or self.augment is not None
        if not torch.is_tensor(x):
            if needs_tensor:
                what = (
                    f"adversarial={self.adversarial!r}"
                    if self.adversarial is not None
                    else f"augment={self.augment!r}"
                )
                raise TypeError(
                    f"{what} needs a single tensor input per batch, got "
                    f"{type(Xi).__name__}: pass X as one array."
                )
        else:
            x = self._to_device(x) if needs_tensor or self.channels_last else x
            if self.augment is not None:
                x = augment_batch(
                    x,
                    self.augment,
                    int(self.augment_padding),
                    getattr(self, "_augment_generator", None),
                )
        with autocast(self.device, settings.amp_dtype):
            if self.adversarial is None:
                y_pred = self.infer(x, **fit_params)
                loss = self.get_loss(y_pred, yi, X=x, training=True)
            else:
                y = to_tensor(yi, device=self.device)
                x_adv = self._training_attack(x, y, settings)
                if self.adversarial == "pgd":
                    y_pred = self.infer(x_adv, **fit_params)
                    loss = self.get_loss(y_pred, y, X=x_adv, training=True)
                else:
                    y_pred = self.infer(x, **fit_params)
                    logits_adv = self.infer(x_adv, **fit_params)
                    robust = F.kl_div(
                        F.log_softmax(logits_adv.float(), dim=1),
                        F.softmax(y_pred.float(), dim=1),
                        reduction="batchmean",
                    )
                    loss = (
                        self.get_loss(y_pred, y, X=x, training=True)
                        + float(self.trades_beta) * robust
                    )
        scaler = getattr(self, "_grad_scaler", None)
        (loss if scaler is None else scaler.scale(loss)).backward()
        return {"loss": loss, "y_pred": y_pred}

    def _training_attack(self, x, y, settings):
        """PGD or TRADES examples of the batch ``x`` (module in eval mode)."""
        shape = tuple(x.shape[1:])
        lo = _as_bound(self.attack_clip_min, "attack_clip_min", shape)
        hi = _as_bound(self.attack_clip_max, "attack_clip_max", shape)
        if (lo is not None or hi is not None) and is_lazy_array(
            self.__dict__.get("_fit_data")
        ):
            # an in-memory X was checked whole at fit; a lazy one batch by batch
            check_clip_range(
                x.detach().cpu().numpy(),
                lo,
                hi,
                names=("attack_clip_min", "attack_clip_max"),
            )
        lo = None if lo is None else lo.to(x.device)
        hi = None if hi is None else hi.to(x.device)
        gen = getattr(self, "_attack_generator", None)
        forward, loss_fn = _forward_and_loss(self, y)
        kwargs = {
            "eps": settings.eps,
            "step_size": settings.step,
            "n_steps": settings.n_steps,
            "norm": self.attack_norm,
            "clip_min": lo,
            "clip_max": hi,
            "generator": gen,
        }
        with eval_mode(self):
            try:
                if self.adversarial == "pgd":
                    return pgd_attack(forward, loss_fn, x, random_start=True, **kwargs)
                with torch.no_grad():
                    logits_clean = self.infer(x)
                return trades_attack(forward, x, logits_clean, **kwargs)
            except RuntimeError:
                if forward is self.module_:
                    with torch.no_grad():
                        self.infer(x)  # the net's own message for a misfit X
                raise

    def _step_optimizer(self, step_fn):
        scaler = getattr(self, "_grad_scaler", None)
        if scaler is None:
            return super()._step_optimizer(step_fn)
        step_fn()  # float16: scaled backward, unscaled step, scale update
        for name in self._optimizers:
            scaler.step(getattr(self, name + "_"))
        scaler.update()
        return None
