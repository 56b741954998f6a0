"""The learner model as any front end shows it: the skills view's rows, the
catalogue's one line, a practice item's title and story, and which skills moved."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..lesson.skills import skills_file
from ..mastery.model import MASTERED, LearnerModel, Move, bar, course_skills, outcome
from ..mastery.schedule import first_skill
from .spans import Line, line

if TYPE_CHECKING:
    from ..lesson.loader import Lesson
    from ..mastery.practice import Item, Practice


@dataclass(frozen=True)
class SkillRow:
    skill: str
    mastery: str  # a bar, or "not met yet"
    right: str  # "2/3" right first tries of the observations
    mark: str  # "◀ practise (KEY)" on the skill practice starts with, "mastered", or ""


def descriptions(lessons: list[Lesson]) -> dict[str, str]:
    """Each skill's one-line description, from the skills files beside the lessons."""
    found: dict[str, str] = {}
    for directory in dict.fromkeys(Path(lesson.file).parent for lesson in lessons):
        skills = skills_file(directory)
        found.update(skills.skills if skills else {})
    return found


def skill_rows(lessons: list[Lesson], model: LearnerModel, first: str | None, key: str) -> list[SkillRow]:
    """Every skill the course asks for, in course order."""
    rows = []
    for skill in course_skills(lessons):
        state = model.get(skill)
        mark = f"◀ practise ({key})" if skill == first else "mastered" if state.mastered else ""
        shown = bar(state.known) if state.seen else "not met yet"
        rows.append(SkillRow(skill, shown, f"{state.correct}/{state.seen}" if state.seen else "", mark))
    return rows


def skills_note(rows: list[SkillRow], first: str | None) -> str:
    if not rows:
        return "These lessons name no skills."
    note = "Mastery is the chance you know a skill, from your first tries (hints and reveals count as not yet)."
    return note if first is not None else note + " Finish a lesson to practise its skills."


def skills_lines(model: LearnerModel, lessons: list[Lesson], finished: set[str], key: str) -> list[str]:
    """The skills for the catalogue's course line, the longest first (a front end takes
    the first that fits): `skills 2/9 mastered, weakest chain-rule 19% (^o)`; none
    when the lessons name no skills. The weakest is the skill practice starts with."""
    skills = course_skills(lessons)
    if not skills:
        return []
    text = f"skills {sum(model.get(s).mastered for s in skills)}/{len(skills)} mastered"
    first = first_skill(lessons, finished, model, time.time())
    shorter = [f"{text} ({key})", f"{text}"]
    return ([f"{text}, weakest {first} {model.known(first):.0%} ({key})"] if first else []) + shorter


def moved_lines(moves: list[Move]) -> list[Line]:
    """`chain-rule  ███░░░░░░░  30% → ███████░░░  71% ▲`, the largest change first."""
    lines = []
    for move in moves:
        up = move.after > move.before
        mastered = " mastered" if move.after >= MASTERED > move.before else ""
        lines.append(
            line(
                f"{move.skill:<22} {bar(move.before)} → {bar(move.after)} ",
                ("▲" if up else "▼", "ok" if up else "bad"),
                (mastered, "ok"),
            )
        )
    return lines


def item_title(practice: Practice) -> str:
    """`Practice 3 of 10 · chain-rule · Chain rule, step 4 · Local factor`."""
    item = practice.item
    assert item is not None
    step = item.step
    return (
        f"Practice {len(practice.items)} of {practice.size} · {item.skill}"
        f" · {item.lesson.title}, step {step.index + 1} · {step.definition.label}"
    )


def story_lines(item: Item) -> list[Line]:
    """For a predict or run item: what the lesson's earlier steps did to the live state
    (torch's own code and errors), as the lesson had shown it step by step."""
    if item.step.kind not in ("predict", "run"):
        return []
    lines = []
    for result in item.story():
        more = " …" if "\n" in result.code else ""
        lines.append(line((f">>> {result.code.splitlines()[0]}{more}", "code")))
        if result.error:
            lines.append(line((result.error.splitlines()[0], "bad")))
    return [line(("So far:", "dim")), *lines] if lines else []


def practice_summary(practice: Practice) -> list[Line]:
    """The end of a practice: right first tries, and which skills moved."""
    items = [i for i in practice.items if i.recorded]
    right = sum(outcome(i.record) is True for i in items)
    lines = [line((f"Practice: {right} of {len(items)} right at the first try", "strong")), line()]
    moves = practice.moved()
    if not moves:
        return [*lines, line("No item answered, so no skill moved.")]
    return [*lines, line("Skills that moved:"), *moved_lines(moves)]
