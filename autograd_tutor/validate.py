"""`validate`: every check of the lesson format, including the ones that need
torch (values finite in the lesson's dtype, model answers judged correct,
listed mistakes judged wrong), each reported at its place in the file."""

from __future__ import annotations

from pathlib import Path

from .expr.evaluate import is_finite
from .lesson.loader import Lesson, library
from .lesson.problems import Problem
from .session import LessonSession


def validate(paths: list[str | Path]) -> list[Problem]:
    lessons, problems = library(paths)
    for lesson in lessons:
        problems += check_lesson(lesson)
    return problems


def _finite(truth: object) -> bool:
    """Whether a learner can type this truth (words and None always can)."""
    return not isinstance(truth, float | tuple) or is_finite(truth)


def check_lesson(lesson: Lesson) -> list[Problem]:
    """Play the lesson once, judging each model answer and each listed mistake."""
    at = lesson.source.at
    session = LessonSession(lesson)
    engine = session.engine
    problems = [
        at(("nodes", name), f"{name} is not finite in {lesson.computation.dtype} ({value})")
        for name, value in engine.native.values.items()
        if name in lesson.computation.nodes and not is_finite(value)
    ]
    if problems:
        return problems
    unanswerable: set[tuple] = set()  # places already reported, once each
    for step in lesson.steps:
        if step.kind in ("forward", "local", "gradient", "predict") and not _finite(session.question().expected):
            where = step.path or ("nodes", step.target if step.kind == "forward" else lesson.computation.output)
            if where not in unanswerable:
                unanswerable.add(where)
                message = f"the truth of this {step.kind} step is not finite ({session.expected()}): no answer can"
                problems.append(at(where, message + " match it; choose other input values"))
            session.advance()
            continue
        if step.takes_answer:
            question = session.question()
            if step.answer is not None:
                verdict = question.grade(step.answer)
                if not verdict.correct:
                    why = f": {verdict.feedback}" if verdict.feedback else ""
                    problems.append(at((*step.path, "answer"), f"the model answer is judged {verdict.status}{why}"))
            for j, mistake in enumerate(step.mistakes):
                verdict = question.grade(mistake.answer)
                where = (*step.path, "mistakes", j, "answer")
                if verdict.status != "wrong":
                    why = f": {verdict.feedback}" if verdict.status == "invalid" else ""
                    problems.append(at(where, f"this mistake is judged {verdict.status}, not wrong{why}"))
                elif verdict.feedback != mistake.feedback:
                    message = f"this feedback is never shown: the answer gets {verdict.feedback!r} instead"
                    problems.append(at(where, message, "warning"))
        session.advance()
    return problems
