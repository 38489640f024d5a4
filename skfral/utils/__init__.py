"""Validation, discovery and messages shared across skfral."""

from ._validation import (
    check_finite_array,
    check_int,
    check_option,
    check_real,
    check_same_length,
    check_sensitive_features,
    num_samples,
)

__all__ = [
    "check_finite_array",
    "check_int",
    "check_option",
    "check_real",
    "check_same_length",
    "check_sensitive_features",
    "num_samples",
]
