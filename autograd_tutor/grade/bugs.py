"""The bug library: what typical wrong answers to a step are, as functions of the
point they are computed at, so that a diagnosis is named only when the learner's
answer matches it at the lesson's values *and* at the test points.

Each candidate is built from torch's own truths (local factors, gradients,
vector-Jacobian products) with one thing changed: a local factor replaced by a
classic slip of its derivative (from `expr.derive`), dropped, squared, zeroed;
another node's value or gradient; the sign; the reciprocal. They are listed from
the most specific cause to the most general, and the first that matches wins.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..engine.graph import Analysis
from ..expr.ast import Call, Name, names
from ..expr.derive import NoDerivative, Slip, derivative, substitute
from ..expr.display import to_text
from ..expr.evaluate import EvalError, Value, evaluate
from ..lesson.computation import Computation, Edge
from ..lesson.steps import needs_backprop
from . import chain

PointValue = Callable[[Analysis], "Value | None"]


@dataclass(frozen=True)
class Candidate:
    diagnosis: str
    feedback: str
    value: PointValue  # the wrong answer at a point; None where it has no value


# Every automatic diagnosis, for the docs and the tests: tag -> when it fires.
DIAGNOSES = {
    "authored": "the answer matches one of the step's `mistakes` (its feedback is shown)",
    "derivative_table": "a derivative from the table taken wrong (sin′ as −cos, tanh′ as sigmoid′)",
    "power_rule": "the power rule without its factor n, or without lowering the exponent",
    "product_rule": "one term of the product rule, or the product of the derivatives",
    "quotient_rule": "the quotient rule with the denominator's dependence left out",
    "mean_count": "the 1/n of a mean forgotten",
    "missing_term": "a term of bce's derivative left out",
    "outer_argument": "an outer derivative taken at the variable instead of at the inner value",
    "carried": "the chaining is right, but built on the learner's own earlier wrong factor",
    "missing_factor": "one factor of the chain left out",
    "extra_factor": "one factor of the chain used twice",
    "missing_path": "one path of several left out (gradients of paths add up)",
    "local_instead_of_total": "a local factor where the total gradient was asked",
    "total_instead_of_local": "a total gradient where the local factor was asked",
    "missing_upstream": "a backprop step answered without the upstream gradient grad_y",
    "transposed": "the transpose of the right matrix",
    "broadcast_sum": "the gradient of a broadcast input not summed over the broadcast dimension",
    "wrong_node": "the value, factor or gradient of another node",
    "forward_value": "a forward value where a derivative was asked",
    "sign": "the right size with the wrong sign",
    "reciprocal": "the reciprocal of the right value",
    "precision": "the right value rounded to too few significant figures",
    "shape": "an answer of the wrong shape, or a formula whose shapes do not fit together",
    "coincidence": "a formula right at the lesson's values but not at other values",
    "accumulation": "a .grad read as one backward() when several have accumulated",
    "grad_is_none": "a value for a .grad that torch leaves as None",
    "none": "None where torch has a value, or a value where it has None",
    "outcome": "ok for a run that raises, or error for one that runs",
}


def _safe(f: PointValue) -> PointValue:
    def value(point: Analysis) -> Value | None:
        try:
            with np.errstate(all="ignore"):  # 1/0 is inf, which matches no answer
                return f(point)
        except (ValueError, KeyError, EvalError):  # a shape that does not fit, an edge not there
            return None

    return value


def slips_of(comp: Computation, edge: Edge) -> list[Slip]:
    """The classic wrong versions of ∂node/∂arg, as trees (none where the factor
    is not elementwise or a vector of partials, or has no symbolic form)."""
    return [] if needs_backprop(comp, *edge) else _slips(comp, edge)


def _slips(comp: Computation, edge: Edge) -> list[Slip]:
    node, arg = edge
    try:
        true, slips = derivative(comp.nodes[node], arg, lambda e: int(np.size(evaluate(e, comp.inputs | _zeros(comp)))))
    except NoDerivative:
        return []
    inner = comp.args(arg) if arg in comp.nodes else []
    if len(inner) == 1 and names(true) and arg in names(true):  # arg = g(u): the outer derivative taken at u
        (u,) = inner
        feedback = f"Take the derivative of {node} at the value of {arg} = {to_text(comp.nodes[arg])}, not at {u}."
        slips = [*slips, Slip(substitute(true, arg, Name(u)), "outer_argument", feedback)]
    return slips


def _zeros(comp: Computation) -> dict[str, Value]:
    """Placeholder values of every node's shape, for sizing subexpressions."""
    return {n: np.zeros(s) for n, s in comp.shapes.items() if n in comp.nodes}


