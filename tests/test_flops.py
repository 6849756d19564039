"""FLOP counts: checked against the matrix products that the package's passes perform."""

from __future__ import annotations

import pytest
from nnmath.flops import backward_flops, forward_flops, layer_products, training_flops


def _matmul_flops(*shapes: tuple[int, int, int]) -> int:
    """2 n k m for each product of an (n, k) matrix by a (k, m) one."""
    return sum(2 * n * k * m for n, k, m in shapes)


@pytest.mark.equation("eq-flops-forward")
def test_forward_flops_of_part_one_network():
    # twolayer.forward_prop for one example: W1 (10, 784) @ X (784, 1), W2 (10, 10) @ A1
    assert forward_flops([784, 10, 10]) == _matmul_flops((10, 784, 1), (10, 10, 1))
    # the slides' network, by hand: 2 (784*128 + 128*64 + 64*10)
    assert forward_flops([784, 128, 64, 10]) == 2 * 109_184


@pytest.mark.equation("eq-flops-backward")
def test_backward_flops_of_part_one_network():
    # twolayer.backward_prop for one example: dW2 = dZ2 @ A1.T, W2.T @ dZ2, dW1 = dZ1 @ X.T
    expected = _matmul_flops((10, 1, 10), (10, 10, 1), (10, 1, 784))
    assert backward_flops([784, 10, 10]) == expected == 16_080


@pytest.mark.equation("eq-flops-backward")
def test_backward_flops_of_three_layers():
    # dW3, W3^T dZ3, dW2, W2^T dZ2, dW1 for 784-128-64-10
    expected = _matmul_flops(
        (10, 1, 64), (64, 10, 1), (64, 1, 128), (128, 64, 1), (128, 1, 784)
    )
    assert backward_flops([784, 128, 64, 10]) == expected


def test_training_flops_scales_with_examples():
    per_example = forward_flops([784, 128, 64, 10]) + backward_flops([784, 128, 64, 10])
    assert per_example == 454_400
    assert training_flops([784, 128, 64, 10], 59_000) == 59_000 * per_example
    assert training_flops([3, 2], 0) == 0


@pytest.mark.parametrize("sizes", [[784], [], [784, 0, 10]])
def test_bad_sizes_are_refused(sizes):
    with pytest.raises(ValueError, match="sizes"):
        layer_products(sizes)


def test_negative_examples_are_refused():
    with pytest.raises(ValueError, match="examples"):
        training_flops([3, 2], -1)
