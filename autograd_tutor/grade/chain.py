"""Chain-rule arithmetic on values: one backward step through one edge.

Used to build what a learner might have computed (the product along a path with
a factor dropped, a gradient from the rounded numbers on screen) for the grader.
"""

from __future__ import annotations

from ..expr.evaluate import Value
from ..lesson.computation import Computation, Edge


def step_back(comp: Computation, edge: Edge, upstream: Value, factor: Value) -> Value:
    """d(output)/d(arg) contributed through `edge`, from d(output)/d(node) and ∂node/∂arg."""
    node, arg = edge
    node_vec, arg_vec = bool(comp.sizes[node]), bool(comp.sizes[arg])
    if not node_vec:  # scalar node: the factor is the arg's shape
        return _scale(factor, _scalar(upstream))
    if not arg_vec:  # vector node, scalar arg: factor[i] = ∂node_i/∂arg
        return sum(g * f for g, f in zip(_vector(upstream, len(factor)), factor))
    if comp.elementwise(node):  # diagonal Jacobian, given as a vector
        return tuple(g * f for g, f in zip(_vector(upstream, len(factor)), factor))
    rows = factor  # full Jacobian: rows[i][j] = ∂node_i/∂arg_j
    g = _vector(upstream, len(rows))
    return tuple(sum(g[i] * rows[i][j] for i in range(len(rows))) for j in range(len(rows[0])))


def along(comp: Computation, path: list[Edge], local: dict[Edge, Value], skip: Edge | None = None) -> Value:
    """The gradient contributed by one path, optionally with one factor dropped."""
    g: Value = 1.0
    for edge in path:
        if edge != skip:
            g = step_back(comp, edge, g, local[edge])
    return g


def add(a: Value, b: Value) -> Value:
    if isinstance(a, tuple) or isinstance(b, tuple):
        n = len(a) if isinstance(a, tuple) else len(b)
        return tuple(x + y for x, y in zip(_vector(a, n), _vector(b, n)))
    return a + b


def sub(a: Value, b: Value) -> Value:
    return add(a, _scale(b, -1.0))


def _scale(value: Value, k: float) -> Value:
    return tuple(_scale(v, k) for v in value) if isinstance(value, tuple) else value * k


def _scalar(value: Value) -> float:
    if isinstance(value, tuple):
        raise ValueError("shape")
    return value


def _vector(value: Value, n: int) -> tuple:
    if isinstance(value, tuple):
        if len(value) != n or any(isinstance(v, tuple) for v in value):
            raise ValueError("shape")
        return value
    return (value,) * n
