"""nnmath.autograd: every operation against finite differences, reused values, properties,
bad input, and Part I's network built from Values against nnmath.twolayer.backward_prop."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
from nnmath import autograd, losses, twolayer
from nnmath.autograd import Value
from nnmath.plots.autograd import (
    arithmetic_table,
    expression_graph,
    tex_number,
    tex_operand,
    tiny_network,
)
from nnmath.seeding import rng

EPS = 1e-6


def engine_gradient(f: Callable[..., Value], *xs: float) -> tuple[float, list[float]]:
    """f at xs and its gradient with respect to each argument, by the engine."""
    leaves = [Value(x) for x in xs]
    out = f(*leaves)
    out.backward()
    return out.data, [leaf.grad for leaf in leaves]


def numerical_gradient(f: Callable[..., Value], *xs: float) -> list[float]:
    """The same gradient by central differences, evaluating f on fresh leaves."""
    grads = []
    for k in range(len(xs)):
        def at(t: float, k: int = k) -> float:
            args = [Value(x) for x in xs]
            args[k] = Value(t)
            return f(*args).data
        grads.append((at(xs[k] + EPS) - at(xs[k] - EPS)) / (2 * EPS))
    return grads


def assert_matches_finite_differences(f: Callable[..., Value], *xs: float) -> None:
    _, exact = engine_gradient(f, *xs)
    approx = numerical_gradient(f, *xs)
    np.testing.assert_allclose(exact, approx, rtol=1e-7, atol=1e-8)


# --------------------------------------------------------------------------- primitives


@pytest.mark.equation("eq-local-add")
def test_add_and_its_local_derivatives():
    value, grads = engine_gradient(lambda a, b: a + b, 1.5, -4.0)
    assert value == -2.5 and grads == [1.0, 1.0]
    assert_matches_finite_differences(lambda a, b: a + b, 1.5, -4.0)
    assert_matches_finite_differences(lambda a: 2 + a, 0.3)  # a number on the left
    assert_matches_finite_differences(lambda a: a + 2, 0.3)
    assert (autograd.add(1, 2)).data == 3.0


@pytest.mark.equation("eq-local-mul")
def test_mul_and_its_local_derivatives():
    value, grads = engine_gradient(lambda a, b: a * b, 3.0, -2.0)
    assert value == -6.0 and grads == [-2.0, 3.0]
    assert_matches_finite_differences(lambda a, b: a * b, 0.7, 1.9)
    assert_matches_finite_differences(lambda a: 3 * a, 0.7)
    assert_matches_finite_differences(lambda a: a * 3, 0.7)


@pytest.mark.equation("eq-local-power")
@pytest.mark.parametrize(("x", "p"), [(1.7, 2), (1.7, 3), (2.5, -1), (0.8, 0.5), (-1.5, 3),
                                      (-2.0, -2), (4.0, 0)])
def test_power_and_its_local_derivative(x, p):
    value, (grad,) = engine_gradient(lambda a: a**p, x)
    assert value == pytest.approx(x**p, rel=1e-15)
    assert grad == pytest.approx(p * x ** (p - 1) if p else 0.0, rel=1e-15)
    assert_matches_finite_differences(lambda a: a**p, x)


def test_power_at_zero():
    assert engine_gradient(lambda a: a**2, 0.0) == (0.0, [0.0])
    assert engine_gradient(lambda a: a**1, 0.0) == (0.0, [1.0])
    assert engine_gradient(lambda a: a**0.5, 0.0) == (0.0, [math.inf])


@pytest.mark.equation("eq-local-exp")
@pytest.mark.parametrize("x", [-3.0, 0.0, 0.4, 5.0])
def test_exp_and_its_local_derivative(x):
    value, (grad,) = engine_gradient(lambda a: a.exp(), x)
    assert value == math.exp(x) and grad == math.exp(x)
    assert_matches_finite_differences(lambda a: a.exp(), x)


@pytest.mark.equation("eq-local-log")
@pytest.mark.parametrize("x", [1e-2, 0.5, 1.0, 7.0])
def test_log_and_its_local_derivative(x):
    value, (grad,) = engine_gradient(lambda a: a.log(), x)
    assert value == math.log(x) and grad == 1 / x
    assert_matches_finite_differences(lambda a: a.log(), x)


@pytest.mark.parametrize("x", [-1.3, -1e-3, 1e-3, 2.2])
def test_relu_and_tanh_against_finite_differences(x):
    _, (grad,) = engine_gradient(lambda a: a.relu(), x)
    assert grad == (1.0 if x > 0 else 0.0)
    assert_matches_finite_differences(lambda a: a.relu(), x)
    _, (grad,) = engine_gradient(lambda a: a.tanh(), x)
    assert grad == pytest.approx(1 - math.tanh(x) ** 2, rel=1e-15)
    assert_matches_finite_differences(lambda a: a.tanh(), x)


def test_relu_at_the_kink_follows_the_books_convention():
    assert engine_gradient(lambda a: a.relu(), 0.0) == (0.0, [0.0])


@pytest.mark.parametrize(
    "f",
    [
        lambda a, b: a - b,
        lambda a, b: 2.5 - a + b - 1,
        lambda a, b: a / b,
        lambda a, b: 3 / a + b / 4,
        lambda a, b: -a * b,
        lambda a, b: -(a - b) ** 2 / (a * a + 1),
    ],
)
def test_operations_built_from_the_primitives(f):
    assert_matches_finite_differences(f, 1.3, -0.6)


def test_division_and_subtraction_have_the_textbook_derivatives():
    _, (da, db) = engine_gradient(lambda a, b: a / b, 3.0, 2.0)
    assert (da, db) == pytest.approx((1 / 2, -3 / 4), rel=1e-15)
    _, (da, db) = engine_gradient(lambda a, b: a - b, 3.0, 2.0)
    assert (da, db) == (1.0, -1.0)


def test_numpy_numbers_are_real_numbers():
    v = Value(2.0)
    for number in (np.float64(3.0), np.float32(3.0), np.int64(3)):
        assert (v * number).data == 6.0
        assert (v + number).data == 5.0
        assert isinstance(v * number, Value)


# --------------------------------------------------------------------------- backward


@pytest.mark.equation("eq-backprop-graph")
def test_a_value_used_twice_gets_both_contributions():
    x, y = Value(3.0, "x"), Value(-2.0, "y")
    f = x * y + x  # x reaches f through the product and directly
    f.backward()
    assert (f.data, x.grad, y.grad) == (-3.0, -1.0, 3.0)  # df/dx = y + 1
    x = Value(1.5)
    g = x * x * x  # the same operand three times
    g.backward()
    assert x.grad == pytest.approx(3 * 1.5**2, rel=1e-15)


@pytest.mark.equation("eq-backprop-graph")
def test_a_diamond_sends_both_paths_into_the_shared_value():
    x = Value(0.4)
    u = x.exp()
    f = u.tanh() * u.log()  # u is used by two operations, x reaches f through u only
    f.backward()
    assert_matches_finite_differences(lambda a: a.exp().tanh() * a.exp().log(), 0.4)
    assert x.grad == pytest.approx(numerical_gradient(
        lambda a: a.exp().tanh() * a.exp().log(), 0.4)[0], rel=1e-7)


def test_topological_order_puts_every_value_after_its_parents():
    x, y = Value(1.0), Value(2.0)
    q = x * y
    f = (q + x).exp() * q
    order = autograd.topological_order(f)
    assert order[-1] is f and len(order) == len({id(v) for v in order}) == 6
    position = {id(v): i for i, v in enumerate(order)}
    assert all(position[id(p)] < position[id(v)] for v in order for p in v.parents)


def test_backward_twice_gives_the_same_gradients():
    x = Value(0.3)
    f = (x * x + 1).log()
    f.backward()
    first = x.grad
    f.backward()
    assert x.grad == first == pytest.approx(2 * 0.3 / (0.3**2 + 1), rel=1e-15)


def test_a_deep_graph_needs_no_recursion():
    x = Value(1.0)
    total = x
    for _ in range(20_000):  # far beyond Python's recursion limit of 1,000
        total = total + x
    total.backward()
    assert x.grad == 20_001.0


def test_leaves_untouched_by_the_result_keep_gradient_zero():
    x, unused = Value(2.0), Value(5.0)
    f = x * 3
    f.backward()
    assert (x.grad, unused.grad, f.grad) == (3.0, 0.0, 1.0)


# --------------------------------------------------------------------------- properties

finite = st.floats(min_value=-3.0, max_value=3.0, allow_nan=False)


@given(finite, finite)
def test_product_rule_is_exact(a, b):
    _, grads = engine_gradient(lambda x, y: x * y, a, b)
    assert grads == [b, a]


@given(finite, st.integers(min_value=1, max_value=30))
def test_n_uses_of_a_value_count_n_times(a, n):
    x = Value(a)
    total = sum((x for _ in range(n - 1)), x)
    total.backward()
    assert x.grad == n
    product = x
    for _ in range(n - 1):
        product = product * x
    product.backward()
    assert x.grad == pytest.approx(n * a ** (n - 1), rel=1e-12, abs=1e-12)


@given(finite, finite)
def test_gradients_are_linear_in_the_result(a, c):
    _, (g,) = engine_gradient(lambda x: (x * x + 1).log() + x.tanh(), a)
    _, (cg,) = engine_gradient(lambda x: c * ((x * x + 1).log() + x.tanh()), a)
    assert cg == pytest.approx(c * g, rel=1e-12, abs=1e-15)


# A random program over two inputs: each step combines earlier registers with an operation
# whose domain is the whole real line, so any inputs are valid.
_UNARY = {
    "tanh": lambda u: u.tanh(),
    "exp-tanh": lambda u: u.tanh().exp(),
    "log1p-square": lambda u: (u * u + 1).log(),
    "square": lambda u: u**2,
    "relu": lambda u: u.relu(),
    "neg": lambda u: -u,
}
_BINARY = {
    "add": lambda u, v: u + v,
    "sub": lambda u, v: u - v,
    "mul": lambda u, v: u * v,
    "div": lambda u, v: u / (v * v + 1),
}
_steps = st.lists(
    st.tuples(st.sampled_from(sorted(_UNARY) + sorted(_BINARY)),
              st.integers(0, 100), st.integers(0, 100), st.floats(-2.0, 2.0)),
    min_size=1, max_size=8,
)


def _program(steps: list[tuple[str, int, int, float]]) -> Callable[[Value, Value], Value]:
    def run(x: Value, y: Value) -> Value:
        registers = [x, y]
        for name, i, j, c in steps:
            u, v = registers[i % len(registers)], registers[j % len(registers)]
            if name in _UNARY:
                registers.append(_UNARY[name](u) + c)
            else:
                registers.append(_BINARY[name](u, v))
        return registers[-1]
    return run


@settings(max_examples=150, deadline=None)
@given(_steps, finite, finite)
def test_random_expressions_match_finite_differences(steps, a, b):
    f = _program(steps)
    out = f(Value(a), Value(b))
    order = autograd.topological_order(out)
    assume(all(abs(v.data) < 1e3 for v in order))
    # Central differences are wrong across a kink: keep every ReLU input away from 0.
    assume(all(abs(v.parents[0].data) > 1e-3 for v in order if v.op == "relu"))
    _, exact = engine_gradient(f, a, b)
    approx = numerical_gradient(f, a, b)
    np.testing.assert_allclose(exact, approx, rtol=1e-5, atol=1e-6)


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("operation", "first", "second"),
    [
        (lambda v: v + "1", "Value", "str"),
        (lambda v: "1" + v, "str", "Value"),
        (lambda v: v * None, "Value", "NoneType"),
        (lambda v: [1.0] * v, "list", "Value"),
        (lambda v: v - 1j, "Value", "complex"),
        (lambda v: v / np.ones(2), "Value", "ndarray"),
        (lambda v: v ** Value(2.0), "Value", "Value"),
        (lambda v: 2 ** v, "int", "Value"),
    ],
)
def test_an_operand_that_is_not_a_number_names_both_types(operation, first, second):
    with pytest.raises(TypeError) as info:
        operation(Value(1.5))
    message = str(info.value)
    assert f"'{first}'" in message and f"'{second}'" in message
    assert message.index(f"'{first}'") <= message.rindex(f"'{second}'")


def test_a_value_holds_a_real_number():
    for bad in ("3", None, 1 + 2j, [1.0]):
        with pytest.raises(TypeError, match=type(bad).__name__):
            Value(bad)
    with pytest.raises(TypeError, match="str"):
        autograd.exp("x")


@pytest.mark.parametrize("x", [0.0, -2.5])
def test_log_of_a_non_positive_value_names_the_value(x):
    with pytest.raises(ValueError, match=rf"positive.*{x}"):
        Value(x).log()


def test_powers_without_a_real_result():
    with pytest.raises(ValueError, match="not a real number"):
        Value(-8.0) ** 0.5
    with pytest.raises(ZeroDivisionError):
        Value(0.0) ** -1
    with pytest.raises(ZeroDivisionError):
        Value(1.0) / 0


# --------------------------------------------------------------------------- networks

#: The worked example of the book: two inputs, two ReLU units, two softmax outputs.
WORKED = {
    "W1": np.array([[0.5, -0.25], [0.25, 0.5]]),
    "b1": np.array([[0.5], [-0.25]]),
    "W2": np.array([[1.0, -0.5], [-0.5, 1.0]]),
    "b2": np.array([[0.0], [0.0]]),
    "X": np.array([[1.0], [2.0]]),
    "y": np.array([0]),
}


def _compare(params: tuple[np.ndarray, ...], X: np.ndarray, y: np.ndarray) -> float:
    """Largest difference between the engine's gradients and backward_prop's, and the loss."""
    values = [autograd.to_values(p) for p in params]
    loss = autograd.two_layer_loss(*values, X, y)
    loss.backward()
    Z1, A1, Z2, A2 = twolayer.forward_prop(*params, X)
    expected = twolayer.backward_prop(Z1, A1, Z2, A2, params[0], params[2], X, y)
    assert loss.data == pytest.approx(losses.cross_entropy(A2, y), rel=1e-13)
    return max(
        float(np.max(np.abs(autograd.gradients(v) - g)))
        for v, g in zip(values, expected, strict=True)
    )


@pytest.mark.equation("eq-backprop-graph")
def test_engine_equals_backward_prop_on_the_worked_example():
    params = tuple(WORKED[k] for k in ("W1", "b1", "W2", "b2"))
    assert _compare(params, WORKED["X"], WORKED["y"]) <= 1e-12


@pytest.mark.equation("eq-backprop-graph")
def test_training_with_the_engine_follows_twolayer():
    params = tuple(WORKED[k] for k in ("W1", "b1", "W2", "b2"))
    X, y, alpha = WORKED["X"], WORKED["y"], 0.1
    values = [autograd.to_values(p) for p in params]
    for _ in range(2):
        Z1, A1, Z2, A2 = twolayer.forward_prop(*params, X)
        grads = twolayer.backward_prop(Z1, A1, Z2, A2, params[0], params[2], X, y)
        params = twolayer.update_params(*params, *grads, alpha)
        loss = autograd.two_layer_loss(*values, X, y)
        loss.backward()
        for v in values:
            for leaf in v.flat:
                leaf.data -= alpha * leaf.grad
    for v, p in zip(values, params, strict=True):
        np.testing.assert_allclose(np.vectorize(lambda u: u.data)(v), p, rtol=0, atol=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_engine_equals_backward_prop_on_random_2_2_2_networks(seed):
    params = twolayer.init_params(seed=seed, dtype=np.float64, sizes=(2, 2, 2))
    draw = rng(100 + seed)
    X = draw.normal(size=(2, 5))
    y = draw.integers(0, 2, size=5)
    assert _compare(params, X, y) <= 1e-12


@pytest.mark.equation("eq-backprop-graph")
def test_engine_equals_backward_prop_on_784_10_10_for_four_images():
    params = twolayer.init_params(seed=3, dtype=np.float64)
    draw = rng(7)
    X = draw.random((784, 4)) * (draw.random((784, 4)) < 0.2)  # sparse "ink" in [0, 1)
    y = np.array([0, 3, 3, 9])
    assert _compare(params, X, y) <= 1e-12


def test_to_values_and_gradients_keep_the_shape():
    V = autograd.to_values(np.arange(6.0).reshape(2, 3), name="W")
    assert V.shape == (2, 3) and V[1, 2].data == 5.0 and V[1, 2].name == "W[1,2]"
    total = sum(V.flat, Value(0.0)) * 2
    total.backward()
    np.testing.assert_array_equal(autograd.gradients(V), np.full((2, 3), 2.0))


# --------------------------------------------------------------------------- figures


def test_expression_graph_draws_one_box_per_value():
    x, y = Value(3.0, "x"), Value(-2.0, "y")
    f = x * y + x
    f.backward()
    fig = expression_graph(f)
    patches = fig.axes[0].patches
    assert sum(isinstance(p, FancyBboxPatch) for p in patches) == 4
    assert sum(isinstance(p, FancyArrowPatch) for p in patches) == 4  # one per operand
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert "grad \u22121" in texts and "grad 3" in texts


def test_tiny_network_and_tables():
    params = tuple(WORKED[k] for k in ("W1", "b1", "W2", "b2"))
    Z1, A1, Z2, A2 = twolayer.forward_prop(*params, WORKED["X"])
    numbers = dict(zip(("W1", "b1", "W2", "b2"), params, strict=True))
    numbers.update(X=WORKED["X"], Z1=Z1, A1=A1, Z2=Z2, A2=A2)
    fig = tiny_network(numbers)
    assert "0.3208" in " ".join(t.get_text() for t in fig.axes[0].texts)
    with pytest.raises(ValueError, match=r"\(2, 1\)"):
        tiny_network(dict(numbers, X=np.ones((2, 3))))
    assert (tex_number(-0.25), tex_operand(-0.25), tex_operand(0.5)) == ("-0.25", "(-0.25)",
                                                                         "0.5")
    assert tex_number(1.23456e-7) == r"1.235 \times 10^{-7}"
    table = arithmetic_table([("z", "a + b", "1 + 2", 3.0)], caption="Sum.", name="tab-x")
    assert table.splitlines()[:2] == [":::{table} Sum.", ":name: tab-x"]
    assert "| $z$ | $a + b$ | $1 + 2$ | $3$ |" in table
