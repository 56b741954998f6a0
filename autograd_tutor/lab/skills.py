"""The skills part of `report`: each student's mastery per skill, and the class's weakest skills.

Mastery is the learner model's P(known) (see docs/mastery.md), as `progress.read_store`
reads it from each student's database, read-only. A skill a student has not met yet is not shown for
them and does not count in the class's average.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime

from ..mastery.model import MASTERED, LearnerModel, bar, course_skills

STRUGGLING = 0.5  # below this P(known) a student is named under a class skill
NAMED = 5  # at most this many students named per skill


@dataclass(frozen=True)
class StudentSkill:
    student: str
    skill: str
    mastery: float  # P(known)
    mastered: bool
    seen: int  # observations
    correct: int  # of them right on the first try
    last_seen: str  # YYYY-MM-DD HH:MM, or "" if unknown


@dataclass(frozen=True)
class ClassSkill:
    skill: str
    students: int  # who have met it
    mastered: int  # of them, how many have mastered it
    mean: float  # their average P(known)
    struggling: list[str]  # the weakest of them below STRUGGLING, weakest first (at most NAMED)


@dataclass
class SkillsReport:
    students: list[StudentSkill]
    weakest: list[ClassSkill]  # weakest first

    def as_dict(self) -> dict:
        return {"skills": [asdict(s) for s in self.students], "weakest_skills": [asdict(c) for c in self.weakest]}


def build(models: dict[str, LearnerModel], lessons: list) -> SkillsReport:
    """Rows per student in course order of the skills (then any other skill by name)."""
    order = {s: i for i, s in enumerate(course_skills(lessons))}
    rows = []
    for student in sorted(models):
        skills = models[student].skills
        for skill in sorted(skills, key=lambda s: (order.get(s, len(order)), s)):
            state = skills[skill]
            if state.seen:
                when = datetime.fromtimestamp(state.last_seen).strftime("%Y-%m-%d %H:%M") if state.last_seen else ""
                rows.append(
                    StudentSkill(student, skill, round(state.known, 4), state.mastered, state.seen, state.correct, when)
                )
    return SkillsReport(rows, _weakest(rows))


def _weakest(rows: list[StudentSkill]) -> list[ClassSkill]:
    by_skill: dict[str, list[StudentSkill]] = {}
    for row in rows:
        by_skill.setdefault(row.skill, []).append(row)
    found = []
    for skill, group in by_skill.items():
        low = sorted((r for r in group if r.mastery < STRUGGLING), key=lambda r: (r.mastery, r.student))
        mean = sum(r.mastery for r in group) / len(group)
        found.append(ClassSkill(skill, len(group), sum(r.mastered for r in group), round(mean, 4),
                                [r.student for r in low[:NAMED]]))  # fmt: skip
    return sorted(found, key=lambda c: (c.mean, c.skill))


# --- output ------------------------------------------------------------------------------------------


def csv_text(report: SkillsReport, summary_only: bool, clean: Callable[[object], str]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    if summary_only:
        writer.writerow(["skill", "students", "mastered", "mean_mastery", "struggling"])
        for c in report.weakest:
            writer.writerow([clean(v) for v in (c.skill, c.students, c.mastered, c.mean, " ".join(c.struggling))])
    else:
        writer.writerow(["student", "skill", "mastery", "mastered", "seen", "right_first_try", "last_seen"])
        for r in report.students:
            writer.writerow(
                [clean(v) for v in (r.student, r.skill, r.mastery, int(r.mastered), r.seen, r.correct, r.last_seen)]
            )
    return out.getvalue()


def table_lines(report: SkillsReport, summary_only: bool, grid: Callable) -> list[str]:
    lines = []
    if not summary_only:
        lines.append("Skills, by student")
        rows = [[r.student, r.skill, bar(r.mastery), f"{r.correct}/{r.seen}", r.last_seen] for r in report.students]
        header = ["student", "skill", "mastery", "right first try", "last seen"]
        lines += grid(header, rows, right={3}) if rows else ["  (no skill practised yet)"]
        lines.append("")
    lines.append("The class's weakest skills")
    rows = [[c.skill, bar(c.mean), f"{c.mastered}/{c.students}", " ".join(c.struggling)] for c in report.weakest]
    lines += grid(["skill", "mean mastery", "mastered", "below 50%"], rows, right={2}) if rows else ["  (none yet)"]
    lines.append("")
    lines.append(f"mastery: the chance the student knows the skill (BKT); mastered: {MASTERED:.0%} or more.")
    return lines
