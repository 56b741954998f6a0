"""Progress in SQLite: one row per (student, lesson), written in a transaction.

This module owns the database: its layout (`MIGRATIONS`, `PRAGMA user_version`), how a
row is written (`ProgressStore.save`, which merges with what is stored) and how rows are
read by the instructor's tools (`read_store`). Nothing else knows the columns. The
learner model (docs/mastery.md) lives here too, one row per (student, skill): a save
updates it in the same transaction as the step that moved it, so a killed process
keeps both or neither.

The database is in WAL mode with a busy timeout, so many tutor processes (a lab, or
two sessions of one student) can write at once; a killed process leaves at worst its
last uncommitted write undone, never a store that cannot be opened. A store that cannot
be opened or written (damaged, read-only, a full disk, a newer format) is reported in
plain words (`ProgressStore.problem`); with `fallback=True` the learner keeps playing on
a copy in memory, told that progress cannot be saved.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import sqlite3
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .mastery.model import LearnerModel, SkillState, new_observations

if TYPE_CHECKING:
    from .mastery.model import Observation
    from .mastery.practice import Practice
    from .session import LessonSession

DATA_DIR_ENV = "AUTOGRAD_TUTOR_DATA_DIR"
DATABASE = "progress.sqlite3"
STUDENTS = "students"  # the lab layout: DATA_DIR/students/NAME/progress.sqlite3
_STUDENT = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,63}")

# The layout, as an ordered list of steps: a database at version N (PRAGMA user_version)
# has had the first N applied. Databases made before versioning are at 0 with the tables
# of step 1 already there, hence IF NOT EXISTS. Only ever append.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE IF NOT EXISTS progress (
        student  TEXT NOT NULL,
        lesson   TEXT NOT NULL,
        state    TEXT NOT NULL,     -- LessonSession.to_state(), merged (see merge_states), as JSON
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
    """,
    # when the learner reached the current step (the dashboard's time on a step)
    "ALTER TABLE progress ADD COLUMN step_since REAL",
    # the learner model: P(known) per skill (see docs/mastery.md)
    """
    CREATE TABLE IF NOT EXISTS mastery (
        student   TEXT NOT NULL,
        skill     TEXT NOT NULL,
        known     REAL NOT NULL,     -- P(the skill is known), after the last observation
        seen      INTEGER NOT NULL,  -- observations
        correct   INTEGER NOT NULL,  -- of them right on the first try
        last_seen REAL,              -- when the last one was made
        PRIMARY KEY (student, skill)
    )
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)

# A step's status, from nothing to the most: merging keeps the most of either side.
STATUS_RANK = {"pending": 0, "shown": 1, "skipped": 2, "revealed": 3, "solved": 4}


class ProgressError(Exception):
    """A progress database that cannot be used; the message says why in plain words."""


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


@dataclass(frozen=True)
class ProgressRow:
    """One student in one lesson, as the instructor's tools read it."""

    student: str
    lesson: str
    state: dict | None  # the saved session state; None when it cannot be read
    step: int
    steps: int
    solved: int
    asked: int
    attempts: int
    hints: int
    reveals: int
    finished: bool
    updated: float
    step_since: float  # when the current step was reached (`updated` for rows saved before it was kept)


@dataclass(frozen=True)
class StoreContents:
    rows: list[ProgressRow]
    last_opened: dict[str, str]  # student -> the lesson they opened last
    damaged: list[str]  # rows that could not be read, said why
    skills: dict[str, LearnerModel] = field(default_factory=dict)  # student -> their learner model


