"""The learner model in the progress database: one row per (student, skill).

The progress store (`progress.py`) opens the database and owns its transactions;
this module knows the mastery table. Observations are written in the same
transaction as the step that made them, so a killed process keeps both or neither.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Iterable

from .model import LearnerModel, Observation, SkillState

TABLE = """
CREATE TABLE IF NOT EXISTS mastery (
    student   TEXT NOT NULL,
    skill     TEXT NOT NULL,
    known     REAL NOT NULL,     -- P(the skill is known), after the last observation
    seen      INTEGER NOT NULL,  -- observations
    correct   INTEGER NOT NULL,  -- of them right on the first try
    last_seen REAL,              -- when the last one was made
    PRIMARY KEY (student, skill)
)
"""
_COLUMNS = "skill, known, seen, correct, last_seen"


def read(db: sqlite3.Connection, student: str) -> LearnerModel:
    rows = db.execute(f"SELECT {_COLUMNS} FROM mastery WHERE student = ?", (student,)).fetchall()
    return LearnerModel(dict(filter(None, map(_state, rows))))


def read_all(db: sqlite3.Connection) -> dict[str, LearnerModel]:
    """Every student's model (for the instructor's report)."""
    models: dict[str, LearnerModel] = {}
    for student, *row in db.execute(f"SELECT student, {_COLUMNS} FROM mastery").fetchall():
        found = _state(tuple(row))
        if found is not None:
            models.setdefault(str(student), LearnerModel()).skills[found[0]] = found[1]
    return models


def record(db: sqlite3.Connection, student: str, observations: Iterable[Observation], now: float) -> None:
    """Apply observations to the stored model; the caller holds the transaction."""
    observations = list(observations)
    if not observations:
        return
    model = read(db, student)
    touched: set[str] = set()
    for observation in observations:
        model.observe(observation, now)
        touched.update(observation.skills)
    db.executemany(
        f"INSERT OR REPLACE INTO mastery (student, {_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
        [(student, s, *_row(model.get(s))) for s in sorted(touched)],
    )


def _row(state: SkillState) -> tuple:
    return state.known, state.seen, state.correct, state.last_seen


def _state(row: tuple) -> tuple[str, SkillState] | None:
    """A row as a skill's state; None for a row that cannot be read (it is then at the prior)."""
    try:
        skill, known, seen, correct, last_seen = row
        known, seen, correct = float(known), int(seen), int(correct)
        last_seen = float(last_seen) if last_seen is not None else None
    except (TypeError, ValueError):
        return None
    if not isinstance(skill, str) or not math.isfinite(known) or not 0 <= known <= 1 or seen < 0:
        return None
    return skill, SkillState(known, seen, max(0, min(correct, seen)), last_seen)
