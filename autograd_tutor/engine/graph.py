"""The mathematics of a lesson's graph, computed by torch autograd.

`analyse` builds the graph at given input values with every leaf requiring grad
(the `forward`/`local`/`gradient` steps ask about the mathematics, whatever
`requires_grad` says) and returns forward values, total gradients from
`output.backward()` with `retain_grad()` on every node, and each local factor
from autograd on the node's own expression with its arguments as fresh leaves.
The truth is computed in float64 (the twin) and, for display, in the lesson's dtype.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

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


@dataclass(frozen=True)
class Analysis:
    values: dict[str, Value]  # inputs and nodes
    gradients: dict[str, Value]  # d(output)/d(name)
    local: LocalFactors  # ∂node/∂arg, computed when asked for

    def finite(self) -> bool:
        return all(is_finite(v) for d in (self.values, self.gradients) for v in d.values())


def analyse(comp: Computation, inputs: dict[str, Value], dtype: str = "float64") -> Analysis:
    t = torch()
    dt = torch_dtype(dtype)
    leaves = {n: t.tensor(v, dtype=dt, requires_grad=True) for n, v in inputs.items()}
    tensors: dict[str, Any] = dict(leaves)
    for name, expr in comp.nodes.items():
        tensor = build(expr, tensors, t, dt)
        if any(tensor is other for other in tensors.values()):
            tensor = tensor.view_as(tensor)  # `y: x` is a node of its own, with its own gradient
        tensors[name] = tensor
        if tensor.requires_grad and not tensor.is_leaf:
            tensor.retain_grad()
    out = tensors[comp.output]
    if out.requires_grad:
        out.backward()
    values = {n: to_value(x) for n, x in tensors.items()}
    gradients = {n: to_value(x.grad) if x.grad is not None else _zeros(values[n]) for n, x in tensors.items()}
    if comp.output in gradients and not out.requires_grad:
        gradients[comp.output] = 1.0
    return Analysis(values, gradients, LocalFactors(comp, values, dtype))


def local_factor(comp: Computation, edge: Edge, values: dict[str, Value], dtype: str = "float64") -> Value:
    """∂node/∂arg by autograd on the node's own expression, arguments as fresh leaves.

    Scalar node: the partials (a vector for a vector argument). Vector node: the
    elementwise factor when it is computed element by element, else the Jacobian."""
    t = torch()
    dt = torch_dtype(dtype)
    node, arg = edge
    leaves = {a: t.tensor(values[a], dtype=dt, requires_grad=True) for a in comp.args(node)}
    out = build(comp.nodes[node], leaves, t, dt)
    wrt = leaves[arg]
    if out.dim() == 0:
        (grad,) = t.autograd.grad(out, wrt, allow_unused=True)
        return to_value(grad) if grad is not None else _zeros(values[arg])
    rows = []
    for i in range(out.shape[0]):
        (grad,) = t.autograd.grad(out[i], wrt, retain_graph=True, allow_unused=True)
        rows.append(to_value(grad) if grad is not None else _zeros(values[arg]))
    if wrt.dim() == 1 and comp.elementwise(node):
        return tuple(row[i] for i, row in enumerate(rows))
    return tuple(rows)


def grad_fn_names(comp: Computation, inputs: dict[str, Value], requires_grad: dict[str, bool]) -> dict[str, str | None]:
    """torch's grad_fn name of every node, with requires_grad as authored."""
    t = torch()
    dt = torch_dtype(comp.dtype)
    tensors: dict[str, Any] = {n: t.tensor(v, dtype=dt, requires_grad=requires_grad[n]) for n, v in inputs.items()}
    for name, expr in comp.nodes.items():
        tensors[name] = build(expr, tensors, t, dt)
    return {n: (x.grad_fn.name() if x.grad_fn is not None else None) for n, x in tensors.items()}


def _zeros(value: Value) -> Value:
    return tuple(_zeros(v) for v in value) if isinstance(value, tuple) else 0.0


class Engine:
    """The truths of one lesson: at the authored inputs, and at sampled points."""

    SAMPLES = 4
    TRIES = 24

    def __init__(self, comp: Computation):
        self.comp = comp
        self.truth = analyse(comp, comp.inputs)  # float64 twin
        self.native = analyse(comp, comp.inputs, comp.dtype) if comp.dtype != "float64" else self.truth
        self.grad_fn = grad_fn_names(comp, comp.inputs, comp.requires_grad)
        self._samples: dict[frozenset[str], tuple[Analysis, ...]] = {}

    def samples(self, perturb: frozenset[str]) -> tuple[Analysis, ...]:
        """Analyses at other points, where only the inputs in `perturb` move.

        Points are drawn around the authored values (seeded, so verdicts are
        reproducible) and kept where every value, gradient and factor is finite."""
        if perturb not in self._samples:
            self._samples[perturb] = self._draw(perturb)
        return self._samples[perturb]

    def _draw(self, perturb: frozenset[str]) -> tuple[Analysis, ...]:
        if not perturb:
            return ()
        rng = random.Random(f"{sorted(perturb)}")
        found: list[Analysis] = []
        for _ in range(self.TRIES):
            point = {n: (_perturb(v, rng) if n in perturb else v) for n, v in self.comp.inputs.items()}
            analysis = analyse(self.comp, point)
            if analysis.finite():
                found.append(analysis)
                if len(found) == self.SAMPLES:
                    break
        return tuple(found)


def _perturb(value: Value, rng: random.Random) -> Value:
    if isinstance(value, tuple):
        return tuple(_perturb(v, rng) for v in value)
    step = 0.3 * max(abs(value), 0.5) * rng.uniform(0.2, 1.0) * rng.choice((-1, 1))
    return value + step
