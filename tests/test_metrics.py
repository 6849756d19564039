"""Accuracy and the confusion matrix: hand cases, properties, errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from nnmath.metrics import (
    accuracy,
    confusion_matrix,
    most_confused_pairs,
    per_class_accuracy,
)


def test_accuracy_by_hand():
    assert accuracy(np.array([1, 2, 3, 4]), np.array([1, 0, 3, 4])) == 0.75
    assert np.isnan(accuracy(np.array([], dtype=int), np.array([], dtype=int)))
    with pytest.raises(ValueError, match=r"got \(3,\) and \(2,\)"):
        accuracy(np.array([1, 2, 3]), np.array([1, 2]))
    with pytest.raises(TypeError, match="y_pred: expected integer class labels"):
        accuracy(np.array([1, 2]), np.array([1.0, 2.0]))


@pytest.mark.equation("eq-confusion")
def test_confusion_matrix_by_hand():
    y_true = np.array([0, 0, 1, 2, 2, 2])
    y_pred = np.array([0, 1, 1, 2, 0, 2])
    expected = [
        [1, 1, 0],  # two 0s: one right, one taken for a 1
        [0, 1, 0],
        [1, 0, 2],  # three 2s: one taken for a 0
    ]
    cm = confusion_matrix(y_true, y_pred, n=3)
    np.testing.assert_array_equal(cm, expected)
    assert cm.dtype == np.int64
    assert confusion_matrix(y_true, y_pred).shape == (10, 10)
    assert confusion_matrix(y_true, y_pred)[:3, :3].tolist() == expected


@pytest.mark.equation("eq-confusion")
@given(st.lists(st.tuples(st.integers(0, 4), st.integers(0, 4)), max_size=60))
def test_confusion_matrix_counts_every_pair(pairs):
    y_true = np.array([p[0] for p in pairs], dtype=np.int64)
    y_pred = np.array([p[1] for p in pairs], dtype=np.int64)
    cm = confusion_matrix(y_true, y_pred, n=5)
    loop = np.zeros((5, 5), dtype=np.int64)
    for j, k in pairs:  # the definition, one example at a time
        loop[j, k] += 1
    np.testing.assert_array_equal(cm, loop)
    assert cm.sum() == len(pairs)
    np.testing.assert_array_equal(cm.sum(axis=1), np.bincount(y_true, minlength=5))
    if pairs:
        assert np.trace(cm) / len(pairs) == accuracy(y_true, y_pred)


def test_confusion_matrix_rejects_bad_labels():
    with pytest.raises(
        ValueError, match=r"y_pred: expected classes in 0..2, got values in 0..3"
    ):
        confusion_matrix(np.array([0, 1]), np.array([0, 3]), n=3)
    with pytest.raises(
        ValueError, match=r"y_true: expected classes in 0..9, got values in -1..1"
    ):
        confusion_matrix(np.array([-1, 1]), np.array([0, 1]))
    with pytest.raises(
        ValueError, match=r"expected two arrays of shape \(m,\), got \(2, 2\)"
    ):
        confusion_matrix(np.zeros((2, 2), dtype=int), np.zeros((2, 2), dtype=int))


def test_per_class_accuracy_by_hand():
    cm = np.array([[3, 1, 0], [0, 0, 0], [1, 1, 2]])
    acc = per_class_accuracy(cm)
    np.testing.assert_allclose(acc[[0, 2]], [0.75, 0.5])
    assert np.isnan(acc[1])  # no examples of class 1
    with pytest.raises(
        ValueError, match=r"cm: expected a square confusion matrix \(n, n\)"
    ):
        per_class_accuracy(np.ones((2, 3)))


def test_most_confused_pairs_by_hand():
    cm = np.array(
        [
            [50, 2, 7],
            [4, 60, 0],
            [7, 1, 40],
        ]
    )
    assert most_confused_pairs(cm, 3) == [
        (0, 2, 7),
        (2, 0, 7),
        (1, 0, 4),
    ]  # ties: row order
    assert most_confused_pairs(cm, 10) == [
        (0, 2, 7),
        (2, 0, 7),
        (1, 0, 4),
        (0, 1, 2),
        (2, 1, 1),
    ]  # the zero count is left out
    assert most_confused_pairs(cm, 0) == []
    assert most_confused_pairs(np.diag([5, 5]), 3) == []
    with pytest.raises(ValueError, match="k: expected"):
        most_confused_pairs(cm, -1)
