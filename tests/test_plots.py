"""The plotting package: every name the chapters use stays exported, one module per chapter."""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pytest
from nnmath import plots
from nnmath.plots import common

BOOK = Path(__file__).resolve().parents[1] / "book"

# The contract: every public name `nnmath.plots` exported at 4394c73, before the plotting
# code was split by chapter (the package's __all__ and its modules' __all__, re-exported).
EXPORTED_AT_4394C73 = (
    "BOOK_STYLE",
    "activation_curves",
    "activation_map",
    "augmentation_grid",
    "batch_size_curves",
    "bias_correction_curves",
    "bilinear_diagram",
    "computational_graph",
    "confidence_by_outcome",
    "confidence_histogram",
    "confused_pair_examples",
    "confusion_heatmap",
    "digit_grid",
    "dropout_averages",
    "epoch_order_accuracy",
    "ewa_weights",
    "finite_difference_errors",
    "gradient_noise",
    "gradient_norms",
    "init_depth_stats",
    "l2_sweep",
    "label_counts",
    "layer_chain",
    "layer_gradient_bars",
    "learning_curves",
    "loss_gradient_comparison",
    "lr_schedules",
    "lr_sweep",
    "mean_digits",
    "mistakes_gallery",
    "network_diagram",
    "optimiser_curves",
    "optimiser_paths",
    "output_probabilities",
    "overfitting_curves",
    "per_class_bars",
    "pixel_histogram",
    "prediction_bars",
    "prediction_grid",
    "quadratic_steps",
    "reliability_diagram",
    "remedy_curves",
    "robustness_curves",
    "run_curves",
    "search_heatmap",
    "search_scatter",
    "softmax_steps",
    "training_cycle",
    "use_book_style",
    "weight_templates",
)


@pytest.mark.parametrize("name", EXPORTED_AT_4394C73)
def test_every_name_exported_before_is_still_exported(name):
    assert hasattr(plots, name)
    assert name in plots.__all__
    namespace: dict = {}
    exec("from nnmath.plots import *", namespace)  # what a star import sees
    assert name in namespace


def test_all_names_only_what_exists():
    assert len(plots.__all__) == len(set(plots.__all__))
    for name in plots.__all__:
        assert hasattr(plots, name), name


def first_callers() -> dict[str, int]:
    """Each ``plots.<function>`` the chapters call, with the first chapter that calls it."""
    first: dict[str, int] = {}
    for page in sorted(BOOK.glob("[0-9][0-9]_*.md")):
        chapter = int(page.name[:2])
        for name in re.findall(r"\bplots\.(\w+)\(", page.read_text(encoding="utf-8")):
            first.setdefault(name, chapter)
    first.pop("use_book_style", None)
    return first


def test_each_figure_lives_in_the_module_of_the_chapter_that_first_draws_it():
    first = first_callers()
    assert len(first) > 40
    for name, chapter in first.items():
        module = getattr(plots, name).__module__
        doc = __import__(module, fromlist=["_"]).__doc__
        assert doc.startswith(f"Chapter {chapter}'s figure"), (name, module, chapter)


def test_as_images_takes_columns_or_images():
    columns = np.arange(784 * 3).reshape(784, 3)
    images = common.as_images(columns)
    assert images.shape == (3, 28, 28)
    assert np.array_equal(images[1].ravel(), columns[:, 1])
    assert common.as_images(images) is images


def test_panel_grid_rounds_the_rows_up():
    fig, axes = common.panel_grid(7, 3, 1.0, 2.0)
    assert axes.shape == (3, 3)
    assert tuple(fig.get_size_inches()) == (3.0, 6.0)
    plt.close(fig)
