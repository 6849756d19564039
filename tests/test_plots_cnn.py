"""Chapter 17's figures draw what they are given: panels, scales, titles."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.patches import Rectangle
from nnmath import plots


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_conv_window_frames_each_position_in_input_and_output():
    X = np.arange(16.0).reshape(4, 4)
    W = np.ones((2, 2))
    Z = np.zeros((3, 3))
    fig = plots.conv_window(X, W, Z, [(0, 0), (1, 2)])
    inputs, kernel, outputs = fig.axes
    frames = [p for p in inputs.patches if isinstance(p, Rectangle)]
    assert [(p.get_x(), p.get_y(), p.get_width()) for p in frames] == [
        (-0.5, -0.5, 2), (1.5, 0.5, 2)
    ]
    assert len(outputs.patches) == 2 and not kernel.patches
    assert [t.get_text() for t in kernel.texts] == ["1", "1", "1", "1"]


def test_kernel_grid_puts_every_kernel_on_one_symmetric_scale():
    W = np.random.default_rng(0).standard_normal((5, 1, 3, 3))
    fig = plots.kernel_grid(W, columns=4)
    images = [ax.images[0] for ax in fig.axes if ax.images]
    assert len(images) == 5
    scale = np.abs(W).max()
    assert all(image.get_clim() == pytest.approx((-scale, scale)) for image in images)


def test_feature_map_grid_draws_the_digit_and_every_map():
    maps = [np.random.default_rng(1).random((4, 6, 6)), np.zeros((8, 2, 2))]
    fig = plots.feature_map_grid(np.zeros(784), maps, columns=(2, 4))
    drawn = [ax for ax in fig.get_axes() if ax.images]
    assert len(drawn) == 1 + 4 + 8
    assert drawn[0].images[0].get_array().shape == (28, 28)


def test_confusion_pair_titles_count_the_mistakes():
    cm = np.diag([5, 5]) + np.array([[0, 2], [1, 0]])
    fig = plots.confusion_pair({"a": cm, "b": np.diag([7, 8])})
    assert [ax.get_title() for ax in fig.axes] == ["a: 3 mistakes", "b: 0 mistakes"]


def test_shared_mistakes_names_every_answer():
    images = np.zeros((3, 28, 28))
    fig = plots.shared_mistakes(images, [1, 2, 3], {"CNN": [7, 7, 8], "MLP": [4, 7, 9]},
                                columns=2)
    drawn = [ax for ax in fig.axes if ax.images]
    assert [ax.get_title() for ax in drawn] == ["true 1", "true 2", "true 3"]
    assert drawn[2].get_xlabel() == "CNN 8\nMLP 9"


def test_cnn_curves_draws_errors_in_percent():
    history = {"epoch": [1, 2], "train_loss": [0.5, 0.2], "dev_loss": [0.3, 0.1],
               "train_accuracy": [0.9, 0.95], "dev_accuracy": [0.95, 0.99],
               "lr": [1e-3, 5e-4]}
    fig = plots.cnn_curves(history, test_accuracy=0.98)
    errors = fig.axes[1]
    dev = errors.lines[1].get_ydata()
    np.testing.assert_allclose(dev, [5.0, 1.0])
    assert errors.lines[2].get_ydata()[0] == pytest.approx(2.0)