def _tree_value(tree, comp: Computation, edge: Edge) -> PointValue:
    like = comp.shapes[edge[1]] if not comp.shapes[edge[0]] else comp.shapes[edge[0]]

    def value(point: Analysis) -> Value:
        return np.broadcast_to(evaluate(tree, point.values), like).copy()

    return value


def _overridden(comp: Computation, target: str, edge: Edge, factor: PointValue) -> PointValue:
    """The gradient of `target` with one local factor replaced."""

    def value(point: Analysis) -> Value | None:
        replaced = factor(point)
        if replaced is None:
            return None
        return chain.backward(comp, point, target, {edge: replaced})

    return value


def local_candidates(comp: Computation, edge: Edge) -> list[Candidate]:
    node, arg = edge
    found = [Candidate(s.tag, s.feedback, _safe(_tree_value(s.tree, comp, edge))) for s in slips_of(comp, edge)]
    for other in comp.edges:
        if other != edge and not needs_backprop(comp, *other):
            found.append(
                Candidate(
                    "wrong_node",
                    f"That is ∂{other[0]}/∂{other[1]}, not ∂{node}/∂{arg}.",
                    _safe(lambda p, e=other: p.local[e]),
                )
            )
    for name in comp.upstream():  # a name the output does not depend on has a gradient of 0, no cause
        if name != node:
            found.append(
                Candidate(
                    "total_instead_of_local",
                    f"That is the total gradient d{comp.output}/d{name}; the question asks only for the local factor"
                    f" ∂{node}/∂{arg}, the derivative of {node} = {to_text(comp.nodes[node])}.",
                    lambda p, n=name: p.gradients[n],
                )
            )
    for name in dict.fromkeys((arg, node)):
        found.append(_forward_value(name))
    return found


def gradient_candidates(comp: Computation, target: str) -> list[Candidate]:
    """Most specific first: a path left out, a slip in one factor, a local
    factor given for the total, a factor dropped or doubled, another node's gradient."""
    found: list[Candidate] = []
    between = [e for e in comp.edges if _on_path(comp, e, target)]
    paths = comp.path_count(target)
    if paths > 1:
        for edge in between:
            found.append(
                Candidate(
                    "missing_path",
                    f"That leaves out the path through {edge[0]} → {edge[1]}. {target} reaches {comp.output} along"
                    f" {paths} paths, and the gradients of the paths add up.",
                    _safe(lambda p, e=edge: chain.backward(comp, p, target, cut=e)),
                )
            )
    for edge in between:
        node, arg = edge
        for slip in slips_of(comp, edge):
            factor = _safe(_tree_value(slip.tree, comp, edge))
            feedback = f"In ∂{node}/∂{arg}: {slip.feedback}"
            found.append(Candidate(slip.tag, feedback, _safe(_overridden(comp, target, edge, factor))))
    for user in comp.consumers.get(target, []):
        if user != comp.output and not needs_backprop(comp, user, target):
            found.append(
                Candidate(
                    "local_instead_of_total",
                    f"That is only the local factor ∂{user}/∂{target}; multiply it by the gradient flowing back into"
                    f" {user}, d{comp.output}/d{user}.",
                    _safe(lambda p, u=user: p.local[(u, target)]),
                )
            )
    for edge in (e for e in between if not needs_backprop(comp, *e)):  # a factor that is a number or elementwise
        node, arg = edge
        inner = " (the inner derivative)" if arg == target and node != comp.output else ""
        found.append(
            Candidate(
                "missing_factor",
                f"You dropped the factor ∂{node}/∂{arg}{inner}, the derivative of {node} = {to_text(comp.nodes[node])}."
                " The chain rule multiplies every factor along the path.",
                _safe(_overridden(comp, target, edge, lambda p, e=edge: np.ones_like(p.local[e]))),
            )
        )
        found.append(
            Candidate(
                "extra_factor",
                f"You multiplied by ∂{node}/∂{arg} once too often.",
                _safe(_overridden(comp, target, edge, lambda p, e=edge: p.local[e] ** 2)),
            )
        )
    if comp.grad_output is not None:
        ones = np.ones(comp.shapes[comp.output])
        found.append(
            Candidate(
                "missing_upstream",
                f"{comp.output} is not a scalar: backward(grad_output) weights the gradient of each of its"
                " entries by grad_output. Multiply by it.",
                _safe(lambda p: chain.backward(comp, p, target, seed=ones)),
            )
        )
    for name in comp.upstream():
        if name not in (target, comp.output):
            found.append(
                Candidate(
                    "wrong_node",
                    f"That is d{comp.output}/d{name}, not d{comp.output}/d{target}.",
                    lambda p, n=name: p.gradients[n],
                )
            )
    for name in dict.fromkeys((target, comp.output)):
        found.append(_forward_value(name))
    return found


