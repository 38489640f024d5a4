"""Torch and skorch live here, and only here.

Adversarial attacks (:class:`PGD`, :class:`FGSM`, :class:`APGD`), adversarially trained skorch
classifiers (:class:`RobustNeuralNetClassifier`: PGD-AT, TRADES) and ready
modules (:class:`MLP`, :class:`SmallCNN`).
"""

from ._attacks import (
    APGD,
    FGSM,
    PGD,
    apgd_attack,
    attack_from_net,
    dlr_loss,
    pgd_attack,
    trades_attack,
)
from ._checkpoint import get_net_state, set_net_state  # noqa: F401 (internal, not in __all__)
from ._introspect import (
    final_net,
    gradient_embedding,
    penultimate_embedding,
    split_estimator,
)
from ._labels import encode_labels
from ._modules import MLP, SmallCNN
from ._net import InputScaleWarning, RobustNeuralNetClassifier
from ._resnet import ResNet18

__all__ = [
    "APGD",
    "FGSM",
    "InputScaleWarning",
    "MLP",
    "PGD",
    "ResNet18",
    "RobustNeuralNetClassifier",
    "SmallCNN",
    "apgd_attack",
    "attack_from_net",
    "dlr_loss",
    "encode_labels",
    "final_net",
    "gradient_embedding",
    "penultimate_embedding",
    "pgd_attack",
    "split_estimator",
    "trades_attack",
]
