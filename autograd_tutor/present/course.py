"""The course around a lesson: overall progress, the next lesson, where to resume."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lesson.files import Header
from ..progress import LessonProgress

if TYPE_CHECKING:
    from ..lesson.loader import Lesson


def course_progress(lessons: list[Header] | list[Lesson], progress: dict[str, LessonProgress]) -> str:
    """ "Course: 8/13 lessons done, 1 in progress"."""
    states = [progress.get(lesson.id) for lesson in lessons]
    done = sum(p is not None and p.finished for p in states)
    started = sum(p is not None and not p.finished for p in states)
    return f"Course: {done}/{len(lessons)} lessons done" + (f", {started} in progress" if started else "")


def next_lesson(lessons: list[Lesson], lesson_id: str) -> Lesson | None:
    """The lesson after `lesson_id` in course order, or None after the last."""
    ids = [lesson.id for lesson in lessons]
    place = ids.index(lesson_id) if lesson_id in ids else len(ids)
    return lessons[place + 1] if place + 1 < len(lessons) else None


def resume_at(
    lessons: list[Header] | list[Lesson], progress: dict[str, LessonProgress], last: str | None
) -> str | None:
    """The lesson to put the cursor on: the last one opened, else the first not finished."""
    ids = [lesson.id for lesson in lessons]
    if last in ids:
        return last
    return next((i for i in ids if not (progress.get(i) and progress[i].finished)), ids[0] if ids else None)
