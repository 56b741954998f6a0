"""`autograd-tutor report`: who did what, and which mistakes to re-teach.

Reads the lab layout, DATA_DIR/students/NAME/progress.sqlite3 (each database read only
for the rows of the student its directory is named after: a student who owns their
database cannot make it speak for someone else), and also a single shared
DATA_DIR/progress.sqlite3 if there is one (the default layout of the desktop tutor).
Databases are opened read-only. Nothing here imports torch or Textual.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

from ..progress import DATABASE, STUDENTS, ProgressError, ProgressRow, StoreContents, read_store, valid_student
from . import skills as skills_report

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


@dataclass
class Record:
    """One student in one lesson."""

    student: str
    lesson: str
    title: str
    status: str  # finished | step K/N
    step: int
    steps: int
    solved: int
    asked: int
    attempts: int  # answers judged wrong
    hints: int
    reveals: int
    finished: bool
    updated: float
    last_activity: str
    mistakes: list[dict] = field(default_factory=list)  # [{"step": 5, "where": "...", "diagnosis": "..."}]

    @property
    def score(self) -> str:
        return f"{self.solved}/{self.asked}"


@dataclass
class LessonSummary:
    lesson: str
    title: str
    students: int
    finished: int
    solved: int
    asked: int
    attempts: int
    hints: int
    reveals: int
    mistakes: list[dict]  # most common first: {"diagnosis", "step", "where", "count", "students"}


@dataclass
class Report:
    records: list[Record]
    lessons: list[LessonSummary]
    students: list[str]
    problems: list[str]
    skills: skills_report.SkillsReport

    def as_dict(self) -> dict:
        return {
            "students": [{**asdict(r), "score": r.score} for r in self.records],
            "lessons": [asdict(s) for s in self.lessons],
            **self.skills.as_dict(),
            "problems": self.problems,
        }


def build(data_dir: Path, lesson_paths: list[str] | None = None) -> Report:
    catalogue = _catalogue(lesson_paths)
    problems: list[str] = []
    found: dict[tuple[str, str], Record] = {}
    students: set[str] = set()
    models: dict = {}
    for path, only in _databases(data_dir, problems):
        if only:
            students.add(only)
        contents = _read(path, only, problems)
        models.update(contents.skills)
        for record in (_record(row, catalogue) for row in contents.rows):
            students.add(record.student)
            key = (record.student, record.lesson)
            if key not in found or found[key].updated < record.updated:
                found[key] = record
    order = {lesson_id: i for i, lesson_id in enumerate(catalogue)}
    records = sorted(found.values(), key=lambda r: (r.student, order.get(r.lesson, len(order)), r.lesson))
    skills = skills_report.build(models, list(catalogue.values()))
    return Report(records, _summaries(records, catalogue, order), sorted(students), problems, skills)


def _catalogue(lesson_paths: list[str] | None) -> dict[str, object]:
    """Lesson id -> Lesson, in course order (titles, step descriptions)."""
    from ..lesson.files import BUNDLED
    from ..lesson.loader import library

    lessons, _problems = library(lesson_paths or [BUNDLED])
    return {lesson.id: lesson for lesson in lessons}


def _databases(data_dir: Path, problems: list[str]):
    shared = data_dir / DATABASE
    if shared.is_file():
        yield shared, None
    root = data_dir / STUDENTS
    try:
        entries = sorted(root.iterdir())
    except FileNotFoundError:
        return
    except OSError as err:
        problems.append(f"{root}: cannot list: {err}")
        return
    for entry in entries:
        if not valid_student(entry.name):
            continue
        database = entry / DATABASE
        try:
            if not entry.is_dir() or entry.is_symlink() or not database.is_file():
                continue
        except OSError as err:
            problems.append(f"{entry}: cannot read: {err}")
            continue
        yield database, entry.name


def _read(path: Path, only: str | None, problems: list[str]) -> StoreContents:
    try:
        contents = read_store(path, only)
    except ProgressError as err:
        problems.append(f"cannot read: {err}")
        return StoreContents([], {}, [])
    problems.extend(contents.damaged)
    return contents


def _record(row: ProgressRow, catalogue: dict) -> Record:
    lesson = catalogue.get(row.lesson)
    return Record(
        student=row.student,
        lesson=row.lesson,
        title=lesson.title if lesson is not None else row.lesson,
        status="finished" if row.finished else f"step {row.step + 1}/{row.steps}",
        step=row.step,
        steps=row.steps,
        solved=row.solved,
        asked=row.asked,
        attempts=row.attempts,
        hints=row.hints,
        reveals=row.reveals,
        finished=row.finished,
        updated=row.updated,
        last_activity=datetime.fromtimestamp(row.updated).strftime("%Y-%m-%d %H:%M"),
        mistakes=mistakes_of(row.state, lesson),
    )


def mistakes_of(state: dict | None, lesson) -> list[dict]:
    """The diagnosed wrong answers kept in the session state (records[].mistakes[].diagnosis)."""
    records = state.get("records") if isinstance(state, dict) else None
    if not isinstance(records, list):
        return []
    found = []
    for index, record in enumerate(records[:1000]):
        mistakes = record.get("mistakes") if isinstance(record, dict) else None
        if not isinstance(mistakes, list):
            continue
        for mistake in mistakes[:1000]:
            diagnosis = mistake.get("diagnosis") if isinstance(mistake, dict) else None
            if isinstance(diagnosis, str) and diagnosis:
                if diagnosis == "authored":  # a mistake the lesson lists: its feedback says which
                    diagnosis = _authored(mistake.get("feedback"))
                answer, option = mistake.get("answer"), mistake.get("option")
                if isinstance(option, str):  # a choose step: each learner numbers the options their own way
                    answer = f"“{option.strip()}”"
                found.append(
                    {
                        "step": index + 1,
                        "where": where(lesson, index),
                        "diagnosis": diagnosis[:80],
                        "answer": answer[:80] if isinstance(answer, str) else "",
                    }
                )
    return found


def _authored(feedback: object) -> str:
    """`authored: You dropped the inner derivative 2x`, from the lesson's feedback."""
    if not isinstance(feedback, str) or not feedback.strip():
        return "authored"
    first = re.split(r"[.:;!?](?:\s|$)", feedback.strip(), maxsplit=1)[0]
    return f"authored: {first[:60]}"


