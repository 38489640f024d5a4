"""The majority floor (issue 24 item 3): known answers by hand and by a loop."""

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import balanced_accuracy_score

from skfral.metrics import FLOOR_NAMES, majority_class_levels, majority_floor


def test_floor_by_hand():
    # labelled majority: 1 (two of three); test: a = [1, 0, 1], b = [1, 0, 0]
    floor = majority_floor(
        [1, 1, 0], [1, 0, 1, 1, 0, 0], ["a", "a", "a", "b", "b", "b"]
    )
    assert tuple(floor) == FLOOR_NAMES
    assert floor["floor_accuracy"] == pytest.approx(3 / 6)
    assert floor["floor_worst_group_accuracy"] == pytest.approx(1 / 3)  # group b
    assert floor["floor_balanced_accuracy"] == pytest.approx(1 / 2)


def test_floor_uses_the_labelled_majority_not_the_test_one():
    # labelled set says class 0; the test set is mostly class 1
    floor = majority_floor([0, 0, 1], [1, 1, 1, 0], ["a", "a", "b", "b"])
    assert floor["floor_accuracy"] == pytest.approx(0.25)
    assert floor["floor_worst_group_accuracy"] == pytest.approx(0.0)  # group a
    # the oracle level (each group's own test majority) is higher everywhere
    assert majority_class_levels([1, 1, 1, 0], ["a", "a", "b", "b"]).min() == 0.5


def test_floor_against_a_brute_force_loop_with_intersections():
    rng = np.random.default_rng(0)
    y_lab = rng.integers(0, 3, 40)
    y = rng.integers(0, 3, 300)
    sf = pd.DataFrame(
        {"sex": rng.choice(["f", "m"], 300), "age": rng.integers(0, 3, 300)}
    )
    floor = majority_floor(y_lab, y, sf)
    counts = [np.sum(y_lab == c) for c in range(3)]
    c = int(np.argmax(counts))  # ties: the smallest label, as np.argmax
    worst = 1.0
    for sex in ("f", "m"):
        for age in range(3):
            mask = (sf["sex"] == sex).to_numpy() & (sf["age"] == age).to_numpy()
            if mask.any():
                worst = min(worst, float(np.mean(y[mask] == c)))
    assert floor["floor_accuracy"] == pytest.approx(np.mean(y == c))
    assert floor["floor_worst_group_accuracy"] == pytest.approx(worst)
    ref = balanced_accuracy_score(y, np.full(300, c))
    assert floor["floor_balanced_accuracy"] == pytest.approx(ref)
    assert ref == pytest.approx(1 / 3)


def test_ties_in_the_labelled_set_take_the_smallest_label():
    floor = majority_floor(["b", "a"], ["a", "b", "b"], [0, 0, 0])
    assert floor["floor_accuracy"] == pytest.approx(1 / 3)  # predicts "a"


def test_bad_inputs_name_the_argument():
    with pytest.raises(ValueError, match="y_labelled is empty"):
        majority_floor([], [0, 1], ["a", "b"])
    with pytest.raises(ValueError, match="sensitive_features"):
        majority_floor([0], [0, 1], ["a"])
