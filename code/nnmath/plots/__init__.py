"""Every figure's plotting code, so that chapters show mathematics rather than matplotlib.

Each function takes arrays, draws one figure and returns it. There is one module per
chapter that draws figures, named for the chapter (:mod:`nnmath.plots.digits` for
chapter 1, :mod:`~nnmath.plots.forward` 2, :mod:`~nnmath.plots.activations` 3,
:mod:`~nnmath.plots.loss` 4, :mod:`~nnmath.plots.backprop` 5,
:mod:`~nnmath.plots.gradient_descent` 6, :mod:`~nnmath.plots.deep` 7,
:mod:`~nnmath.plots.minibatch` 8, :mod:`~nnmath.plots.optimisers` 9,
:mod:`~nnmath.plots.evaluation` 10, :mod:`~nnmath.plots.regularisation` 11,
:mod:`~nnmath.plots.augmentation` 12, :mod:`~nnmath.plots.search` 13,
:mod:`~nnmath.plots.cnn` 17), and
:mod:`~nnmath.plots.common` for what they share. Everything is re-exported here, so
chapters write ``plots.digit_grid(...)``. Figures have an opaque white background so they
stay readable in the site's dark mode. No training code imports this package, so a figure
can change without invalidating a cached run.
"""

from __future__ import annotations

from nnmath.plots import (
    activations,
    augmentation,
    backprop,
    cnn,
    deep,
    digits,
    evaluation,
    forward,
    gradient_descent,
    loss,
    minibatch,
    optimisers,
    regularisation,
    search,
)
from nnmath.plots.activations import *  # noqa: F403
from nnmath.plots.augmentation import *  # noqa: F403
from nnmath.plots.backprop import *  # noqa: F403
from nnmath.plots.cnn import *  # noqa: F403
from nnmath.plots.common import BOOK_STYLE, use_book_style
from nnmath.plots.deep import *  # noqa: F403
from nnmath.plots.digits import *  # noqa: F403
from nnmath.plots.evaluation import *  # noqa: F403
from nnmath.plots.forward import *  # noqa: F403
from nnmath.plots.gradient_descent import *  # noqa: F403
from nnmath.plots.loss import *  # noqa: F403
from nnmath.plots.minibatch import *  # noqa: F403
from nnmath.plots.optimisers import *  # noqa: F403
from nnmath.plots.regularisation import *  # noqa: F403
from nnmath.plots.search import *  # noqa: F403

# The chapter modules in the order of the book.
_CHAPTERS = (
    digits,
    forward,
    activations,
    loss,
    backprop,
    gradient_descent,
    deep,
    minibatch,
    optimisers,
    evaluation,
    regularisation,
    augmentation,
    search,
    cnn,
)

__all__ = ["BOOK_STYLE", "use_book_style"] + [
    name for module in _CHAPTERS for name in module.__all__
]
