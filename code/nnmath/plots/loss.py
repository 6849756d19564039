"""Chapter 4's figure: cross-entropy against squared error, losses and their derivatives."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

__all__ = [
    "loss_gradient_comparison",
]

_CE_COLOUR = "#1f77b4"
_SE_COLOUR = "#d62728"


def loss_gradient_comparison(
    p: np.ndarray,
    ce_loss: np.ndarray,
    se_loss: np.ndarray,
    ce_grad: np.ndarray,
    se_grad: np.ndarray,
) -> Figure:
    """Cross-entropy against squared error as the true class's probability goes to 0.

    All five arrays have shape ``(k,)``, one entry per example (one output column):
    ``p`` the probability the column gives to the true class, ``ce_loss`` and ``se_loss``
    each example's loss, ``ce_grad`` and ``se_grad`` the derivative of each loss with
    respect to the true class's logit. Left panel: the losses against ``p``. Right panel:
    the magnitude of the derivatives against ``p``, both axes logarithmic, with the bounds
    ``(10/9) p (1-p)^2`` and ``2 p (1-p)^2`` that hold for the squared error's derivative
    over 10 classes drawn as dashed black lines.
    """
    p = np.asarray(p)
    fig, (ax_loss, ax_grad) = plt.subplots(1, 2, figsize=(8.4, 3.5))
    style = {"s": 7, "alpha": 0.5, "linewidths": 0}

    ax_loss.scatter(p, ce_loss, color=_CE_COLOUR, label="cross-entropy", **style)
    ax_loss.scatter(p, se_loss, color=_SE_COLOUR, label="squared error", **style)
    ax_loss.set_xscale("log")
    ax_loss.set_xlabel("probability of the true class $a_y$")
    ax_loss.set_ylabel("loss of one example")
    ax_loss.set_title("loss", fontsize=10)
    ax_loss.legend(frameon=False, markerscale=2.5, loc="upper right")

    grid = np.logspace(np.log10(p.min()), np.log10(p.max()), 200)
    ax_grad.scatter(
        p, np.abs(ce_grad), color=_CE_COLOUR, label="cross-entropy", **style
    )
    ax_grad.scatter(
        p, np.abs(se_grad), color=_SE_COLOUR, label="squared error", **style
    )
    for factor, label in ((2, "bounds of the text"), (10 / 9, None)):
        ax_grad.plot(
            grid,
            factor * grid * (1 - grid) ** 2,
            color="black",
            lw=0.8,
            ls="--",
            zorder=3,
            label=label,
        )
    ax_grad.set_xscale("log")
    ax_grad.set_yscale("log")
    ax_grad.set_ylim(bottom=np.abs(se_grad).min() / 3, top=3)
    ax_grad.set_xlabel("probability of the true class $a_y$")
    ax_grad.set_ylabel(r"$|\partial \ell / \partial z_y|$")
    ax_grad.set_title("derivative with respect to the true class's logit", fontsize=10)
    ax_grad.legend(
        frameon=False, markerscale=2.5, loc="upper left", bbox_to_anchor=(0.0, 0.93)
    )
    fig.tight_layout()
    return fig