class ProgressStore:
    """One student's progress. `fallback=True`: a database that cannot be opened does
    not stop the learner; the store then lives in memory (with what could be read) and
    `problem` says why nothing is saved. `on_problem` is called when a save fails."""

    def __init__(self, data_dir: Path | None, student: str = "me", *, fallback: bool = False):
        """`data_dir` None: a store in memory that keeps nothing (a tutor waiting for its student)."""
        self.path = (data_dir or Path(".")) / DATABASE
        self.student = student
        self.problem: str | None = None
        self.authored = False  # play every lesson with its authored numbers, never a variant
        self.in_memory = False
        self.on_problem: Callable[[str], None] | None = None
        self._unsaved: set[str] = set()  # lessons whose last save failed
        self._base: dict[str, dict] = {}  # lesson -> the state this store last read or wrote for it
        self.data_dir = data_dir
        if data_dir is None:
            self._seed = student
            self._db = _memory_copy(None)
            return
        try:  # made on the first save: a learner who only looks costs no write
            self._db = _open(data_dir, self.path) if self.path.exists() else None
        except ProgressError as err:
            if not fallback:
                raise
            self.problem = f"{err} You can go on, but your progress will not be saved."
            self.in_memory = True
            self._db = _memory_copy(self.path)

    @classmethod
    def for_student(cls, data_dir: Path, student: str, *, fallback: bool = False) -> ProgressStore:
        """The lab layout: one database per student in DATA_DIR/students/NAME, a directory
        that must be the caller's own (not a symlink) and is kept at mode 0700. A directory
        that is not theirs raises PermissionError, whatever `fallback` says."""
        directory = student_dir(data_dir, student)
        directory.parent.mkdir(parents=True, exist_ok=True)
        directory.mkdir(mode=0o700, exist_ok=True)
        info = os.lstat(directory)
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid():
            raise PermissionError(f"{directory} is not a directory owned by this user")
        if stat.S_IMODE(info.st_mode) != 0o700:
            os.chmod(directory, 0o700)
        store = cls(directory, student, fallback=fallback)
        store._seed = student
        return store

    @property
    def seed(self) -> str:
        """Whose variants: in a lab the student's name, else this installation's seed."""
        if self._seed is None:
            from .variants import installation_seed

            self._seed = installation_seed(self.data_dir)
        return self._seed

    _seed: str | None = None

    def open(self, lesson) -> LessonSession:
        """The learner's session of `lesson`, where they left it, with their own variant
        of its numbers and order of its options (`authored`: the lesson as written)."""
        from .session import STATE_VERSION, LessonSession

        state = self.load(lesson.id)
        if self.authored:
            session = LessonSession(lesson, state, variant=0)
        else:
            session = LessonSession(lesson, state, seed=self.seed)
        if state is not None and state.get("version") != STATE_VERSION:
            self._base[lesson.id] = session.to_state()  # what was read, in this version's terms, for merges
        return session

    @property
    def failed(self) -> bool:
        """Progress made in this run is not (all) on disk."""
        return self.in_memory or bool(self._unsaved)

    def close(self) -> None:
        if self._db is not None:
            self._db.close()

    def _connection(self, create: bool) -> sqlite3.Connection | None:
        """The database, opened now if it was not yet (made if `create`); None when it does
        not exist yet. ProgressError when it cannot be opened."""
        if self._db is None and (create or self.path.exists()):
            self._db = _open(self.data_dir, self.path)
        return self._db

    # --- reading ----------------------------------------------------------------------------------

    def load(self, lesson: str) -> dict | None:
        try:
            db = self._connection(create=False)
            row = (
                db
                and db.execute(
                    "SELECT state FROM progress WHERE student = ? AND lesson = ?", (self.student, lesson)
                ).fetchone()
            )
            state = _json_or_none(row[0]) if row else None
        except (sqlite3.Error, ProgressError) as err:
            self._fail(lesson, err)
            return None
        if state is not None:
            self._base[lesson] = _json_or_none(row[0])  # a copy of its own: the session will change its lists
        return state

    def summary(self) -> dict[str, LessonProgress]:
        try:
            db = self._connection(create=False)
            rows = (
                db.execute(
                    "SELECT lesson, step, steps, solved, asked, attempts, hints, reveals, finished, updated"
                    " FROM progress WHERE student = ?",
                    (self.student,),
                ).fetchall()
                if db
                else []
            )
        except (sqlite3.Error, ProgressError) as err:
            self._fail(None, err)
            return {}
        return {r[0]: LessonProgress(*r[1:8], bool(r[8]), r[9]) for r in rows}

    def last_lesson(self) -> str | None:
        try:
            db = self._connection(create=False)
            row = db and db.execute("SELECT lesson FROM last_opened WHERE student = ?", (self.student,)).fetchone()
        except (sqlite3.Error, ProgressError) as err:
            self._fail(None, err)
            return None
        return row[0] if row else None

    # --- writing ----------------------------------------------------------------------------------

    def save(self, session: LessonSession) -> bool:
        """Write the session's state, merged with what is stored (another window of the
        same student may have saved since): a step solved anywhere stays solved. False
        (and `problem` says why) when it could not be written."""
        lesson = session.lesson.id
        mine = session.to_state()
        now = time.time()
        try:
            db = self._connection(create=True)
            with _transaction(db):
                found = db.execute(
                    "SELECT state, step, step_since FROM progress WHERE student = ? AND lesson = ?",
                    (self.student, lesson),
                ).fetchone()
                stored = _json_or_none(found[0]) if found else None
                merged = merge_states(stored, self._base.get(lesson), mine)
                _record_skills(db, self.student, new_observations(session.lesson, stored, merged), now)
                since = found[2] if found and found[1] == merged["index"] and found[2] is not None else now
                row = _row(self.student, merged, [s.takes_answer for s in session.steps], now, since)
                db.execute(f"INSERT OR REPLACE INTO progress ({_COLUMNS}) VALUES ({_MARKS})", row)
                db.execute("INSERT OR REPLACE INTO last_opened VALUES (?, ?)", (self.student, lesson))
        except (sqlite3.Error, OSError, ProgressError) as err:
            self._fail(lesson, err)
            return False
        self._base[lesson] = mine
        self._unsaved.discard(lesson)
        if not self._unsaved and not self.in_memory:
            self.problem = None
        return True

    # --- the learner model and practice (see docs/mastery.md) -------------------------------------

    def mastery(self) -> LearnerModel:
        """This learner's skills (at the prior before anything was observed)."""
        try:
            db = self._connection(create=False)
            return _read_skills(db, self.student) if db else LearnerModel()
        except (sqlite3.Error, ProgressError) as err:
            self._fail(None, err)
            return LearnerModel()

    def start_practice(self, lessons: list, size: int | None = None) -> Practice:
        """A practice drawn from the lessons this learner has finished."""
        from .mastery.practice import SIZE, Practice

        finished = {lesson for lesson, p in self.summary().items() if p.finished}
        played = {lesson: (self.load(lesson) or {}).get("variant") for lesson in finished}
        played = {lesson: v for lesson, v in played.items() if isinstance(v, int)}
        return Practice.start_for(
            lessons, finished, played, self.mastery(), seed=self.seed, now=time.time(), size=size or SIZE
        )

    def save_practice(self, practice: Practice) -> bool:
        """The current practice item's first try, once it is known. False (and `problem`
        says why) when it could not be written; the practice's model moves only if it was."""
        seen = practice.pending()
        if seen is None:
            return True
        now = time.time()
        try:
            db = self._connection(create=True)
            with _transaction(db):
                _record_skills(db, self.student, [seen], now)
        except (sqlite3.Error, OSError, ProgressError) as err:
            self._fail(None, err)
            return False
        practice.recorded(seen, now)
        return True

    def reset(self, lesson: str | None = None) -> None:
        """Forget one lesson's progress, or all of this student's (their skills too)."""
        try:
            db = self._connection(create=False)
            if db is not None:
                with _transaction(db):
                    if lesson is None:
                        db.execute("DELETE FROM progress WHERE student = ?", (self.student,))
                        db.execute("DELETE FROM last_opened WHERE student = ?", (self.student,))
                        db.execute("DELETE FROM mastery WHERE student = ?", (self.student,))
                    else:
                        db.execute("DELETE FROM progress WHERE student = ? AND lesson = ?", (self.student, lesson))
        except (sqlite3.Error, ProgressError) as err:
            self._fail(None, err)
            return
        if lesson is None:
            self._base.clear()
        else:
            self._base.pop(lesson, None)

    def _fail(self, lesson: str | None, err: Exception) -> None:
        if lesson is not None:
            self._unsaved.add(lesson)
        message = f"{_explain(self.path, err)} Your progress is not being saved; tell your instructor or free space."
        if self.in_memory:
            return  # already said, once, at start
        new = message != self.problem
        self.problem = message
        if new and self.on_problem is not None:
            self.on_problem(message)


