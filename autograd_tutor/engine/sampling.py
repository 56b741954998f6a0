"""Where a lesson's inputs may move: test points and variants (`sample`).

Every input that is not `fixed` moves within its domain: one of its listed
values, a uniform draw (or grid) in `{low, high, step}`, or by default a draw of
either sign from [−2|v|−1, 2|v|+1] around its authored value v, element by
element. A point is kept only where every node and every gradient is finite.
"""

from __future__ import annotations

import hashlib
from functools import cached_property

import numpy as np

from ..expr.evaluate import Value
from ..lesson.computation import Computation
from ..lesson.model import Range
from .graph import Analysis, analyse, grad_fn_names

POINTS = 4  # test points a formula is checked at, besides the lesson's own values
TRIES = 48  # draws tried for them (draws with a non-finite value are dropped)
VARIANT_TRIES = 100


def _rng(*parts: object) -> np.random.Generator:
    digest = hashlib.sha256("/".join(map(str, parts)).encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def draw(
    comp: Computation, rng: np.random.Generator, *, rounded: bool = False, turn: int | None = None
) -> dict[str, Value]:
    """Every input not `fixed` moved within its domain (`rounded`: default-domain
    draws to one decimal, as variants read). With `turn`, an input with a list of
    values takes them in turn, so that a few test points cover every listed value
    rather than land on one by chance."""
    point: dict[str, Value] = {}
    for name, authored in comp.authored.items():
        domain = comp.domains.get(name)
        if comp.fixed(name):
            point[name] = comp.inputs[name]
        elif isinstance(domain, tuple):
            pick = (turn + sum(name.encode())) % len(domain) if turn is not None else rng.integers(len(domain))
            point[name] = domain[pick]
        elif isinstance(domain, Range):
            point[name] = _from_range(domain, authored.shape, rng)
        else:
            reach = 2 * np.abs(authored) + 1
            value = rng.uniform(-reach, reach)
            point[name] = np.round(value, 1) if rounded else np.asarray(value, dtype=float)
    return point


def _from_range(domain: Range, shape: tuple, rng: np.random.Generator) -> Value:
    if domain.step is None:
        return np.asarray(rng.uniform(domain.low, domain.high, shape), dtype=float)
    count = int(np.floor((domain.high - domain.low) / domain.step + 1e-9)) + 1
    return np.asarray(domain.low + domain.step * rng.integers(count, size=shape), dtype=float)


def finite_everywhere(comp: Computation, analysis: Analysis) -> bool:
    """Every value, gradient and local factor finite."""
    return analysis.finite() and all(analysis.local_finite(edge) for edge in comp.edges)


class TestPoints:
    """The test points of one lesson, drawn once (seeded by its id) and shared by
    all its variants: the lesson's values are the only thing a variant changes."""

    __test__ = False  # not a pytest class

    def __init__(self, comp: Computation, seed: str):
        self.comp, self.seed = comp, seed

    @cached_property
    def points(self) -> tuple[Analysis, ...]:
        movable = [n for n in self.comp.inputs if not self.comp.fixed(n)]
        if not movable:
            return ()
        rng = _rng("points", self.seed)
        found: list[Analysis] = []
        for i in range(TRIES):
            analysis = analyse(self.comp, draw(self.comp, rng, turn=len(found)), seed=i + 1)
            if analysis.finite():
                found.append(analysis)
                if len(found) == POINTS:
                    break
        return tuple(found)


def variant_inputs(comp: Computation, lesson_id: str, k: int) -> dict[str, Value] | None:
    """Variant k's input values (variant 0 is the authored one), or None when no
    draw keeps every node and truth finite."""
    if k == 0:
        return dict(comp.authored)
    rng = _rng("variant", lesson_id, k)
    base = comp.at(comp.authored)
    for _ in range(VARIANT_TRIES):
        inputs = draw(base, rng, rounded=True)
        candidate = comp.at(inputs)
        if finite_everywhere(candidate, analyse(candidate, inputs)) and (
            comp.dtype == "float64" or analyse(candidate, inputs, comp.dtype).finite()
        ):
            return inputs
    return None


class Engine:
    """The truths of one lesson at one variant's values, and at the test points."""

    def __init__(self, comp: Computation, points: TestPoints | None = None):
        self.comp = comp
        self.truth = analyse(comp, comp.inputs)  # float64 twin
        self.native = analyse(comp, comp.inputs, comp.dtype) if comp.dtype != "float64" else self.truth
        self.grad_fn = grad_fn_names(comp, comp.inputs, comp.requires_grad)
        self.test_points = points or TestPoints(comp, "")

    @property
    def points(self) -> tuple[Analysis, ...]:
        return self.test_points.points
