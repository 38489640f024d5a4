"""Helpers of ``test_interrupt.py`` that worker processes must import by name."""

import os
import signal

from skorch.callbacks import Callback


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
        self.armed_ = False
        if X is None or len(X) != self.n_train:
            return
        try:
            fd = os.open(self.marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            return
        os.close(fd)
        self.armed_ = True

    def on_epoch_end(self, net, **kwargs):
        if getattr(self, "armed_", False):
            self.armed_ = False
            os.kill(os.getpid(), self.signum)