# --- merging two windows' progress -------------------------------------------------------------------


def merge_states(stored: dict | None, base: dict | None, mine: dict) -> dict:
    """What to write when this window's state is `mine`, the database holds `stored`
    (another window may have written it) and this window last read or wrote `base`.

    Records are matched by the step identities the states carry in "steps" (never by
    position). Per step, only what this window did since `base` is added to what is
    stored: the status moves up to the most of either side (a step solved anywhere stays
    solved), hints and mistakes are added. A lesson restarted in this window (nothing
    done in `mine`, something in `base`) is written as it is. Stored records of steps
    this lesson no longer has are kept when they hold anything."""
    if not _compatible(stored, mine):
        return mine
    base = base if _compatible(base, mine) else None
    if base is not None and _pristine(mine) and not _pristine(base):
        return mine
    stored_records = _keyed(stored)
    base_records = _keyed(base) if base is not None else {}
    records = []
    for key, record in _keyed(mine).items():
        records.append(_merge_record(stored_records.pop(key, None), base_records.get(key), record))
    merged = {**mine, "records": records, "steps": list(mine["steps"])}
    for (identity, _n), record in stored_records.items():
        if _holds_something(record):
            merged["records"].append(record)
            merged["steps"].append(json.loads(identity))
    return merged


def _merge_record(stored: dict | None, base: dict | None, mine: dict) -> dict:
    if stored is None:
        return mine
    base = base or {}
    merged = dict(mine)
    if _rank(mine) <= _rank(base) or _rank(stored) > _rank(mine):  # the status did not move up here
        merged["status"] = stored.get("status", "pending")
        merged["answer"], merged["option"] = stored.get("answer"), stored.get("option")
    added_hints = max(0, _int(mine.get("hints")) - _int(base.get("hints")))
    merged["hints"] = _int(stored.get("hints")) + added_hints
    base_mistakes, mine_mistakes = _list(base.get("mistakes")), _list(mine.get("mistakes"))
    if mine_mistakes[: len(base_mistakes)] == base_mistakes:
        mine_mistakes = mine_mistakes[len(base_mistakes) :]
    merged["mistakes"] = _list(stored.get("mistakes")) + mine_mistakes
    return merged


