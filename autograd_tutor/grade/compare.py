"""Numeric comparison within a tolerance, and the precision it asks for.

The relative tolerance applies to each entry. The absolute tolerance, by
default, shrinks with a small truth: `atol × min(1, max(largest |entry| of the
truth, 0.001 × the lesson's largest truth))`, so a gradient of 4.5e-5 is judged
as carefully as one of 4.5 (0 is not taken for it), while an entry that is 0 in
a vector of entries near 1 may still be answered 0. A lesson that sets
`tolerance:` gets exactly the absolute tolerance it wrote.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..expr.display import format_number
from ..expr.evaluate import Value


@dataclass(frozen=True)
class Tolerance:
    rtol: float
    atol: float
    scaled: bool = False  # atol relative to the truth's scale (the default tolerance)
    floor: float = 0.0  # the smallest scale `scaled` uses: 0.001 × the lesson's largest truth

    def atol_for(self, truth: Value) -> float:
        """The absolute tolerance for this truth (scaled down for a small one)."""
        if not self.scaled:
            return self.atol
        t = np.abs(np.asarray(truth, dtype=float))
        finite = t[np.isfinite(t)]
        return self.atol * min(1.0, max(float(finite.max()) if finite.size else 0.0, self.floor))

    def allowed(self, truth: Value) -> np.ndarray:
        """How far from each entry of `truth` an answer may be."""
        return self.atol_for(truth) + self.rtol * np.abs(np.asarray(truth, dtype=float))

    def close(self, answer: Value, truth: Value) -> bool:
        """`answer` within tolerance of `truth` by numpy's rule (|a − t| ≤ atol + rtol·|t|;
        infinities equal only to themselves, nan to nothing); a number answer is compared
        with every entry, and other shapes must agree."""
        a, t = np.asarray(answer, dtype=float), np.asarray(truth, dtype=float)
        if a.shape != t.shape and a.ndim:
            return False
        if not t.ndim:  # the same rule for two numbers, without numpy's overhead
            x, y = float(a), float(t)
            if math.isnan(x) or math.isnan(y) or math.isinf(x) or math.isinf(y):
                return x == y
            atol = self.atol * min(1.0, max(abs(y), self.floor)) if self.scaled else self.atol
            return abs(x - y) <= atol + self.rtol * abs(y)
        with np.errstate(invalid="ignore", over="ignore"):
            return bool(np.all(np.isclose(a, t, rtol=self.rtol, atol=self.atol_for(t))))

    def figures(self, truth: Value) -> int:
        """How many significant figures an answer needs to be within tolerance."""
        t = np.abs(np.asarray(truth, dtype=float)).reshape(-1)
        needed = 1
        for entry, allowed in zip(t, self.allowed(t).reshape(-1)):
            if entry == 0 or not math.isfinite(entry) or allowed <= 0:
                continue
            decimals = math.ceil(-math.log10(2 * allowed))  # rounding to these is within the tolerance
            needed = max(needed, decimals + math.floor(math.log10(entry)) + 1)
        return needed


def shown(value: Value) -> Value:
    """`value` rounded as the screen shows it."""
    v = np.asarray(value, dtype=float)
    return np.vectorize(lambda x: float(format_number(x)) if math.isfinite(x) else x, otypes=[float])(v)


def scale(values: list[Value]) -> float:
    """The largest finite magnitude among a lesson's truths."""
    largest = 0.0
    for v in values:
        a = np.abs(np.asarray(v, dtype=float))
        a = a[np.isfinite(a)]
        if a.size:
            largest = max(largest, float(a.max()))
    return largest
