"""A lesson's computation as parsed expressions: the graph every layer reads."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property

import numpy as np

from ..expr.ast import Expr, names
from ..expr.functions import is_elementwise
from ..expr.to_code import to_code
from .model import Range

Edge = tuple[str, str]  # (node, argument): the local factor ∂node/∂argument
Domain = str | tuple | Range | None  # "fixed", a tuple of arrays, a Range, or None for the default


@dataclass(frozen=True)
class Computation:
    dtype: str
    inputs: dict[str, np.ndarray]  # the values of this variant (float64 arrays)
    requires_grad: dict[str, bool]
    nodes: dict[str, Expr]  # in definition order
    output: str
    shapes: dict[str, tuple[int, ...]]  # of every input and node
    grad_output: np.ndarray | None = None  # output.backward(grad_output) for a non-scalar output
    targets: frozenset[str] = frozenset()  # inputs holding class indices (cross_entropy targets)
    domains: dict[str, Domain] = field(default_factory=dict)  # where each input may move (`sample`)
    authored: dict[str, np.ndarray] = field(default_factory=dict)  # variant 0's values

    def at(self, inputs: dict[str, np.ndarray]) -> Computation:
        """The same computation at other input values (a variant)."""
        return replace(self, inputs=inputs)

    def args(self, node: str) -> list[str]:
        """The inputs and nodes a gradient flows into from `node`, in order of first
        appearance in its expression (class-index targets carry no gradient)."""
        return [n for n in names(self.nodes[node]) if n not in self.targets]

    def elementwise(self, node: str) -> bool:
        """A node computed element by element (no reduction, matmul or mixing inside)."""
        return is_elementwise(self.nodes[node])

    @property
    def sizes(self) -> dict[str, int]:
        """Vector length of each input and node; 0 for a scalar (matrices: their rows)."""
        return {n: (s[0] if s else 0) for n, s in self.shapes.items()}

    def is_tensor(self, name: str) -> bool:
        """A matrix, or a vector in a lesson with matrices: answered by backprop steps."""
        return len(self.shapes[name]) >= 2

    def fixed(self, name: str) -> bool:
        return self.domains.get(name) == "fixed" or (name in self.targets and self.domains.get(name) is None)

    @cached_property
    def consumers(self) -> dict[str, list[str]]:
        users: dict[str, list[str]] = {name: [] for name in (*self.inputs, *self.nodes)}
        for node in self.nodes:
            for arg in self.args(node):
                users[arg].append(node)
        return users

    def input_ancestors(self, used: list[str]) -> set[str]:
        """The inputs that `used` names depend on (including inputs named directly)."""
        found: set[str] = set()
        stack = list(used)
        while stack:
            name = stack.pop()
            if name in self.inputs:
                found.add(name)
            elif name in self.nodes:
                stack.extend(self.args(name))
        return found

    def path_count(self, to: str) -> int:
        """How many paths lead from the output down to `to` (without listing them)."""
        counts: dict[str, int] = {to: 1}

        def count(name: str) -> int:
            if name not in counts:
                counts[name] = sum(count(arg) for arg in self.args(name)) if name in self.nodes else 0
            return counts[name]

        return count(self.output)

    def paths(self, to: str) -> list[list[Edge]]:
        """Every path of edges from the output down to `to` (empty if unreachable)."""

        def down(node: str) -> list[list[Edge]]:
            if node == to:
                return [[]]
            if node not in self.nodes:
                return []
            return [[(node, arg), *rest] for arg in self.args(node) for rest in down(arg)]

        return down(self.output)

    @cached_property
    def edges(self) -> tuple[Edge, ...]:
        return tuple((node, arg) for node in self.nodes for arg in self.args(node))

    def upstream(self) -> set[str]:
        """The names the output depends on (itself included)."""
        found, stack = set(), [self.output]
        while stack:
            name = stack.pop()
            if name not in found:
                found.add(name)
                if name in self.nodes:
                    stack.extend(self.args(name))
        return found

    def forward_code(self) -> list[str]:
        return [f"{name} = {to_code(expr)}" for name, expr in self.nodes.items()]
