"""Shared fixtures for the skfral.metrics tests."""

import functools

import pytest
import torch

from .metrics_helpers import fit_clean_net, make_data


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    """Tiny models run faster on one thread, and the test machine is shared."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@functools.cache
def _clean_fit(n, max_epochs, seed=0):
    X, y, group = make_data(n, seed)
    return (X, y, group), fit_clean_net(X, y, max_epochs=max_epochs)


@pytest.fixture(scope="session")
def clean_fit():
    """``clean_fit(n, max_epochs) -> ((X, y, group), net)``: the metrics tests'
    small data and a seeded clean net fitted on it, built once per session.

    Treat the arrays and the net as read-only: other tests share them.
    """
    return _clean_fit
