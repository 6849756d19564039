"""The judge of one digit: its labels, its inputs, the shipped network and its command."""

from __future__ import annotations

import numpy as np
import pytest
from nnmath import judge, model_io, segment
from nnmath.data import train_dev_split
from nnmath.seeding import rng


def test_compose_row_says_where_each_digits_ink_came_from(mnist) -> None:
    strip, text, owner = segment.compose_row(
        mnist.test_images, mnist.test_labels, rng(3), gap=(-4, 0)
    )
    again, same_text = segment.compose_strip(mnist.test_images, mnist.test_labels, rng(3),
                                             gap=(-4, 0))
    assert np.array_equal(strip, again) and text == same_text
    assert owner.shape == strip.shape
    assert np.array_equal(owner >= 0, strip > 0)  # every pixel of ink, and only those
    assert set(np.unique(owner[owner >= 0]).tolist()) == set(range(5))
    # digits are placed left to right: each one's ink starts right of the one before
    lefts = [np.flatnonzero((owner == i).any(axis=0))[0] for i in range(5)]
    assert lefts == sorted(lefts)


@pytest.mark.parametrize(
    ("got", "totals", "expected"),
    [
        ([100, 0, 0], [100, 80, 90], True),  # all of one digit
        ([92, 5, 0], [100, 80, 90], True),  # nearly all of it, a little of the next
        ([85, 0, 0], [100, 80, 90], False),  # too little of it: a sliver is missing
        ([100, 40, 0], [100, 80, 90], False),  # two digits
        ([30, 0, 0], [100, 80, 90], False),  # a sliver
        ([0, 0, 0], [100, 80, 90], False),  # nothing
    ],
)
def test_holds_one_digit(got, totals, expected) -> None:
    assert judge.holds_one_digit(np.array(got), np.array(totals)) is expected


def test_judge_examples_label_real_stretches(mnist) -> None:
    X, y = judge.judge_examples(mnist.test_images, mnist.test_labels, 20, rng(1))
    assert X.shape == (segment.JUDGE_INPUTS, y.size) and X.dtype == np.float32
    assert set(np.unique(y).tolist()) == {0, 1}
    # at least one stretch per digit holds it whole, and most stretches do not
    assert 100 <= y.sum() < 0.5 * y.size


def test_judge_columns_add_the_stretch_size() -> None:
    crops = [np.ones((20, 5), np.float32), np.ones((10, 30), np.float32)]
    X = np.zeros((784, 2), np.float32)
    columns = segment.judge_columns(X, crops, height=20.0)
    assert columns.shape == (786, 2) and columns.dtype == np.float32
    np.testing.assert_allclose(columns[784:], [[0.25, 1.5], [1.0, 0.5]])


@pytest.mark.equation("eq-stretch-score")
def test_stretch_scores_are_log_joint_probabilities() -> None:
    P = np.array([[0.9, 0.2], [0.1, 0.8]])
    one = np.array([0.5, 0.25])
    np.testing.assert_allclose(segment.stretch_scores(P, None), np.log([0.9, 0.8]))
    np.testing.assert_allclose(segment.stretch_scores(P, one), np.log([0.45, 0.2]))
    assert np.isfinite(segment.stretch_scores(np.array([[1.0], [0.0]]), np.zeros(1))).all()


def test_the_shipped_judge_tells_one_digit_from_other_stretches(mnist) -> None:
    model = segment.load_judge()
    assert model.sizes == (786, 128, 2)
    assert segment.load_judge() is model  # read once
    _, meta = model_io.load_model(model_io.shipped_model_path("judge"))
    assert meta["recipe"] == judge.JUDGE_RECIPE
    # on stretches of rows composed from the dev images it was not trained on
    *_, dev_images, dev_labels = train_dev_split(
        mnist.train_images, mnist.train_labels, judge.JUDGE_RECIPE["dev_size"],
        judge.JUDGE_RECIPE["split_seed"],
    )
    X, y = judge.judge_examples(dev_images, dev_labels, 60, rng(123))
    accuracy = np.mean(model.predict(X) == y)
    assert accuracy >= 0.9, f"judge: {accuracy:.1%} of dev stretches"
    assert accuracy > max(y.mean(), 1 - y.mean()) + 0.05  # well above always saying 'no'


def test_read_row_takes_a_judge_or_none(mnist) -> None:
    model = model_io.load_default_model()[0]
    strip, text = segment.compose_strip(mnist.test_images, mnist.test_labels, rng(8),
                                        gap=(4, 8))
    assert segment.read_row(strip, model, judge=None)[0] == text
    assert segment.read_row(strip, model, judge=segment.load_judge())[0] == text
    with pytest.raises(ValueError, match="judge: expected a network"):
        segment.read_row(strip, model, judge="best")


def test_the_command_refuses_a_missing_folder(tmp_path, capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        judge.main([str(tmp_path / "no" / "judge.npz")])
    assert exit_.value.code == 2
    assert capsys.readouterr().err.count("\n") == 1
