"""The mathematics of a lesson's graph, computed by torch autograd.

`analyse` builds the graph at given input values with every leaf requiring grad
(the `forward`/`local`/`gradient`/`backprop` steps ask about the mathematics,
whatever `requires_grad` says) and returns forward values, total gradients from
`output.backward()` (with `grad_output` for a non-scalar output) and
`retain_grad()` on every node, each local factor from autograd on the node's
own expression with its arguments as fresh leaves, and vector-Jacobian products
for backprop steps. Values are numpy float64 arrays. The truth is computed in
float64 (the twin) and, for display, in the lesson's dtype.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..expr.ast import names
from ..expr.evaluate import Value, is_finite
from ..expr.to_torch import build
from ..lesson.computation import Computation, Edge
from .torch_import import dtype as torch_dtype
from .torch_import import to_value, torch


class LocalFactors(Mapping):
    """∂node/∂arg for every edge, each computed by torch on first use."""

    def __init__(self, comp: Computation, values: dict[str, Value], dtype: str):
        self._comp, self._values, self._dtype = comp, values, dtype
        self._cache: dict[Edge, Value] = {}

    def __getitem__(self, edge: Edge) -> Value:
        if edge not in self._cache:
            if edge not in self._comp.edges:
                raise KeyError(edge)
            self._cache[edge] = local_factor(self._comp, edge, self._values, self._dtype)
        return self._cache[edge]

    def __iter__(self) -> Iterator[Edge]:
        return iter(self._comp.edges)

    def __len__(self) -> int:
        return len(self._comp.edges)


@dataclass
class Analysis:
    comp: Computation
    values: dict[str, Value]  # inputs and nodes
    gradients: dict[str, Value]  # d(output)/d(name)
    local: LocalFactors  # ∂node/∂arg, computed when asked for
    dtype: str = "float64"
    seed: int = 0  # for the random upstream gradients of backprop checks at this point
    _upstreams: dict[str, Value] = field(default_factory=dict)
    _vjps: dict[tuple, Value] = field(default_factory=dict)

    def finite(self) -> bool:
        return all(is_finite(v) for d in (self.values, self.gradients) for v in d.values())

    def vjp(self, edge: Edge, upstream: Value) -> Value:
        """What flows into `edge`'s argument when `upstream` flows into its node (kept: a
        test point is shared by every variant of its lesson, and asked again by each)."""
        upstream = np.asarray(upstream, dtype=float)
        key = (edge, upstream.shape, upstream.tobytes())
        if key not in self._vjps:
            self._vjps[key] = vjp(self.comp, edge, self.values, upstream, self.dtype)
        return self._vjps[key]

    def local_finite(self, edge: Edge) -> bool:
        """Whether ∂node/∂arg is finite everywhere. Where it is a Jacobian, the product with
        an upstream of ones says so at the cost of one backward pass: each of its entries
        is a sum over a column, finite only when every term is."""
        node, arg = edge
        shapes = self.comp.shapes
        if not shapes[node] or (self.comp.elementwise(node) and shapes[node] == shapes[arg]):
            return is_finite(self.local[edge])
        return is_finite(self.vjp(edge, np.ones(shapes[node])))

    def upstream(self, node: str) -> Value:
        """A random upstream gradient of `node`'s shape (seeded by the point), for
        checking a backprop formula with gradients other than the true one."""
        if node not in self._upstreams:
            rng = np.random.default_rng([self.seed, *node.encode()])
            self._upstreams[node] = np.round(rng.uniform(-2, 2, self.comp.shapes[node]), 2)
        return self._upstreams[node]


def _leaves(comp: Computation, inputs: dict[str, Value], dt: Any, grad: bool) -> dict[str, Any]:
    t = torch()
    return {n: t.tensor(v, dtype=dt, requires_grad=grad and n not in comp.targets) for n, v in inputs.items()}


def analyse(comp: Computation, inputs: dict[str, Value], dtype: str = "float64", seed: int = 0) -> Analysis:
    t = torch()
    dt = torch_dtype(dtype)
    tensors: dict[str, Any] = _leaves(comp, inputs, dt, True)
    for name, expr in comp.nodes.items():
        tensor = build(expr, tensors, t, dt)
        if any(tensor is other for other in tensors.values()):
            tensor = tensor.view_as(tensor)  # `y: x` is a node of its own, with its own gradient
        tensors[name] = tensor
        if tensor.requires_grad and not tensor.is_leaf:
            tensor.retain_grad()
    out = tensors[comp.output]
    if out.requires_grad:
        grad_output = None if comp.grad_output is None else t.tensor(comp.grad_output, dtype=dt)
        out.backward(grad_output)
    values = {n: to_value(x) for n, x in tensors.items()}
    gradients = {n: to_value(x.grad) if x.grad is not None else np.zeros_like(values[n]) for n, x in tensors.items()}
    if not out.requires_grad:
        gradients[comp.output] = np.ones_like(values[comp.output]) if comp.grad_output is None else comp.grad_output
    return Analysis(comp, values, gradients, LocalFactors(comp, values, dtype), dtype, seed)


def _node_graph(comp: Computation, node: str, values: dict[str, Value], dtype: str) -> tuple[Any, dict[str, Any]]:
    """A node's own expression with its arguments as fresh leaves."""
    t = torch()
    dt = torch_dtype(dtype)
    used = {a: values[a] for a in names(comp.nodes[node])}
    leaves = _leaves(comp, used, dt, True)
    return build(comp.nodes[node], leaves, t, dt), leaves


