"""Which variant of a lesson a learner plays.

A lesson with `variants: true` gives each learner their own numbers: variant K
(1 ≤ K < COUNT) is chosen from the learner's seed (in a lab, the student's
name; otherwise a seed made once per installation), the lesson's id and how
many times the learner has restarted it. `validate` proves variants 0 to
COUNT − 1 of such a lesson, so only those are ever given. Other lessons are
always played with their authored numbers, variant 0.
"""

from __future__ import annotations

import hashlib
import secrets
from pathlib import Path
from typing import Any

COUNT = 20  # variants 0..19 are validated
SEED_FILE = "installation-seed"


def choose_variant(lesson: Any, seed: str, round: int) -> int:
    if not lesson.spec.variants:
        return 0
    digest = hashlib.sha256(f"{seed}/{lesson.id}/{round}".encode()).digest()
    return 1 + int.from_bytes(digest[:4], "little") % (COUNT - 1)


def installation_seed(data_dir: Path) -> str:
    """A random seed kept in the data directory (made on first use)."""
    path = data_dir / SEED_FILE
    try:
        return path.read_text(encoding="ascii").strip() or _new(path)
    except (OSError, UnicodeDecodeError):
        return _new(path)


def _new(path: Path) -> str:
    seed = secrets.token_hex(8)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(seed + "\n", encoding="ascii")
    except OSError:
        pass  # a read-only data directory: a seed for this run only
    return seed
