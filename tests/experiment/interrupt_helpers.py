"""Helpers of ``test_interrupt.py`` that worker processes must import by name."""

import os
import signal

from skorch.callbacks import Callback

from skfral.nn import PGD


class SignalOnce(Callback):
    """Send ``signum`` to this process once, in the first epoch of a chosen fit.

    The fit is the first one on ``n_train`` samples (one round of a cell) in
    any process: the first process to get there creates ``marker`` (an
    exclusive create, so exactly one process fires), then signals itself at
    the end of the first epoch, inside skorch's fit loop (which catches
    KeyboardInterrupt and returns a half-trained net).
    """

    def __init__(self, marker, n_train, signum=int(signal.SIGINT)):
        self.marker = marker
        self.n_train = n_train
        self.signum = signum

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        self.armed_ = X is not None and len(X) == self.n_train and _claim(self.marker)

    def on_epoch_end(self, net, **kwargs):
        if getattr(self, "armed_", False):
            self.armed_ = False
            os.kill(os.getpid(), self.signum)


def _claim(marker):
    """Create ``marker``; False if it exists (another process fired)."""
    try:
        fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return False
    os.close(fd)
    return True


class SignalingPGD(PGD):
    """PGD that signals its process once, after the attack seeded ``fire_seed``.

    ``run_fral`` seeds the evaluation attack of round ``r`` of seed ``k`` with
    ``derive_seed(k, r, "eval")``: the signal lands in the middle of that
    round's evaluation (after the test set's attack, before the validation
    set's), in whichever process evaluates it first.
    """

    def __init__(
        self,
        eps=0.1,
        step_size=None,
        n_steps=2,
        norm="linf",
        random_start=True,
        clip_min=None,
        clip_max=None,
        batch_size=512,
        random_state=None,
        marker=None,
        fire_seed=None,
        signum=int(signal.SIGINT),
    ):
        super().__init__(
            eps=eps,
            step_size=step_size,
            n_steps=n_steps,
            norm=norm,
            random_start=random_start,
            clip_min=clip_min,
            clip_max=clip_max,
            batch_size=batch_size,
            random_state=random_state,
        )
        self.marker = marker
        self.fire_seed = fire_seed
        self.signum = signum

    def perturb(self, net, X, y):
        X_adv = super().perturb(net, X, y)
        if self.random_state == self.fire_seed and _claim(self.marker):
            os.kill(os.getpid(), self.signum)
        return X_adv
