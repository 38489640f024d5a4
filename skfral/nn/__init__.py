"""Torch and skorch live here, and only here.

Adversarial attacks (:class:`PGD`, :class:`FGSM`), adversarially trained skorch
classifiers (:class:`RobustNeuralNetClassifier`: PGD-AT, TRADES) and ready
modules (:class:`MLP`, :class:`SmallCNN`).
"""

from ._attacks import FGSM, PGD, attack_from_net, pgd_attack, trades_attack
from ._introspect import (
    final_net,
    gradient_embedding,
    penultimate_embedding,
    split_estimator,
)
from ._modules import MLP, SmallCNN
from ._net import RobustNeuralNetClassifier

__all__ = [
    "FGSM",
    "MLP",
    "PGD",
    "RobustNeuralNetClassifier",
    "SmallCNN",
    "attack_from_net",
    "final_net",
    "gradient_embedding",
    "penultimate_embedding",
    "pgd_attack",
    "split_estimator",
    "trades_attack",
]
