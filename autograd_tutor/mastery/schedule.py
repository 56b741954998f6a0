"""Which skill practice serves next: each skill's need, and the turn it gets.

Kept apart from `practice` (which plays items with torch's numbers) so that the
catalogue and the skills view can name the weakest skill without loading it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .model import LearnerModel, SkillState

if TYPE_CHECKING:
    from ..lesson.loader import Lesson
    from ..lesson.steps import Step

DAY = 86400.0
REVIEW_DAYS = 7.0  # a skill unseen for this long is fully due for review
REVIEW_WEIGHT = 0.3  # what full review adds to a skill's need


@dataclass(frozen=True)
class Candidate:
    lesson: Lesson
    step: Step
    skills: tuple[str, ...]


def candidates(lessons: list[Lesson], finished: set[str]) -> list[Candidate]:
    """Every step that takes an answer and names a skill, in the finished lessons, in course order."""
    found = []
    for lesson in lessons:
        if lesson.id in finished:
            for step in lesson.steps:
                if step.takes_answer and step.skills:
                    found.append(Candidate(lesson, step, step.skills))
    return found


def need(state: SkillState, now: float) -> float:
    """How much a skill needs practice (0 to 1 + REVIEW_WEIGHT)."""
    due = 0.0 if state.last_seen is None else min(1.0, max(0.0, now - state.last_seen) / (REVIEW_DAYS * DAY))
    return (1 - state.known) + REVIEW_WEIGHT * due


def rank(skills: list[str], model: LearnerModel, now: float, given: Counter | None = None) -> list[str]:
    """`skills` in the order they get the next item: need / (1 + items they already had),
    ties in the order given."""
    given = given or Counter()
    order = {s: i for i, s in enumerate(skills)}
    return sorted(order, key=lambda s: (-need(model.get(s), now) / (1 + given[s]), order[s]))


def first_skill(lessons: list[Lesson], finished: set[str], model: LearnerModel, now: float) -> str | None:
    """The skill a practice started now would serve first (None: nothing to practise)."""
    pool = candidates(lessons, finished)
    return next(iter(rank(list(dict.fromkeys(s for c in pool for s in c.skills)), model, now)), None)
