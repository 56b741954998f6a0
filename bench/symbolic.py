"""A revealed derivative, worked out by sympy in a time-limited child (bounded.py).

Measured here, with torch and sympy loaded as in the app: the cost of the child
itself (a trivial call, forked and reaped), every local step of the bundled course
through the child against the same work in this process, and how long a node that
sympy cannot simplify in time holds the reveal (its limit, then the numbers alone).
None of it runs on the UI thread; the bar is that a reveal never waits beyond the limit.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent))

from autograd_tutor.bounded import call_with_limit  # noqa: E402
from autograd_tutor.engine.torch_import import torch  # noqa: E402
from autograd_tutor.expr.parser import parse  # noqa: E402
from autograd_tutor.expr.symbolic import local_derivative, warm_up  # noqa: E402
from autograd_tutor.lesson.loader import library  # noqa: E402
from autograd_tutor.session import SYMBOLIC_SECONDS  # noqa: E402

LESSONS = Path(__file__).parent.parent / "lessons"
SLOW = "(x+1)**7*(x-1)**5/(x**2+3)**4 + tanh(x)**5*sigmoid(x)**3 - exp(sin(x))*log(2+cos(x))**4"


def timed(f, *args, **kwargs) -> float:
    start = time.perf_counter()
    f(*args, **kwargs)
    return time.perf_counter() - start


def main() -> None:
    torch()
    warm_up()
    fork = statistics.median(timed(call_with_limit, abs, -1, seconds=10) for _ in range(20))
    lessons, _ = library([LESSONS])
    edges = {
        (str(lesson.computation.nodes[n]), n, a): lesson.computation
        for lesson in lessons
        for n, a in lesson.computation.edges
    }
    child, here = [], []
    for (_, node, arg), comp in edges.items():
        child.append(
            timed(call_with_limit, local_derivative, comp.nodes[node], arg, comp.sizes, seconds=SYMBOLIC_SECONDS)
        )
        here.append(timed(local_derivative, comp.nodes[node], arg, comp.sizes))
    slow = timed(call_with_limit, local_derivative, parse(SLOW, {"x"}), "x", {}, seconds=SYMBOLIC_SECONDS)
    print(
        f"symbolic  child process {fork * 1000:.0f} ms each; {len(edges)} local steps: median"
        f" {statistics.median(child) * 1000:.0f} ms in the child"
        f" / {statistics.median(here) * 1000:.0f} ms in process (caches warm),"
        f" worst {max(child) * 1000:.0f} ms; a node sympy cannot finish: given up after {slow:.2f} s"
        f" (limit {SYMBOLIC_SECONDS:g} s) {'ok' if slow <= SYMBOLIC_SECONDS + 0.5 else 'OVER'}"
    )


if __name__ == "__main__":
    main()
