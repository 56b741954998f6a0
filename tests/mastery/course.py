"""The mastery tests' fixtures: a small course whose lessons name their skills."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from autograd_tutor.lesson.loader import Lesson, library

COURSE = Path(__file__).parent / "lessons"


@cache
def course() -> tuple[Lesson, ...]:
    lessons, problems = library([COURSE])
    assert not problems
    return tuple(lessons)


def lesson(lesson_id: str) -> Lesson:
    return next(x for x in course() if x.id == lesson_id)
