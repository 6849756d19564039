"""How much arithmetic a network costs: floating-point operations per example.

A multiply-add counts as two operations (FLOP), the usual convention of matrix-multiply
rates. Only the matrix products are counted: with n_l inputs to a layer of n_(l+1) units,
everything else (biases, ReLU, softmax, the optimiser) is O(n) per example, a few percent
of the total for the book's networks. ``sizes`` lists the widths n_0, n_1, ..., n_L.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

__all__ = ["backward_flops", "forward_flops", "layer_products", "training_flops"]


def layer_products(sizes: Sequence[int]) -> list[int]:
    """The multiply-adds of each layer's product W[l] a for one example: n_l * n_(l-1).

    Raises ``ValueError`` unless ``sizes`` has at least two positive widths.
    """
    sizes = [int(n) for n in sizes]
    if len(sizes) < 2 or min(sizes) < 1:
        raise ValueError(f"sizes: expected at least two positive widths, got {sizes}")
    return [n * n_prev for n_prev, n in pairwise(sizes)]


def forward_flops(sizes: Sequence[int]) -> int:
    """FLOP of one example's forward pass: 2 * sum over l of n_l n_(l-1).

    Implements: eq-flops-forward
    """
    return 2 * sum(layer_products(sizes))


def backward_flops(sizes: Sequence[int]) -> int:
    """FLOP of one example's backward pass: dW[l] in every layer, dA[l-1] above the first.

    dW[l] = dZ[l] A[l-1]^T costs 2 n_l n_(l-1) per example, like the forward product, and
    so does W[l]^T dZ[l]; the first layer does not need the latter (no gradient is sent
    to the pixels): 4 * sum of n_l n_(l-1) - 2 n_1 n_0.

    Implements: eq-flops-backward
    """
    products = layer_products(sizes)
    return 4 * sum(products) - 2 * products[0]


def training_flops(sizes: Sequence[int], examples: int) -> int:
    """FLOP of training on ``examples`` examples: forward plus backward for each one."""
    if examples < 0:
        raise ValueError(f"examples: expected a count >= 0, got {examples}")
    return examples * (forward_flops(sizes) + backward_flops(sizes))
