"""Chain-rule arithmetic on values: the backward pass, computed from local factors.

With every local factor as torch gives it, `backward` reproduces torch's
gradient; with one factor replaced (dropped, squared, zeroed, mistaken, or the
learner's own earlier answer) it gives what a learner who made that mistake
would have computed, which is how the grader recognises such answers. Edges
whose factor is not elementwise go through torch's vector-Jacobian product.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..engine.graph import Analysis
from ..expr.evaluate import Value
from ..lesson.computation import Computation, Edge
from ..lesson.steps import needs_backprop


def step_back(comp: Computation, edge: Edge, upstream: Value, factor: Value) -> Value:
    """d(output)/d(arg) contributed through `edge`, from d(output)/d(node) and ∂node/∂arg.

    The factor is either the Jacobian (node's shape + arg's shape) or, for an
    elementwise node, the elementwise factor (node's shape, or a number)."""
    node, arg = edge
    g = np.asarray(upstream, dtype=float)
    f = np.asarray(factor, dtype=float)
    node_shape, arg_shape = tuple(comp.shapes[node]), tuple(comp.shapes[arg])
    if node_shape and arg_shape and f.shape == node_shape + arg_shape:  # a Jacobian
        return np.tensordot(g, f, axes=len(node_shape))
    if not node_shape:  # a scalar node: the partials, in the argument's shape
        return np.broadcast_to(g * f, arg_shape).copy()
    if not arg_shape:  # a scalar argument: ∂node_i/∂arg, in the node's shape
        return np.sum(g * np.broadcast_to(f, node_shape))
    return unbroadcast(np.broadcast_to(g * f, node_shape), arg_shape)


def unbroadcast(value: Value, shape: tuple[int, ...]) -> Value:
    """Sum `value` over the dimensions a tensor of `shape` was broadcast along."""
    v = np.asarray(value, dtype=float)
    while v.ndim > len(shape):
        v = v.sum(axis=0)
    for axis, size in enumerate(shape):
        if size == 1 and v.shape[axis] != 1:
            v = v.sum(axis=axis, keepdims=True)
    if v.shape != tuple(shape):
        raise ValueError("shape")
    return v


def backward(
    comp: Computation,
    point: Analysis,
    target: str,
    replaced: Mapping[Edge, Value] | None = None,
    seed: Value | None = None,
    cut: Edge | None = None,
) -> Value:
    """d(output)/d(target) at `point`, accumulated edge by edge from the output
    (seeded with `seed`, else grad_output, else 1) down to `target`. An edge in
    `replaced` uses that local factor instead of torch's; the `cut` edge carries
    nothing (a path left out)."""
    replaced = replaced or {}
    if seed is None:
        seed = comp.grad_output if comp.grad_output is not None else np.ones(comp.shapes[comp.output])
    grads: dict[str, Value] = {comp.output: np.asarray(seed, dtype=float)}
    needed = _between(comp, target)
    for node in reversed(comp.nodes):
        if node not in grads or node not in needed:
            continue
        for arg in comp.args(node):
            if arg in needed and (node, arg) != cut:
                edge = (node, arg)
                if edge in replaced:
                    contribution = step_back(comp, edge, grads[node], replaced[edge])
                else:
                    contribution = push(comp, point, edge, grads[node])
                grads[arg] = grads[arg] + contribution if arg in grads else contribution
    return grads.get(target, np.zeros(comp.shapes[target]))


def push(comp: Computation, point: Analysis, edge: Edge, upstream: Value) -> Value:
    """What flows through `edge` at `point` with torch's own local derivative: a
    vector-Jacobian product where the factor is not elementwise (no Jacobian built)."""
    if needs_backprop(comp, *edge):
        return point.vjp(edge, upstream)
    return step_back(comp, edge, upstream, point.local[edge])


def _between(comp: Computation, target: str) -> set[str]:
    """The names on some path from the output down to `target`."""
    reaches: dict[str, bool] = {target: True}

    def reach(name: str) -> bool:
        if name not in reaches:
            reaches[name] = name in comp.nodes and any([reach(a) for a in comp.args(name)])
        return reaches[name]

    reach(comp.output)
    return {n for n, r in reaches.items() if r}
