"""A lesson's computation as parsed expressions: the graph every layer reads."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from ..expr.ast import Expr, has_reduction, names
from ..expr.evaluate import Value

Edge = tuple[str, str]  # (node, argument): the local factor ∂node/∂argument


@dataclass(frozen=True)
class Computation:
    dtype: str
    inputs: dict[str, Value]  # authored values: floats, or tuples for vectors
    requires_grad: dict[str, bool]
    nodes: dict[str, Expr]  # in definition order
    output: str
    sizes: dict[str, int]  # vector length of each input and node; 0 for a scalar

    def args(self, node: str) -> list[str]:
        """The inputs and nodes in a node's expression, in order of first appearance."""
        return names(self.nodes[node])

    def elementwise(self, node: str) -> bool:
        """A node computed element by element (no reduction inside)."""
        return not has_reduction(self.nodes[node])

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