def _pristine(state: dict) -> bool:
    return not state.get("index") and not any(_holds_something(r) for r in state["records"] if isinstance(r, dict))


def _holds_something(record: dict) -> bool:
    return _rank(record) > 0 or bool(_int(record.get("hints"))) or bool(_list(record.get("mistakes")))


def _int(value: object) -> int:
    return value if isinstance(value, int) and value >= 0 else 0


def _list(value: object) -> list:
    return list(value) if isinstance(value, list) else []


def _rank(record: dict) -> int:
    return STATUS_RANK.get(record.get("status"), 0)


def _compatible(state: dict | None, mine: dict) -> bool:
    if not isinstance(state, dict) or state.get("version") != mine.get("version"):
        return False
    if state.get("lesson") != mine.get("lesson"):
        return False
    records, steps = state.get("records"), state.get("steps")
    return isinstance(records, list) and isinstance(steps, list) and len(records) == len(steps)


def _keyed(state: dict) -> dict[tuple[str, int], dict]:
    """Records by (step identity, occurrence): two steps may have the same identity."""
    out: dict[tuple[str, int], dict] = {}
    seen: dict[str, int] = {}
    for identity, record in zip(state["steps"], state["records"]):
        if not isinstance(record, dict):
            continue
        key = json.dumps(identity, sort_keys=True)
        seen[key] = seen.get(key, -1) + 1
        out[(key, seen[key])] = record
    return out


# --- the row layout ---------------------------------------------------------------------------------

_COLUMNS = "student, lesson, state, step, steps, solved, asked, attempts, hints, reveals, finished, updated, step_since"
_MARKS = ", ".join("?" * len(_COLUMNS.split(", ")))


def _row(student: str, state: dict, takes_answer: list[bool], now: float, since: float) -> tuple:
    records = state["records"]
    current = records[: len(takes_answer)]  # the lesson's own steps (kept records of old steps follow)
    asked = [r for r, asks in zip(current, takes_answer) if asks]
    return (
        student,
        state["lesson"],
        json.dumps(state),
        int(state["index"]),
        len(takes_answer),
        sum(r.get("status") == "solved" for r in asked),
        len(asked),
        sum(len(r.get("mistakes") or []) for r in current),
        sum(int(r.get("hints", 0)) for r in current),
        sum(r.get("status") == "revealed" for r in current),
        int(all(r.get("status", "pending") != "pending" for r in current)),
        now,
        since,
    )


