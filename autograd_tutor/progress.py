"""Progress in SQLite: one row per (student, lesson), written in a transaction.

The database is in WAL mode with a busy timeout, so many tutor processes (a lab)
can write at once; a killed process leaves at worst its last uncommitted write
undone, never a store that cannot be opened.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import stat
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .mastery import store as mastery_store
from .mastery.model import LearnerModel, new_observations
from .session import LessonSession

if TYPE_CHECKING:
    from .mastery.practice import Practice

DATA_DIR_ENV = "AUTOGRAD_TUTOR_DATA_DIR"
DATABASE = "progress.sqlite3"
STUDENTS = "students"  # the lab layout: DATA_DIR/students/NAME/progress.sqlite3
_STUDENT = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,63}")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS progress (
    student  TEXT NOT NULL,
    lesson   TEXT NOT NULL,
    state    TEXT NOT NULL,     -- LessonSession.to_state() as JSON
    step     INTEGER NOT NULL,  -- the current step
    steps    INTEGER NOT NULL,
    solved   INTEGER NOT NULL,
    asked    INTEGER NOT NULL,  -- steps that take an answer
    attempts INTEGER NOT NULL,  -- answers judged wrong
    hints    INTEGER NOT NULL,
    reveals  INTEGER NOT NULL,
    finished INTEGER NOT NULL,
    updated  REAL NOT NULL,
    PRIMARY KEY (student, lesson)
);
CREATE TABLE IF NOT EXISTS last_opened (
    student TEXT PRIMARY KEY,
    lesson  TEXT NOT NULL
);
"""


def default_data_dir() -> Path:
    """$AUTOGRAD_TUTOR_DATA_DIR, or the platform's user data directory."""
    explicit = os.environ.get(DATA_DIR_ENV)
    if explicit:
        return Path(explicit)
    from platformdirs import user_data_dir

    return Path(user_data_dir("autograd-tutor", appauthor=False))


def valid_student(name: str) -> bool:
    """A lab student name: letters, digits, `.`, `_`, `-`; 1-64 of them; not starting with `.` or `-`."""
    return bool(_STUDENT.fullmatch(name))


def student_dir(data_dir: Path, student: str) -> Path:
    """DATA_DIR/students/NAME, for a validated name only (never `..`, `/` or a hidden name)."""
    if not valid_student(student):
        raise ValueError(f"not a valid student name: {student!r}")
    return data_dir / STUDENTS / student


@dataclass(frozen=True)
class LessonProgress:
    step: int
    steps: int
    solved: int
    asked: int
    attempts: int
    hints: int
    reveals: int
    finished: bool
    updated: float

    def describe(self) -> str:
        if self.finished:
            return f"done {self.solved}/{self.asked}"
        return f"step {self.step + 1} of {self.steps}"


