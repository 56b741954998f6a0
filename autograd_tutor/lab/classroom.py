"""The class as the instructor's dashboard sees it: where each student is now, who is
stuck, and per lesson what to re-teach. No UI here, and no torch.

Rows come from the progress stores through `progress.read_store` (the one reader of
their layout); `Classroom.reload(student)` re-reads one student's store, so keeping the
view current costs one read per change, whatever the size of the class (`watch.py`
says which students changed).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from ..progress import DATABASE, STUDENTS, ProgressError, ProgressRow, read_store, valid_student
from .report import mistakes_of, where

SHARED = ""  # the key of the desktop tutor's shared DATA_DIR/progress.sqlite3


@dataclass(frozen=True)
class Thresholds:
    attempts: int = 3  # wrong answers on the current step that make a student stuck
    seconds: float = 300.0  # or time on the current step
    away: float = 1200.0  # no activity for this long: away, not stuck


@dataclass
class StudentNow:
    """One student, in the lesson they opened last."""

    student: str
    lesson: str
    title: str
    step: int
    steps: int
    where: str  # "step 5 (dz/dx)"
    since: float  # when they reached this step
    updated: float  # their last activity
    attempts_here: int  # wrong answers on this step
    hints: int  # in this lesson
    reveals: int
    finished: bool  # this lesson
    lessons_finished: int
    mistakes_here: list[dict] = field(default_factory=list)  # {"answer", "diagnosis"} on this step

    def state(self, now: float, limits: Thresholds) -> str:
        """ "done", "away", "stuck" or "working"."""
        if self.finished:
            return "done"
        if now - self.updated >= limits.away:
            return "away"
        if self.attempts_here >= limits.attempts or now - self.since >= limits.seconds:
            return "stuck"
        return "working"


@dataclass(frozen=True)
class LessonNow:
    lesson: str
    title: str
    started: int
    finished: int
    busiest: str | None  # the step most of the students in this lesson are at
    there: int  # how many are at it
    wrong: list[tuple[str, str, int]]  # at that step: (answer, diagnosis, how many times), most common first


_STATE_ORDER = {"stuck": 0, "working": 1, "away": 2, "done": 3}


class Classroom:
    def __init__(self, data_dir: Path, catalogue: dict):
        self.data_dir = data_dir
        self.catalogue = catalogue  # lesson id -> Lesson, in course order
        self.rows: dict[str, list[ProgressRow]] = {}  # store key -> its rows
        self.opened: dict[str, str] = {}  # student -> lesson opened last
        self.problems: dict[str, str] = {}  # store key -> why it cannot be read
        self.stamps: dict[str, tuple] = {}  # store key -> its files' sizes and times when last read

    # --- reading -----------------------------------------------------------------------------------

    def stores(self) -> list[str]:
        """Every store there is: the students' directories, and the shared database."""
        keys = [SHARED] if (self.data_dir / DATABASE).is_file() else []
        try:
            entries = sorted((self.data_dir / STUDENTS).iterdir())
        except OSError:
            entries = []
        return keys + [e.name for e in entries if valid_student(e.name) and (e / DATABASE).is_file()]

    def load_all(self) -> None:
        for key in self.stores():
            self.reload(key)

    def path(self, key: str) -> Path:
        return self.data_dir / DATABASE if key == SHARED else self.data_dir / STUDENTS / key / DATABASE

    def changed(self, keys: set[str]) -> set[str]:
        """Re-read the stores in `keys` whose files were written since they were last read;
        those keys. (Reading a store also touches its files, and the file system says so:
        those notices are recognised here, and cost two `stat`s, no read.)"""
        fresh = {key for key in keys if _stamp(self.path(key)) != self.stamps.get(key)}
        for key in fresh:
            self.reload(key)
        return fresh

    def reload(self, key: str) -> None:
        """Read one store again (a student's name, or SHARED)."""
        path = self.path(key)
        self.stamps[key] = _stamp(path)  # before reading: a write during the read is seen next time
        try:
            contents = read_store(path, None if key == SHARED else key)
        except ProgressError as err:
            self.problems[key] = str(err)
            return
        self.problems.pop(key, None)
        self.rows[key] = contents.rows
        self.opened.update(contents.last_opened)

    # --- the view ----------------------------------------------------------------------------------

    def students(self, now: float, limits: Thresholds) -> list[StudentNow]:
        """Everyone, stuck first (longest on their step first), then working, away, done."""
        by_student: dict[str, list[ProgressRow]] = {}
        for rows in self.rows.values():
            for row in rows:
                by_student.setdefault(row.student, []).append(row)
        found = [self._now(student, rows) for student, rows in by_student.items()]
        return sorted(found, key=lambda s: (_STATE_ORDER[s.state(now, limits)], s.since, s.student))

    def _now(self, student: str, rows: list[ProgressRow]) -> StudentNow:
        current = next((r for r in rows if r.lesson == self.opened.get(student)), None)
        current = current or max(rows, key=lambda r: r.updated)
        lesson = self.catalogue.get(current.lesson)
        here = [m for m in mistakes_of(current.state, lesson) if m["step"] == current.step + 1]
        return StudentNow(
            student=student,
            lesson=current.lesson,
            title=lesson.title if lesson is not None else current.lesson,
            step=current.step,
            steps=current.steps,
            where=where(lesson, current.step),
            since=current.step_since,
            updated=max(r.updated for r in rows),
            attempts_here=len(here),
            hints=current.hints,
            reveals=current.reveals,
            finished=current.finished,
            lessons_finished=sum(r.finished for r in rows),
            mistakes_here=here[-20:],
        )

    def lessons(self) -> list[LessonNow]:
        """Per lesson someone started, in course order: who started and finished it, and at
        the step where most of its students are, the most common wrong answers."""
        rows = [r for group in self.rows.values() for r in group]
        order = {lesson_id: i for i, lesson_id in enumerate(self.catalogue)}
        out = []
        for lesson_id in sorted({r.lesson for r in rows}, key=lambda i: (order.get(i, len(order)), i)):
            group = [r for r in rows if r.lesson == lesson_id]
            lesson = self.catalogue.get(lesson_id)
            at = Counter(r.step for r in group if not r.finished)
            busiest, there = at.most_common(1)[0] if at else (None, 0)
            wrong: Counter = Counter()
            written: dict[tuple[str, str], str] = {}  # each answer as its first student wrote it
            if busiest is not None:
                for row in group:
                    for m in mistakes_of(row.state, lesson):
                        if m["step"] == busiest + 1:
                            key = (_normal(m["answer"]), m["diagnosis"])
                            wrong[key] += 1
                            written.setdefault(key, m["answer"][:60])
            out.append(
                LessonNow(
                    lesson=lesson_id,
                    title=lesson.title if lesson is not None else lesson_id,
                    started=len(group),
                    finished=sum(r.finished for r in group),
                    busiest=None if busiest is None else where(lesson, busiest),
                    there=there,
                    wrong=[(written[key], key[1], n) for key, n in wrong.most_common(5)],
                )
            )
        return out


def _stamp(path: Path) -> tuple:
    """What changes when a store is written: the database's and its log's size and time.
    A log that a reader created empty (or removed when it was empty) is no change."""
    stamp = []
    for file in (path, path.with_name(path.name + "-wal")):
        try:
            info = file.stat()
        except OSError:
            stamp.append(None)
            continue
        stamp.append((info.st_size, info.st_mtime_ns) if info.st_size else None)
    return tuple(stamp)


def _normal(answer: str) -> str:
    """Answers that differ only in spaces are the same answer."""
    return re.sub(r"\s+", "", answer)[:60]