def local_factor(comp: Computation, edge: Edge, values: dict[str, Value], dtype: str = "float64") -> Value:
    """∂node/∂arg by autograd on the node's own expression, arguments as fresh leaves.

    A scalar node: the partials (the argument's shape). An elementwise node and an
    argument of its shape: the elementwise factor. Otherwise the Jacobian, of shape
    node's shape + argument's shape."""
    t = torch()
    node, arg = edge
    out, leaves = _node_graph(comp, node, values, dtype)
    wrt = leaves[arg]
    if out.dim() == 0:
        return _grad(t, out, wrt, None, values[arg])
    if comp.elementwise(node) and tuple(wrt.shape) == tuple(out.shape):
        return _grad(t, out, wrt, t.ones_like(out), values[arg])
    flat = out.reshape(-1)
    rows = [_grad(t, flat[i], wrt, None, values[arg], retain=True) for i in range(flat.shape[0])]
    return np.stack(rows).reshape(tuple(out.shape) + tuple(wrt.shape))


def vjp(comp: Computation, edge: Edge, values: dict[str, Value], upstream: Value, dtype: str = "float64") -> Value:
    """torch.autograd.grad(node, arg, grad_outputs=upstream), the other arguments fixed."""
    t = torch()
    node, arg = edge
    out, leaves = _node_graph(comp, node, values, dtype)
    grad_out = t.tensor(np.broadcast_to(upstream, tuple(out.shape)).copy(), dtype=out.dtype)
    return _grad(t, out, leaves[arg], grad_out, values[arg])


def _grad(t: Any, out: Any, wrt: Any, grad_out: Any, like: Value, retain: bool = False) -> Value:
    (grad,) = t.autograd.grad(out, wrt, grad_outputs=grad_out, retain_graph=retain, allow_unused=True)
    return to_value(grad) if grad is not None else np.zeros_like(like)


def grad_fn_names(comp: Computation, inputs: dict[str, Value], requires_grad: dict[str, bool]) -> dict[str, str | None]:
    """torch's grad_fn name of every node, with requires_grad as authored."""
    t = torch()
    dt = torch_dtype(comp.dtype)
    tensors: dict[str, Any] = {
        n: t.tensor(v, dtype=dt, requires_grad=requires_grad[n] and n not in comp.targets) for n, v in inputs.items()
    }
    for name, expr in comp.nodes.items():
        tensors[name] = build(expr, tensors, t, dt)
    return {n: (x.grad_fn.name() if x.grad_fn is not None else None) for n, x in tensors.items()}