# --- the learner model's rows -----------------------------------------------------------------------

_SKILL_COLUMNS = "skill, known, seen, correct, last_seen"
_SKILLS_SINCE = 3  # the version whose migration made the mastery table


def _read_skills(db: sqlite3.Connection, student: str) -> LearnerModel:
    rows = db.execute(f"SELECT {_SKILL_COLUMNS} FROM mastery WHERE student = ?", (student,)).fetchall()
    return LearnerModel(dict(filter(None, map(_skill_state, rows))))


def _record_skills(db: sqlite3.Connection, student: str, observations: list[Observation], now: float) -> None:
    """Apply observations to the stored model; the caller holds the transaction."""
    if not observations:
        return
    model = _read_skills(db, student)
    touched: set[str] = set()
    for observation in observations:
        model.observe(observation, now)
        touched.update(observation.skills)
    db.executemany(
        f"INSERT OR REPLACE INTO mastery (student, {_SKILL_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
        [
            (student, s, m.known, m.seen, m.correct, m.last_seen)
            for s, m in ((s, model.get(s)) for s in sorted(touched))
        ],
    )


def _skill_state(row: tuple) -> tuple[str, SkillState] | None:
    """A row as a skill's state; None for a row that cannot be read (the skill is then at the prior)."""
    try:
        skill, known, seen, correct, last_seen = row
        known, seen, correct = float(known), int(seen), int(correct)
        last_seen = float(last_seen) if last_seen is not None else None
    except (TypeError, ValueError):
        return None
    if not isinstance(skill, str) or not math.isfinite(known) or not 0 <= known <= 1 or seen < 0:
        return None
    return skill, SkillState(known, seen, max(0, min(correct, seen)), last_seen)


def read_store(path: Path, only: str | None = None) -> StoreContents:
    """Every row of a database (or only student `only`'s), opened read-only: for the
    instructor's tools. ProgressError when it cannot be read."""
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=10)
    except sqlite3.Error as err:
        raise ProgressError(_explain(path, err)) from None
    try:
        version = _version(db, path)
        if version == 0 and not _has_tables(db):
            return StoreContents([], {}, [])
        since = "step_since" if version >= 2 else "NULL"
        where, args = ("WHERE student = ?", (only,)) if only is not None else ("", ())
        columns = _COLUMNS.replace("step_since", since)
        rows = db.execute(f"SELECT {columns} FROM progress {where}", args).fetchall()
        opened = dict(db.execute(f"SELECT student, lesson FROM last_opened {where}", args).fetchall())
        skill_rows = (
            db.execute(f"SELECT student, {_SKILL_COLUMNS} FROM mastery {where}", args).fetchall()
            if version >= 3
            else []
        )
    except sqlite3.Error as err:
        raise ProgressError(_explain(path, err)) from None
    finally:
        db.close()
    found, damaged = [], []
    for row in rows:
        try:
            found.append(_read_row(row))
        except (TypeError, ValueError) as err:
            damaged.append(f"{path}: a row of {str(row[0])[:64]!r} is damaged ({err}); skipped")
    skills: dict[str, LearnerModel] = {}
    for student, *row in skill_rows:
        state = _skill_state(tuple(row))
        if state is not None and isinstance(student, str) and valid_student(student):
            skills.setdefault(student, LearnerModel()).skills[state[0]] = state[1]
    return StoreContents(found, {str(k): str(v) for k, v in opened.items()}, damaged, skills)


def _read_row(row: tuple) -> ProgressRow:
    student, lesson, state, step, steps, solved, asked, attempts, hints, reveals, finished, updated, since = row
    student = str(student)
    if not valid_student(student):
        raise ValueError("not a student name")
    updated = float(updated)
    return ProgressRow(
        student=student,
        lesson=str(lesson),
        state=_json_or_none(state),
        step=int(step),
        steps=int(steps),
        solved=int(solved),
        asked=int(asked),
        attempts=int(attempts),
        hints=int(hints),
        reveals=int(reveals),
        finished=bool(finished),
        updated=updated,
        step_since=float(since) if since is not None else updated,
    )


