"""Numeric comparison within a tolerance, with scalar broadcasting."""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..expr.display import format_number
from ..expr.evaluate import Value


@dataclass(frozen=True)
class Tolerance:
    rtol: float
    atol: float

    def close(self, answer: Value, truth: Value) -> bool:
        """`answer` within tolerance of `truth`; a scalar answer is broadcast over a vector truth."""
        if isinstance(truth, tuple):
            if isinstance(answer, tuple):
                return len(answer) == len(truth) and all(self.close(a, t) for a, t in zip(answer, truth))
            return all(self.close(answer, t) for t in truth)
        if isinstance(answer, tuple):
            return False
        if math.isnan(answer) or math.isnan(truth):
            return False
        if math.isinf(truth) or math.isinf(answer):
            return answer == truth
        return abs(answer - truth) <= self.atol + self.rtol * abs(truth)


def shown(value: Value) -> Value:
    """`value` rounded as the screen shows it."""
    if isinstance(value, tuple):
        return tuple(shown(v) for v in value)
    return float(format_number(value)) if math.isfinite(value) else value


def shape_problem(answer: Value, truth: Value) -> str | None:
    """What is wrong with the shape of an answer, if anything."""
    if isinstance(truth, tuple) and isinstance(answer, tuple) and len(answer) != len(truth):
        return f"expected {len(truth)} entries, got {len(answer)}"
    if not isinstance(truth, tuple) and isinstance(answer, tuple):
        return "expected a single number, not a list"
    if isinstance(truth, tuple) and isinstance(answer, tuple):
        if any(isinstance(a, tuple) for a in answer) and not any(isinstance(t, tuple) for t in truth):
            return f"expected a list of {len(truth)} numbers, not a list of lists"
        inner = [shape_problem(a, t) for a, t in zip(answer, truth)]
        return next((p for p in inner if p), None)
    return None
