"""Torch and skorch live here, and only here.

Adversarial attacks (:class:`PGD`, :class:`FGSM`, :class:`APGD`), adversarially trained skorch
classifiers (:class:`RobustNeuralNetClassifier`: PGD-AT, TRADES) and ready
modules (:class:`MLP`, :class:`SmallCNN`); the training state of a net
(:func:`get_net_state`, :func:`save_checkpoint`, ...) for exact resumes.
"""

from ._apgd_maths import apgd_attack, dlr_loss
from ._attack_maths import pgd_attack, trades_attack
from ._attacks import APGD, FGSM, PGD, attack_from_net
from ._checkpoint import (
    get_net_state,
    load_checkpoint,
    save_checkpoint,
    set_net_state,
    set_torch_threads,
)
from ._introspect import (
    final_net,
    gradient_embedding,
    penultimate_embedding,
    split_estimator,
)
from ._labels import encode_labels
from ._model_file import ModelFileError, ModelVersionWarning, load_model, save_model
from ._modules import MLP, SmallCNN
from ._net import InputScaleWarning, RobustNeuralNetClassifier
from ._resnet import ResNet18

__all__ = [
    "APGD",
    "FGSM",
    "InputScaleWarning",
    "MLP",
    "ModelFileError",
    "ModelVersionWarning",
    "PGD",
    "ResNet18",
    "RobustNeuralNetClassifier",
    "SmallCNN",
    "apgd_attack",
    "attack_from_net",
    "dlr_loss",
    "encode_labels",
    "final_net",
    "get_net_state",
    "gradient_embedding",
    "load_checkpoint",
    "load_model",
    "penultimate_embedding",
    "pgd_attack",
    "save_checkpoint",
    "save_model",
    "set_net_state",
    "set_torch_threads",
    "split_estimator",
    "trades_attack",
]
