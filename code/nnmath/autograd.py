"""A scalar automatic-differentiation engine: backward propagation on any expression.

A :class:`Value` holds one number, ``data``, and after :meth:`Value.backward` its ``grad``,
the derivative of the final result with respect to it. Each operation computes its result
*and* its local derivatives, the partial derivatives of the result with respect to each
operand, on the same line; the result remembers its operands (``parents``) and those local
derivatives (``local``). That is the whole graph. :func:`backpropagate` then walks it from
the result back to the leaves, multiplying and adding local derivatives by the chain rule.

Seven operations are primitive: :func:`add`, :func:`mul`, :func:`power`, :func:`exp`,
:func:`log`, :func:`relu` and :func:`tanh`. Subtraction, negation and division are built from
them, so their derivatives come from the chain rule for free. Everything is a Python
``float`` (float64). :func:`two_layer_loss` builds Part I's network from Values, to check
:func:`nnmath.twolayer.backward_prop` against it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from numbers import Real

import numpy as np

__all__ = [
    "Value",
    "add",
    "backpropagate",
    "div",
    "exp",
    "gradients",
    "log",
    "mul",
    "neg",
    "power",
    "relu",
    "sub",
    "tanh",
    "to_values",
    "topological_order",
    "two_layer_loss",
]


class Value:
    """One real number in a computation, with the gradient of the final result after backward.

    ``Value(3.0, "x")`` is a leaf; operations make the other Values. ``data`` is a float,
    ``grad`` the derivative of the Value that :meth:`backward` was called on with respect to
    this one (0.0 before). ``parents`` are the operands the Value was computed from, ``local``
    the partial derivatives of this Value with respect to each of them, ``op`` the operation's
    name and ``name`` an optional label for figures.
    """

    __slots__ = ("data", "grad", "local", "name", "op", "parents")

    def __init__(
        self,
        data: float,
        name: str = "",
        *,
        parents: tuple[Value, ...] = (),
        local: tuple[float, ...] = (),
        op: str = "",
    ) -> None:
        if not _is_real(data):
            raise TypeError(f"Value: expected a real number, got {type(data).__name__}")
        self.data = float(data)
        self.grad = 0.0
        self.name, self.op = name, op
        self.parents, self.local = parents, local

    def __repr__(self) -> str:
        name = f", name={self.name!r}" if self.name else ""
        return f"Value(data={self.data:.6g}, grad={self.grad:.6g}{name})"

    # Python's operators, with a Python number allowed on either side.
    def __add__(self, other: Value | float) -> Value:
        return add(self, other)

    def __radd__(self, other: float) -> Value:
        return add(other, self)

    def __mul__(self, other: Value | float) -> Value:
        return mul(self, other)

    def __rmul__(self, other: float) -> Value:
        return mul(other, self)

    def __sub__(self, other: Value | float) -> Value:
        return sub(self, other)

    def __rsub__(self, other: float) -> Value:
        return sub(other, self)

    def __truediv__(self, other: Value | float) -> Value:
        return div(self, other)

    def __rtruediv__(self, other: float) -> Value:
        return div(other, self)

    def __neg__(self) -> Value:
        return neg(self)

    def __pow__(self, c: float) -> Value:
        return power(self, c)

    def relu(self) -> Value:
        return relu(self)

    def exp(self) -> Value:
        return exp(self)

    def log(self) -> Value:
        return log(self)

    def tanh(self) -> Value:
        return tanh(self)

    def backward(self) -> None:
        """Fill in ``grad`` of every Value this one depends on (see :func:`backpropagate`)."""
        backpropagate(self)


def _is_real(x: object) -> bool:
    """Python and NumPy integers and floats (``numbers.Real``); not complex, not arrays."""
    return isinstance(x, Real)


def _operands(a: Value | float, b: Value | float, op: str) -> tuple[Value, Value]:
    """Both operands as Values (a number becomes a leaf); ``TypeError`` naming both types."""
    for x in (a, b):
        if not (isinstance(x, Value) or _is_real(x)):
            raise TypeError(
                f"unsupported operand types for {op}: {type(a).__name__!r} and "
                f"{type(b).__name__!r} (a Value combines with Values and real numbers)"
            )
    return (a if isinstance(a, Value) else Value(a)), (b if isinstance(b, Value) else Value(b))


def _operand(a: Value, op: str) -> Value:
    """The one operand of a function such as :func:`exp`, checked to be a Value."""
    if not isinstance(a, Value):
        raise TypeError(f"{op}: expected a Value, got {type(a).__name__!r}")
    return a


# --------------------------------------------------------------------------- primitives
# Each returns Value(result, parents=operands, local=d result / d operand, op=name).


def add(a: Value | float, b: Value | float) -> Value:
    """a + b; local derivatives d(a + b)/da = 1 and d(a + b)/db = 1.

    Implements: eq-local-add
    """
    a, b = _operands(a, b, "+")
    return Value(a.data + b.data, parents=(a, b), local=(1.0, 1.0), op="+")


def mul(a: Value | float, b: Value | float) -> Value:
    """a * b; local derivatives d(ab)/da = b and d(ab)/db = a.

    Implements: eq-local-mul
    """
    a, b = _operands(a, b, "*")
    return Value(a.data * b.data, parents=(a, b), local=(b.data, a.data), op="*")


def power(a: Value, c: float) -> Value:
    """a ** c for a real number c; local derivative d(a^c)/da = c a^(c-1).

    Raises ``ValueError`` where a^c is not a real number (a < 0 with c not an integer)
    and ``ZeroDivisionError`` for 0 to a negative power. At a = 0 with 0 < c < 1 the
    derivative is infinite.

    Implements: eq-local-power
    """
    if not isinstance(a, Value) or not _is_real(c):
        raise TypeError(
            f"unsupported operand types for **: {type(a).__name__!r} and "
            f"{type(c).__name__!r} (the exponent must be a real number)"
        )
    x, c = a.data, float(c)
    if x < 0 and not c.is_integer():
        raise ValueError(f"power: {x} ** {c} is not a real number")
    if x == 0 and c < 0:
        raise ZeroDivisionError(f"power: 0 ** {c} divides by zero")
    if c == 0:
        slope = 0.0  # a^0 = 1 is a constant
    elif x == 0 and c < 1:
        slope = math.inf  # a square root's slope at 0, for example
    else:
        slope = c * x ** (c - 1)
    return Value(x**c, parents=(a,), local=(slope,), op=f"**{c:g}")


def exp(a: Value) -> Value:
    """e^a; local derivative d(e^a)/da = e^a, the result itself.

    Implements: eq-local-exp
    """
    a = _operand(a, "exp")
    e = math.exp(a.data)
    return Value(e, parents=(a,), local=(e,), op="exp")


def log(a: Value) -> Value:
    """The natural logarithm ln a of a > 0; local derivative d(ln a)/da = 1/a.

    Raises ``ValueError`` naming the value when a <= 0.

    Implements: eq-local-log
    """
    a = _operand(a, "log")
    if not a.data > 0:
        raise ValueError(f"log: expected a positive value, got {a.data}")
    return Value(math.log(a.data), parents=(a,), local=(1.0 / a.data,), op="log")


def relu(a: Value) -> Value:
    """max(a, 0); local derivative 1 if a > 0 else 0 (the book's convention at the kink)."""
    a = _operand(a, "relu")
    on = a.data > 0
    return Value(a.data if on else 0.0, parents=(a,), local=(1.0 if on else 0.0,), op="relu")


def tanh(a: Value) -> Value:
    """tanh a; local derivative 1 - tanh(a)^2."""
    a = _operand(a, "tanh")
    t = math.tanh(a.data)
    return Value(t, parents=(a,), local=(1.0 - t * t,), op="tanh")


# --------------------------------------------------------------------------- built from them


def neg(a: Value) -> Value:
    """-a, computed as (-1) a: its derivative comes from :func:`mul`."""
    return mul(-1.0, _operand(a, "unary -"))


def sub(a: Value | float, b: Value | float) -> Value:
    """a - b, computed as a + (-1) b."""
    a, b = _operands(a, b, "-")
    return add(a, neg(b))


def div(a: Value | float, b: Value | float) -> Value:
    """a / b, computed as a b^(-1)."""
    a, b = _operands(a, b, "/")
    return mul(a, power(b, -1))


# --------------------------------------------------------------------------- backward


def topological_order(root: Value) -> list[Value]:
    """Every Value that ``root`` depends on, ``root`` last, each after all of its parents.

    A depth-first search with an explicit stack (not recursion, so a graph thousands of
    operations deep does not exceed Python's recursion limit): a Value is appended once
    all of its parents have been.
    """
    order: list[Value] = []
    seen: set[int] = set()
    stack: list[tuple[Value, bool]] = [(root, False)]
    while stack:
        node, parents_done = stack.pop()
        if parents_done:
            order.append(node)
        elif id(node) not in seen:
            seen.add(id(node))
            stack.append((node, True))
            stack.extend((parent, False) for parent in node.parents)
    return order


def backpropagate(root: Value) -> None:
    """Set ``v.grad`` = d root / d v for every Value v that ``root`` depends on.

    Visits the graph in reverse topological order, so a Value's gradient is complete
    (every use of it has sent its share) before it is passed on to its parents; each
    parent receives ``local derivative * gradient`` and adds it to what it has, so a Value
    used twice gets both contributions. Gradients start from 0 at every call.

    Implements: eq-backprop-graph
    """
    order = topological_order(root)
    for node in order:
        node.grad = 0.0
    root.grad = 1.0
    for node in reversed(order):
        for parent, local in zip(node.parents, node.local, strict=True):
            parent.grad += local * node.grad


# --------------------------------------------------------------------------- networks


def to_values(array: np.ndarray, name: str = "") -> np.ndarray:
    """A NumPy array of leaf Values, one per entry of ``array`` (same shape, dtype object).

    With ``name``, each Value is named after its entry, for example ``W1[0,1]``.
    """
    array = np.asarray(array, dtype=np.float64)
    out = np.empty(array.shape, dtype=object)
    for index, x in np.ndenumerate(array):
        label = f"{name}[{','.join(map(str, index))}]" if name else ""
        out[index] = Value(x, label)
    return out


def gradients(values: np.ndarray) -> np.ndarray:
    """The ``grad`` of every Value of an object array, as a float64 array of the same shape."""
    return np.vectorize(lambda v: v.grad, otypes=[np.float64])(values)


def two_layer_loss(
    W1: np.ndarray, b1: np.ndarray, W2: np.ndarray, b2: np.ndarray,
    X: np.ndarray, y: Sequence[int],
) -> Value:
    """The mean cross-entropy of Part I's network, one scalar operation at a time.

    ``W1`` (n_h, n_x), ``b1`` (n_h, 1), ``W2`` (n_y, n_h), ``b2`` (n_y, 1) are arrays of
    Values (:func:`to_values`); ``X`` (n_x, m) holds numbers, ``y`` the m labels. The same
    equations as :func:`nnmath.twolayer.forward_prop` and :func:`nnmath.losses.cross_entropy`,
    entry by entry. The softmax subtracts the largest logit c as a plain number: the loss does
    not depend on c, so no gradient needs to flow through it.
    """
    n_h, n_x = W1.shape
    n_y, m = W2.shape[0], X.shape[1]
    total = Value(0.0)
    for i in range(m):
        z1 = [sum((W1[j, p] * X[p, i] for p in range(n_x)), b1[j, 0]) for j in range(n_h)]
        a1 = [z.relu() for z in z1]
        z2 = [sum((W2[k, j] * a1[j] for j in range(n_h)), b2[k, 0]) for k in range(n_y)]
        c = max(z.data for z in z2)
        e = [(z - c).exp() for z in z2]
        s = sum(e[1:], e[0])
        a2 = [e_k / s for e_k in e]
        total = total - a2[y[i]].log()
    return total / m
