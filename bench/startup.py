"""First screen drawn, from process start, as a fraction of `import torch`.

Both are measured here, in this process tree, several times; the medians are
compared. The tutor runs in a pseudo-terminal and the clock stops when the
catalogue's text reaches the terminal. Target: ratio <= 0.35.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pexpect

RUNS = 7
TUTOR = str(Path(sys.executable).parent / "autograd-tutor")


def import_torch() -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import torch"], check=True)
    return time.perf_counter() - start


def first_screen(data_dir: str) -> float:
    start = time.perf_counter()
    child = pexpect.spawn(TUTOR, ["--data-dir", data_dir], dimensions=(24, 80), timeout=60)
    child.expect("ype to filter lessons")  # the filter box (its first letter is under the cursor)
    elapsed = time.perf_counter() - start
    child.terminate(force=True)
    return elapsed


def main() -> None:
    with tempfile.TemporaryDirectory() as data_dir:
        first_screen(data_dir)  # warm the file cache for both
        import_torch()
        torch = statistics.median(import_torch() for _ in range(RUNS))
        screen = statistics.median(first_screen(data_dir) for _ in range(RUNS))
    ratio = screen / torch
    verdict = "ok" if ratio <= 0.35 else "OVER"
    print(
        f"startup   first screen {screen * 1000:.0f} ms / import torch {torch * 1000:.0f} ms"
        f" = {ratio:.2f} (bar 0.35) {verdict}"
    )


if __name__ == "__main__":
    main()
