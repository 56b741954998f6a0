"""`validate`: every check of the lesson format, including the ones that need
torch (values finite in the lesson's dtype, model answers judged correct,
listed mistakes judged wrong), each reported at its place in the file."""

from __future__ import annotations

import threading
import weakref
from pathlib import Path

from .expr.ast import names
from .expr.display import format_value
from .expr.evaluate import EvalError, evaluate, is_finite
from .expr.parser import ParseError
from .grade.grader import MathQuestion, Verdict
from .lesson.loader import Lesson, library, tensor_values
from .lesson.problems import Problem
from .session import LessonSession


def validate(paths: list[str | Path]) -> list[Problem]:
    """Every problem of the lessons under `paths`: file by file, each file's in line order."""
    lessons, problems = library(paths)
    for lesson in lessons:
        problems += check_lesson(lesson)
    files = list(dict.fromkeys(p.file for p in problems))
    return sorted(problems, key=lambda p: (files.index(p.file), p.line, p.col))


_errors: weakref.WeakKeyDictionary[Lesson, tuple[Problem, ...]] = weakref.WeakKeyDictionary()
_errors_lock = threading.Lock()


def lesson_errors(lesson: Lesson) -> tuple[Problem, ...]:
    """The errors `validate` reports for a loaded lesson, computed once per lesson
    (the app asks from its warm-up thread; a lab's sessions inherit the answer)."""
    with _errors_lock:
        if lesson not in _errors:
            _errors[lesson] = tuple(p for p in check_lesson(lesson) if p.severity == "error")
        return _errors[lesson]


def _finite(truth: object) -> bool:
    """Whether a learner can type this truth (words and None always can)."""
    return not isinstance(truth, float | tuple) or is_finite(truth)


def check_lesson(lesson: Lesson) -> list[Problem]:
    """Play the lesson once, judging each model answer and each listed mistake."""
    at = lesson.source.at
    problems = _overflows(lesson)
    if problems:
        return problems
    session = LessonSession(lesson)
    engine = session.engine
    dtype = lesson.computation.dtype
    problems = [
        at(("nodes", name), f"{name} is not finite in {dtype} ({value})")
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
                    message = _model_answer_problem(question, step.answer, verdict)
                    problems.append(at((*step.path, "answer"), message))
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


def _overflows(lesson: Lesson) -> list[Problem]:
    """Values that torch stores as inf in the lesson's dtype (1e300 in float32)."""
    from .engine.torch_import import dtype, torch

    t, dt = torch(), dtype(lesson.spec.dtype)
    problems = []
    for path, value in tensor_values(lesson.spec).items():
        numbers = value if isinstance(value, list) else [value]
        stored = t.tensor(numbers, dtype=dt)
        if not bool(t.isfinite(stored).all()):
            big = numbers[int((~t.isfinite(stored)).nonzero()[0])]
            message = f"{big:g} is too large for {lesson.spec.dtype}: torch stores it as inf; choose a smaller value"
            problems.append(lesson.source.at(path, message))
    return problems


def _model_answer_problem(question, answer: str, verdict: Verdict) -> str:
    """Why a model answer is not accepted, with torch's value next to the answer's."""
    judged = f"the model answer is judged {verdict.status}"
    if verdict.status == "invalid" or verdict.diagnosis in ("coincidence", "shape"):
        return f"{judged}: {verdict.feedback}"
    truth = format_value(question.expected)
    if not isinstance(question, MathQuestion):
        return f"{judged}: {answer} is not what torch gives; torch says {truth}"
    values = question.engine.truth.values
    try:
        expr = question.parse(answer)
        value = evaluate(expr, values)
    except (ParseError, EvalError):
        return f"{judged}: {verdict.feedback}"
    used, shown = names(expr), format_value(value, 4)
    if not used and shown == answer.strip():  # a number: torch's is the news
        return f"{judged}: torch says {truth}"
    where = " at " + ", ".join(f"{n} = {format_value(values[n], 4)}" for n in used) if used else ""
    return f"{judged}: {answer} gives {shown}{where}; torch says {truth}"