def carried(comp: Computation, target: str, given: dict[Edge, tuple[int, PointValue]]) -> list[Candidate]:
    """The gradient chained from the learner's own earlier factor answers."""
    if not given:
        return []

    def value(point: Analysis) -> Value | None:
        replaced = {}
        for edge, (_, factor) in given.items():
            v = factor(point)
            if v is None:
                return None
            replaced[edge] = v
        return chain.backward(comp, point, target, replaced)

    steps = ", ".join(f"∂{e[0]}/∂{e[1]} from step {n + 1}" for e, (n, _) in given.items())
    feedback = f"The chaining is right, but your {steps} was off: fix that factor and chain again."
    return [Candidate("carried", feedback, _safe(value))]


def backprop_candidates(comp: Computation, edge: Edge, upstream: PointValue) -> list[Candidate]:
    """`upstream(point)` is the gradient flowing into the node at that point."""
    node, arg = edge
    found = []
    for slip in _slips(comp, edge):
        factor = _tree_value(slip.tree, comp, edge)
        pushed = _safe(lambda p, f=factor: chain.unbroadcast(upstream(p) * f(p), comp.shapes[arg]))
        found.append(Candidate(slip.tag, slip.feedback, pushed))
    return found + [
        Candidate(
            "missing_upstream",
            f"Multiply by grad_{node}: what flows into {arg} is the upstream gradient pushed back through {node}'s"
            " operation, not the operation's derivative alone.",
            _safe(lambda p: p.vjp(edge, np.ones(comp.shapes[node]))),
        ),
        _forward_value(node),
        _forward_value(arg),
    ]


def forward_candidates(comp: Computation, target: str) -> list[Candidate]:
    return [
        Candidate("wrong_node", f"That is the value of {name}, not of {target}.", lambda p, n=name: p.values[n])
        for name in (*comp.inputs, *comp.nodes)
        if name != target
    ]


MEAN_LOSSES = ("mean", "mse", "bce_with_logits", "cross_entropy")


def averaged(comp: Computation, below: str, truth: PointValue) -> list[Candidate]:
    """The truth without the 1/n of a mean-reduced node the gradient flows through."""
    found = []
    for node, expr in comp.nodes.items():
        if isinstance(expr, Call) and expr.func in MEAN_LOSSES and len(expr.args) <= 2 and _reaches(comp, node, below):
            if expr.func == "mean" and len(expr.args) == 2:
                continue
            first = expr.args[0]
            n = int(np.size(evaluate(first, comp.inputs | _zeros(comp))))
            if expr.func == "cross_entropy":
                n = comp.shapes[first.id][0] if isinstance(first, Name) and len(comp.shapes[first.id]) == 2 else 1
            if n > 1:
                what = "rows" if expr.func == "cross_entropy" else "elements"
                feedback = f"{expr.func} averages over {n} {what}: its gradient has a factor 1/{n}."
                found.append(Candidate("mean_count", feedback, _safe(lambda p, k=n: truth(p) * k)))
    return found


def _reaches(comp: Computation, node: str, below: str) -> bool:
    """Whether the gradient flowing into `below` passes through `node`."""
    return node == below or below in _below(comp, node)


def general(truth: PointValue, scalar: bool) -> list[Candidate]:
    found = [Candidate("sign", "Check the sign: the size is right, the sign is not.", lambda p: -truth(p))]
    if scalar:
        found.append(
            Candidate(
                "reciprocal", "That is the reciprocal: the derivative is upside down.", _safe(lambda p: 1 / truth(p))
            )
        )
    return found


def _forward_value(name: str) -> Candidate:
    return Candidate(
        "forward_value",
        f"That is the value of {name} in the forward pass; the question asks for a derivative.",
        lambda p: p.values[name],
    )


def _on_path(comp: Computation, edge: Edge, target: str) -> bool:
    node, arg = edge
    return node in comp.upstream() and (arg == target or target in _below(comp, arg))


def _below(comp: Computation, name: str) -> set[str]:
    found, stack = set(), [name]
    while stack:
        n = stack.pop()
        if n in comp.nodes:
            for a in comp.args(n):
                if a not in found:
                    found.add(a)
                    stack.append(a)
    return found