def where(lesson, index: int) -> str:
    """A step as a teacher would name it: `step 5 (dz/dx)`."""
    if lesson is None or index >= len(lesson.steps):
        return f"step {index + 1}"
    step = lesson.steps[index]
    target = step.target
    if step.kind == "forward":
        what = f"value of {target}"
    elif step.kind == "local":
        what = f"∂{target[0]}/∂{target[1]}"
    elif step.kind == "gradient":
        what = f"d{lesson.computation.output}/d{target}"
    elif step.kind == "predict":
        what = f"predict {target}"
    else:
        what = step.kind
    return f"step {index + 1} ({what})"


def _summaries(records: list[Record], catalogue: dict, order: dict) -> list[LessonSummary]:
    by_lesson: dict[str, list[Record]] = defaultdict(list)
    for record in records:
        by_lesson[record.lesson].append(record)
    summaries = []
    for lesson_id in sorted(by_lesson, key=lambda i: (order.get(i, len(order)), i)):
        group = by_lesson[lesson_id]
        counts: Counter = Counter()
        who: dict[tuple, set] = defaultdict(set)
        where: dict[tuple, str] = {}
        for record in group:
            for mistake in record.mistakes:
                key = (mistake["diagnosis"], mistake["step"])
                counts[key] += 1
                who[key].add(record.student)
                where[key] = mistake["where"]
        common = [
            {"diagnosis": d, "step": s, "where": where[(d, s)], "count": n, "students": len(who[(d, s)])}
            for (d, s), n in sorted(counts.items(), key=lambda kv: (-kv[1], -len(who[kv[0]]), kv[0]))
        ]
        summaries.append(
            LessonSummary(
                lesson=lesson_id,
                title=group[0].title,
                students=len(group),
                finished=sum(r.finished for r in group),
                solved=sum(r.solved for r in group),
                asked=sum(r.asked for r in group),
                attempts=sum(r.attempts for r in group),
                hints=sum(r.hints for r in group),
                reveals=sum(r.reveals for r in group),
                mistakes=common[:5],
            )
        )
    return summaries


