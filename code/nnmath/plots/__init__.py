"""Every figure's plotting code, so that chapters show mathematics rather than matplotlib.

Each function takes arrays, draws one figure and returns it. The modules are named for what
they draw; everything is re-exported here, so chapters write ``plots.digit_grid(...)``.
Figures have an opaque white background so they stay readable in the site's dark mode.
"""

from __future__ import annotations

import matplotlib as mpl

from nnmath.plots.augmentation import *  # noqa: F403
from nnmath.plots.deep import *  # noqa: F403
from nnmath.plots.digits import digit_grid, label_counts, mean_digits, pixel_histogram
from nnmath.plots.evaluation import *  # noqa: F403
from nnmath.plots.graphs import *  # noqa: F403
from nnmath.plots.network import *  # noqa: F403
from nnmath.plots.regularisation import *  # noqa: F403
from nnmath.plots.training import *  # noqa: F403

__all__ = [
    "BOOK_STYLE",
    "digit_grid",
    "label_counts",
    "mean_digits",
    "pixel_histogram",
    "use_book_style",
]

BOOK_STYLE = {
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
    "axes.facecolor": "white",
    "figure.dpi": 100,
    "savefig.dpi": 110,
    "font.size": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "image.cmap": "gray_r",
}


def use_book_style() -> None:
    """Apply the book's matplotlib settings (white background, ink-on-paper digits)."""
    mpl.rcParams.update(BOOK_STYLE)
