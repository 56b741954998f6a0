"""Hostile answers are refused fast: the slowest of each over many tries.

The issue's list (an import, attribute access, a lambda, a power tower, deep
brackets, a 10,000-character answer, nan, inf, non-ASCII digits, `2 x`) is
given to the parser as an answer; each must be refused with a ParseError.
Target (the engine issue): under 10 ms each.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent))

from autograd_tutor.expr.parser import ParseError, parse  # noqa: E402

HOSTILE = {
    "import": "__import__('os').system('id')",
    "dunder": "().__class__",
    "attribute": "x.grad",
    "lambda": "lambda: 1",
    "power tower": "9**9**9**9",
    "500 brackets": "(" * 500 + "x" + ")" * 500,
    "10,000 chars": "x+" * 4999 + "x",
    "nan": "nan",
    "inf": "inf",
    "arabic digit": "\u0663",
    "fullwidth digit": "\uff12",
    "2 x": "2 x",
}
TRIES = 200


def main() -> None:
    worst: dict[str, float] = {}
    for name, text in HOSTILE.items():
        for _ in range(TRIES):
            start = time.perf_counter()
            try:
                parse(text, ["x"], answer=True, words=True)
            except ParseError:
                pass
            else:
                raise AssertionError(f"{name} was accepted")
            worst[name] = max(worst.get(name, 0.0), time.perf_counter() - start)
    slowest = max(worst, key=worst.get)
    ms = worst[slowest] * 1000
    verdict = "ok" if ms < 10 else "OVER"
    summary = f"slowest of {len(HOSTILE)} refusals {ms:.2f} ms ({slowest}), {TRIES} tries each"
    print(f"hostile   {summary} (bar 10 ms) {verdict}")


if __name__ == "__main__":
    main()
