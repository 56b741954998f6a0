"""`validate` per lesson, beyond the one-time torch import.

Imports torch once, then validates every bundled lesson (and the test fixtures
with matrices and variants) several times and reports the median per lesson; a
lesson with `variants: true` is validated on 20 variants, so its time is also
reported per variant. Targets: <= 50 ms per lesson, <= 50 ms per lesson per variant.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent))

from autograd_tutor.engine.torch_import import torch  # noqa: E402
from autograd_tutor.lesson.files import lesson_files  # noqa: E402
from autograd_tutor.lesson.loader import load  # noqa: E402
from autograd_tutor.validate import validate  # noqa: E402
from autograd_tutor.variants import COUNT  # noqa: E402

ROOT = Path(__file__).parent.parent
LESSONS = lesson_files([ROOT / "lessons", ROOT / "tests" / "lessons", ROOT / "tests" / "tensors"])
RUNS = 5


def main() -> None:
    start = time.perf_counter()
    torch()
    imported = time.perf_counter() - start
    per_lesson, per_variant = [], []
    for lesson in LESSONS:
        runs = []
        for _ in range(RUNS):
            start = time.perf_counter()
            validate([lesson])
            runs.append(time.perf_counter() - start)
        if load(lesson).spec.variants:
            per_variant.append(statistics.median(runs) / COUNT)
        else:
            per_lesson.append(statistics.median(runs))
    worst = max(per_lesson) * 1000
    median = statistics.median(per_lesson) * 1000
    verdict = "ok" if worst <= 50 else "OVER"
    print(
        f"validate  median {median:.1f} ms, worst {worst:.1f} ms per lesson over {len(per_lesson)} lessons"
        f" (torch import {imported * 1000:.0f} ms, once; bar 50 ms) {verdict}"
    )
    if per_variant:
        worst = max(per_variant) * 1000
        verdict = "ok" if worst <= 50 else "OVER"
        print(
            f"validate  worst {worst:.1f} ms per lesson per variant over {len(per_variant)} lessons with"
            f" variants, {COUNT} variants each (bar 50 ms) {verdict}"
        )


if __name__ == "__main__":
    main()