def _json_or_none(text: object) -> dict | None:
    try:
        value = json.loads(text)  # type: ignore[arg-type]
    except (TypeError, ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


# --- opening ----------------------------------------------------------------------------------------


def _open(data_dir: Path, path: Path) -> sqlite3.Connection:
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ProgressError(_explain(data_dir, err)) from None
    db = None
    try:
        db = sqlite3.connect(path, timeout=10, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA busy_timeout=10000")
        _version(db, path)  # a newer database is refused before anything is written to it
        _use_wal(db)
        db.execute("PRAGMA synchronous=FULL")
        _migrate(db, path)
    except (sqlite3.Error, OSError) as err:
        if db is not None:
            db.close()
        raise ProgressError(_explain(path, err)) from None
    except ProgressError:
        db.close()
        raise
    return db


def _migrate(db: sqlite3.Connection, path: Path) -> None:
    """Bring the database to SCHEMA_VERSION, one migration at a time, in one transaction;
    refuse a database from a newer version rather than guess at it."""
    if _version(db, path) == SCHEMA_VERSION:
        return
    with _transaction(db):
        version = _version(db, path)  # again, now that no one else can be migrating it
        for number in range(version, SCHEMA_VERSION):
            for statement in MIGRATIONS[number].split(";"):
                if statement.strip():
                    db.execute(statement)
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


def _version(db: sqlite3.Connection, path: Path) -> int:
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise ProgressError(
            f"{path} was written by a newer autograd-tutor (progress format {version}; this one"
            f" reads up to {SCHEMA_VERSION}). Upgrade autograd-tutor to use it; it was left as it is."
        )
    return version


def _has_tables(db: sqlite3.Connection) -> bool:
    return db.execute("SELECT count(*) FROM sqlite_master WHERE name = 'progress'").fetchone()[0] > 0


def _memory_copy(path: Path | None) -> sqlite3.Connection:
    """An in-memory store with the layout, and what can be read from `path` (a read-only
    or full disk still lets the learner see where they were)."""
    memory = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
    with contextlib.suppress(sqlite3.Error, OSError, ProgressError):
        for options in () if path is None else ("mode=ro", "mode=ro&immutable=1"):
            source = sqlite3.connect(f"{path.resolve().as_uri()}?{options}", uri=True, timeout=2)
            try:
                _version(source, path)
                source.execute("SELECT count(*) FROM progress").fetchone()
                source.backup(memory)
                break
            except sqlite3.Error:
                continue
            finally:
                source.close()
    try:
        _migrate(memory, Path(":memory:"))
    except (sqlite3.Error, ProgressError):  # what was copied is unusable: start empty
        memory.close()
        memory = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        _migrate(memory, Path(":memory:"))
    return memory


def _explain(path: Path, err: Exception) -> str:
    """A database problem in plain words."""
    if isinstance(err, ProgressError):
        return str(err)
    text = str(err).lower()
    code = getattr(err, "sqlite_errorcode", None)
    if "not a database" in text or "malformed" in text or code in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB):
        return f"{path} is damaged ({err}). Move it away (e.g. to {path.name}.damaged) to start afresh."
    if "disk is full" in text or code == sqlite3.SQLITE_FULL or getattr(err, "errno", None) == 28:
        return f"The disk holding {path} is full."
    if "readonly" in text or "read-only" in text or code == sqlite3.SQLITE_READONLY:
        return f"{path} cannot be written (read-only)."
    if isinstance(err, PermissionError) or getattr(err, "errno", None) in (1, 13, 30):
        return f"{path} cannot be written ({err.strerror or err})."
    if "unable to open" in text:
        return f"{path} cannot be opened ({err}): is its directory writable?"
    return f"{path}: {err}."


def _use_wal(db: sqlite3.Connection) -> None:
    """Put the database in WAL mode (it stays so). Switching needs a moment alone
    with the file, and SQLite answers "locked" at once rather than wait when
    several processes open a new database together, so retry for a while."""
    for attempt in range(100):
        try:
            if db.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
                return
            db.execute("PRAGMA journal_mode=WAL")
        except sqlite3.OperationalError as err:
            if attempt == 99 or "locked" not in str(err):
                raise
            time.sleep(0.05)


@contextlib.contextmanager
def _transaction(db: sqlite3.Connection):
    """BEGIN IMMEDIATE ... COMMIT, rolled back on any exception."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        with contextlib.suppress(sqlite3.Error):
            db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
