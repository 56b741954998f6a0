"""The function a derivative step is about, around the current point, for a plot.

For `local: [z, y]`, z's own expression as y moves (its other arguments held);
for `gradient: x`, the output as x moves (the graph recomputed below it). Only
for lessons of scalars. The tangent, whose slope is the step's answer, is part
of the plot only once the step is answered or revealed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy

from ..expr.evaluate import evaluate
from ..lesson.computation import Computation
from ..session import LessonSession

POINTS = 81


@dataclass(frozen=True)
class PlotView:
    title: str  # "z = sin(y) as y moves"
    x_label: str
    y_label: str
    xs: tuple[float, ...]
    ys: tuple[float, ...]  # nan where the function is not defined
    point: tuple[float, float]
    slope: float | None  # the tangent's slope, once the step is answered or revealed


def plot_view(session: LessonSession) -> PlotView | None:
    """The plot for the current step, or None: not a derivative step, or not a lesson of scalars."""
    comp, step = session.comp, session.step
    if step.kind not in ("local", "gradient") or not scalars(comp):
        return None
    env = _values(comp, {n: float(v) for n, v in comp.inputs.items()})
    if step.kind == "local":
        node, moved = step.target
        expr = comp.nodes[node]

        def f(v: float) -> float:
            return float(evaluate(expr, {**env, moved: v}))

        held = ", the rest held" if len(comp.args(node)) > 1 else ""
        title, y_label = f"{node} as {moved} moves{held}", node
    else:
        moved, y_label = step.target, comp.output

        def f(v: float) -> float:
            return _values(comp, {**env, moved: v}, start=moved)[comp.output]

        title = f"{comp.output} as {moved} moves"
    x0 = env[moved]
    y0 = _safe(f, x0)
    xs, ys = _window(f, x0)
    done = session.record.status in ("solved", "revealed")
    slope = _truth(session) if done else None
    return PlotView(title, moved, y_label, xs, ys, (x0, y0), slope)


def _window(f, x0: float) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Points around x0: half the value's size either side (at least 1), narrowed while the
    function wiggles (it goes up and down more than twice its range), so a tangent means something."""
    reach = max(1.0, abs(x0) / 2)
    for _ in range(8):
        xs = tuple(float(x) for x in numpy.linspace(x0 - reach, x0 + reach, POINTS))
        ys = tuple(_safe(f, x) for x in xs)
        finite = [y for y in ys if not math.isnan(y)]
        travel = sum(abs(b - a) for a, b in zip(finite, finite[1:]))
        if len(finite) < 2 or travel <= 2 * (max(finite) - min(finite)):
            break
        reach /= 2
    return xs, ys


def has_plots(session: LessonSession) -> bool:
    """Whether any step of the lesson has a plot (a derivative step of a lesson of scalars)."""
    return scalars(session.comp) and any(step.kind in ("local", "gradient") for step in session.steps)


def scalars(comp: Computation) -> bool:
    return all(numpy.ndim(v) == 0 for v in comp.inputs.values()) and all(not s for s in comp.sizes.values())


def _truth(session: LessonSession) -> float:
    step, truth = session.step, session.engine.truth
    value = truth.local[tuple(step.target)] if step.kind == "local" else truth.gradients[step.target]
    return float(value)


def _values(comp: Computation, env: dict[str, float], start: str | None = None) -> dict[str, float]:
    """Every node computed from `env`; with `start`, that node keeps its value in `env`."""
    out = dict(env)
    for name, expr in comp.nodes.items():
        if name != start:
            out[name] = _safe(lambda e: float(evaluate(e, out)), expr)
    return out


def _safe(f, x) -> float:
    try:
        y = f(x)
    except (ArithmeticError, ValueError, TypeError):
        return math.nan
    return y if math.isfinite(y) else math.nan