class ProgressStore:
    def __init__(self, data_dir: Path, student: str = "me"):
        data_dir.mkdir(parents=True, exist_ok=True)
        self.path = data_dir / DATABASE
        self.student = student
        self._db = sqlite3.connect(self.path, timeout=10, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA busy_timeout=10000")
        _use_wal(self._db)
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA + ";" + mastery_store.TABLE)
        self.data_dir = data_dir

    @property
    def seed(self) -> str:
        """Whose variants: in a lab the student's name, else this installation's seed."""
        if self._seed is None:
            from .variants import installation_seed

            self._seed = installation_seed(self.data_dir)
        return self._seed

    _seed: str | None = None

    @classmethod
    def for_student(cls, data_dir: Path, student: str) -> ProgressStore:
        """The lab layout: one database per student in DATA_DIR/students/NAME, a directory
        that must be the caller's own (not a symlink) and is kept at mode 0700."""
        directory = student_dir(data_dir, student)
        directory.parent.mkdir(parents=True, exist_ok=True)
        directory.mkdir(mode=0o700, exist_ok=True)
        info = os.lstat(directory)
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid():
            raise PermissionError(f"{directory} is not a directory owned by this user")
        if stat.S_IMODE(info.st_mode) != 0o700:
            os.chmod(directory, 0o700)
        store = cls(directory, student)
        store._seed = student
        return store

    def _transaction(self):
        return _Transaction(self._db)

    def close(self) -> None:
        self._db.close()

    def load(self, lesson: str) -> dict | None:
        row = self._db.execute(
            "SELECT state FROM progress WHERE student = ? AND lesson = ?", (self.student, lesson)
        ).fetchone()
        return json.loads(row[0]) if row else None

    def save(self, session: LessonSession) -> None:
        """The session's state, and in the same transaction what its new first tries
        say about the learner's skills."""
        records = session.records
        solved, asked = session.score
        state = session.to_state()
        now = time.time()
        row = (
            self.student,
            session.lesson.id,
            json.dumps(state),
            session.index,
            len(session.steps),
            solved,
            asked,
            sum(r.attempts for r in records),
            sum(r.hints for r in records),
            sum(r.status == "revealed" for r in records),
            int(session.finished),
            now,
        )
        with self._transaction():
            try:
                stored = self.load(session.lesson.id)
            except ValueError:  # a damaged row: everything this session knows counts as new
                stored = None
            mastery_store.record(self._db, self.student, new_observations(session.lesson, stored, state), now)
            self._db.execute("INSERT OR REPLACE INTO progress VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", row)
            self._db.execute("INSERT OR REPLACE INTO last_opened VALUES (?, ?)", (self.student, session.lesson.id))

    # --- the learner model and practice (see docs/mastery.md) -----------------------------------

    def start_practice(self, lessons: list, size: int | None = None) -> Practice:
        """A practice drawn from the lessons this learner has finished."""
        from .mastery.practice import SIZE, Practice

        finished = {lesson for lesson, p in self.summary().items() if p.finished}
        played = {lesson: (self.load(lesson) or {}).get("variant") for lesson in finished}
        played = {lesson: v for lesson, v in played.items() if isinstance(v, int)}
        model = self.mastery()
        return Practice.start_for(lessons, finished, played, model, seed=self.seed, now=time.time(), size=size or SIZE)

    def save_practice(self, practice: Practice) -> None:
        """The current practice item's first try, once it is known."""
        seen = practice.pending()
        if seen is None:
            return
        now = time.time()
        with self._transaction():
            mastery_store.record(self._db, self.student, [seen], now)
        practice.recorded(seen, now)

    def mastery(self) -> LearnerModel:
        return mastery_store.read(self._db, self.student)

    def summary(self) -> dict[str, LessonProgress]:
        rows = self._db.execute(
            "SELECT lesson, step, steps, solved, asked, attempts, hints, reveals, finished, updated"
            " FROM progress WHERE student = ?",
            (self.student,),
        )
        return {r[0]: LessonProgress(*r[1:8], bool(r[8]), r[9]) for r in rows}

    def last_lesson(self) -> str | None:
        row = self._db.execute("SELECT lesson FROM last_opened WHERE student = ?", (self.student,)).fetchone()
        return row[0] if row else None

    def reset(self, lesson: str | None = None) -> None:
        """Forget one lesson's progress, or all of this student's."""
        with self._transaction():
            if lesson is None:
                self._db.execute("DELETE FROM progress WHERE student = ?", (self.student,))
                self._db.execute("DELETE FROM last_opened WHERE student = ?", (self.student,))
            else:
                self._db.execute("DELETE FROM progress WHERE student = ? AND lesson = ?", (self.student, lesson))


def _use_wal(db: sqlite3.Connection) -> None:
    """Put the database in WAL mode (it stays so). Switching needs a moment alone
    with the file, and SQLite answers "locked" at once rather than wait when
    several processes open a new database together, so retry for a while."""
    for attempt in range(100):
        try:
            if db.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
                return
            db.execute("PRAGMA journal_mode=WAL")
        except sqlite3.OperationalError:
            if attempt == 99:
                raise
            time.sleep(0.05)


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT, rolled back on any exception."""

    def __init__(self, db: sqlite3.Connection):
        self.db = db

    def __enter__(self) -> sqlite3.Connection:
        self.db.execute("BEGIN IMMEDIATE")
        return self.db

    def __exit__(self, kind, value, traceback) -> None:
        self.db.execute("COMMIT" if kind is None else "ROLLBACK")
