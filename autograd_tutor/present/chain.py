"""The chain product building up along the graph: `dz/dx = ∂z/∂y · ∂y/∂x`, then
`= -0.9577 · 8 = ?` with the factors found so far filled in.

A path from the output down to the target starts, where it can, from a gradient
the learner already found by hand (`dL/dz2 · ∂z2/∂w2`): that is how the
backward pass reuses what it computed."""

from __future__ import annotations

from ..expr.display import format_value
from ..lesson.computation import Edge
from ..session import LessonSession
from .graph import MAX_SHOWN
from .spans import Line, Span

MAX_PATHS = 4


def chain_lines(session: LessonSession, ready: bool) -> list[Line]:
    """For a `gradient` step: the sum over paths of the factors' products. For a
    `local` step below the output: the path through the asked edge, that factor open."""
    step, comp = session.step, session.comp
    if step.kind == "gradient":
        target, through = step.target, None
    elif step.kind == "local":
        target, through = step.target[1], tuple(step.target)
        if through[0] == comp.output:
            return []  # the first link: the factor is the whole chain
    else:
        return []
    if target == comp.output:
        return []
    count = comp.path_count(target)
    lhs = f"d{comp.output}/d{target}"
    if count > MAX_PATHS:
        return [(Span(f"{lhs} = the sum over {count} paths of the local factors' products"),)]
    paths = [p for p in comp.paths(target) if through is None or p[-1] == through]
    if not paths:
        return [(Span(f"{lhs} = 0: {target} does not reach {comp.output}"),)]
    factors, gradients = _found(session) if ready else ({}, {})
    terms = [_term(path, factors, gradients, comp.output, through) for path in paths]
    prefix = f"{lhs} = " if through is None else f"towards {lhs}: "
    symbols: list[Span] = [Span(prefix)]
    numbers: list[Span] = [Span(" " * (len(prefix) - 2) + "= ")]
    for i, (names, values) in enumerate(terms):
        if i:
            symbols.append(Span(" + "))
            numbers.append(Span(" + "))
        symbols.append(Span(" · ".join(names)))
        for j, (text, style) in enumerate(values):
            if j:
                numbers.append(Span(" · "))
            numbers.append(Span(text, style))
    if through is None:
        done = session.record.status in ("solved", "revealed")
        result = format_value(session.engine.native.gradients[target], MAX_SHOWN) if done and ready else "?"
        numbers += [Span(" = "), Span(result, "hand" if done else "focus")]
    return [tuple(symbols), tuple(numbers)] if ready else [tuple(symbols)]


def _found(session: LessonSession) -> tuple[dict[Edge, str], dict[str, str]]:
    facts = session.facts()
    factors = {edge: format_value(v, MAX_SHOWN) for edge, v in facts.factors.items()}
    gradients = {name: format_value(v, MAX_SHOWN) for name, v in facts.gradients.items()}
    return factors, gradients


def _term(
    path: list[Edge], factors: dict[Edge, str], gradients: dict[str, str], output: str, through: Edge | None
) -> tuple[list[str], list[tuple[str, str]]]:
    """One path's symbols and values, starting from the lowest node whose gradient is known."""
    start = 0
    for i in range(len(path) - 1, 0, -1):
        if path[i][0] in gradients:
            start = i
            break
    names: list[str] = []
    values: list[tuple[str, str]] = []
    if start:
        node = path[start][0]
        names.append(f"d{output}/d{node}")
        values.append((gradients[node], "hand"))
    for edge in path[start:]:
        names.append(f"∂{edge[0]}/∂{edge[1]}")
        if edge == through:
            values.append((factors.get(edge, "?"), "focus"))
        else:
            values.append((factors[edge], "hand") if edge in factors else ("?", "dim"))
    return names, values
