"""`validate` per lesson, beyond the one-time torch import.

Imports torch once, then validates every bundled lesson several times and
reports the median per lesson. Target (PRODUCT.md): <= 50 ms per lesson.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent))

from autograd_tutor.engine.torch_import import torch  # noqa: E402
from autograd_tutor.validate import validate  # noqa: E402

LESSONS = sorted((Path(__file__).parent.parent / "lessons").glob("*.yaml"))
RUNS = 5


def main() -> None:
    start = time.perf_counter()
    torch()
    imported = time.perf_counter() - start
    per_lesson = []
    for lesson in LESSONS:
        runs = []
        for _ in range(RUNS):
            start = time.perf_counter()
            validate([lesson])
            runs.append(time.perf_counter() - start)
        per_lesson.append(statistics.median(runs))
    worst = max(per_lesson) * 1000
    median = statistics.median(per_lesson) * 1000
    verdict = "ok" if worst <= 50 else "OVER"
    print(f"validate  median {median:.1f} ms, worst {worst:.1f} ms per lesson over {len(LESSONS)} lessons"
          f" (torch import {imported * 1000:.0f} ms, once; bar 50 ms) {verdict}")


if __name__ == "__main__":
    main()