# --- output --------------------------------------------------------------------------------------------


def render(report: Report, fmt: str, summary_only: bool = False, skills_only: bool = False) -> str:
    """`summary_only`: the class, not each student; `skills_only`: the skills, not the lessons."""
    if fmt == "json":
        data = report.skills.as_dict() if skills_only else report.as_dict()
        if summary_only:
            data = {k: v for k, v in data.items() if k not in ("students", "skills")}
        return json.dumps({**data, "problems": report.problems}, indent=2, ensure_ascii=False) + "\n"
    if fmt == "csv":
        if skills_only:
            return skills_report.csv_text(report.skills, summary_only, _clean)
        return _csv_summary(report) if summary_only else _csv_records(report)
    if not skills_only:  # the skills follow once there are any
        lessons = _table(report, summary_only)
        return lessons + "\n" + _skills_table(report, summary_only) if report.skills.students else lessons
    return _skills_table(report, summary_only)


def _skills_table(report: Report, summary_only: bool) -> str:
    return "\n".join(skills_report.table_lines(report.skills, summary_only, _grid)) + "\n"


def _clean(value: object) -> str:
    """No control characters reach the instructor's terminal (or spreadsheet)."""
    return _CONTROL.sub("?", str(value))


def _csv_records(report: Report) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        ["student", "lesson", "title", "status", "score", "solved", "asked", "attempts", "hints", "reveals",
         "finished", "last_activity", "mistakes"]
    )  # fmt: skip
    for r in report.records:
        mistakes = "; ".join(f"{m['diagnosis']} at step {m['step']}" for m in r.mistakes)
        writer.writerow(
            [_clean(v) for v in (r.student, r.lesson, r.title, r.status, r.score, r.solved, r.asked, r.attempts,
                                 r.hints, r.reveals, int(r.finished), r.last_activity, mistakes)]
        )  # fmt: skip
    return out.getvalue()


def _csv_summary(report: Report) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        ["lesson", "title", "students", "finished", "solved", "asked", "attempts", "hints", "reveals", "mistakes"]
    )
    for s in report.lessons:
        mistakes = "; ".join(f"{m['diagnosis']} at {m['where']}: {m['count']}" for m in s.mistakes)
        writer.writerow(
            [_clean(v) for v in (s.lesson, s.title, s.students, s.finished, s.solved, s.asked, s.attempts,
                                 s.hints, s.reveals, mistakes)]
        )  # fmt: skip
    return out.getvalue()


def _grid(header: list[str], rows: list[list[object]], right: set[int]) -> list[str]:
    cells = [[_clean(c) for c in row] for row in [header, *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = []
    for row in cells:
        parts = [c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths))]
        lines.append("  ".join(parts).rstrip())
    return lines


def _table(report: Report, summary_only: bool) -> str:
    lines: list[str] = []
    if not summary_only:
        lines.append(f"Students ({len(report.students)}), by lesson")
        rows = [
            [r.student, r.lesson, r.status, r.score, r.attempts, r.hints, r.reveals, r.last_activity]
            for r in report.records
        ]
        header = ["student", "lesson", "status", "score", "attempts", "hints", "reveals", "last activity"]
        lines += _grid(header, rows, right={3, 4, 5, 6}) if rows else ["  (no progress recorded yet)"]
        lines.append("")
    lines.append("Lessons")
    header = ["lesson", "students", "finished", "score", "attempts", "hints", "reveals"]
    rows = [[s.lesson, s.students, s.finished, f"{s.solved}/{s.asked}", s.attempts, s.hints, s.reveals]
            for s in report.lessons]  # fmt: skip
    if not rows:
        lines.append("  (no progress recorded yet)")
    grid = _grid(header, rows, right={1, 2, 3, 4, 5, 6})
    lines.append(grid[0])
    for line, summary in zip(grid[1:], report.lessons):
        lines.append(line)
        for m in summary.mistakes[:3]:
            who = "student" if m["students"] == 1 else "students"
            lines.append(_clean(f"    {m['count']}× {m['diagnosis']} at {m['where']} ({m['students']} {who})"))
    lines.append("")
    lines.append("score: steps solved / steps that take an answer; attempts: answers judged wrong.")
    return "\n".join(lines) + "\n"
