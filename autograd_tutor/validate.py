"""`validate`: every check of the lesson format, including the ones that need
torch (values finite in the lesson's dtype, model answers judged correct,
listed mistakes judged wrong, the lesson's own tests), each reported at its
place in the file. A lesson with `variants: true` is played on variants 0 to
19, and a problem names the variant and its input values."""

from __future__ import annotations

import weakref
from pathlib import Path

import numpy as np

from .engine.sampling import variant_inputs
from .expr.display import format_value
from .expr.evaluate import EvalError, evaluate, is_finite
from .expr.parser import ParseError
from .grade.grader import MathQuestion
from .lesson.loader import Lesson, library, tensor_values
from .lesson.problems import Problem
from .session import LessonSession
from .variants import COUNT


def validate(paths: list[str | Path]) -> list[Problem]:
    """Every problem of the lessons under `paths`: file by file, each file's in line order."""
    lessons, problems = library(paths)
    for lesson in lessons:
        problems += check_lesson(lesson)
    files = list(dict.fromkeys(p.file for p in problems))
    return sorted(problems, key=lambda p: (files.index(p.file), p.line, p.col))


_errors: weakref.WeakKeyDictionary[Lesson, tuple[Problem, ...]] = weakref.WeakKeyDictionary()


def lesson_errors(lesson: Lesson) -> tuple[Problem, ...]:
    """The errors `validate` reports for a loaded lesson, computed once per lesson:
    the app asks from its warm-up thread, and a lab's forked sessions inherit what
    the warm parent computed. No lock (a lock held at a fork would stay held in the
    child); two threads asking at once at worst both compute it."""
    errors = _errors.get(lesson)
    if errors is None:
        errors = _errors[lesson] = tuple(p for p in check_lesson(lesson) if p.severity == "error")
    return errors


def check_lesson(lesson: Lesson) -> list[Problem]:
    """Play the lesson (each of its variants), judging each model answer and each
    listed mistake, then run its tests."""
    problems = _overflows(lesson) or _check_variant(lesson, 0)
    if problems:
        return problems
    problems += _run_tests(lesson)
    if lesson.spec.variants:
        reported: set[tuple] = set()
        for k in range(1, COUNT):
            for problem in _check_variant(lesson, k):
                place = (problem.line, problem.col)
                if place not in reported:
                    reported.add(place)
                    problems.append(problem)
    return problems


def _overflows(lesson: Lesson) -> list[Problem]:
    """Values that torch stores as inf in the lesson's dtype (1e300 in float32), at their place."""
    from .engine.torch_import import dtype, torch

    t, dt = torch(), dtype(lesson.spec.dtype)
    problems = []
    for path, value in tensor_values(lesson.spec).items():
        numbers = np.asarray(value, dtype=float).ravel()
        stored = t.tensor(numbers, dtype=dt)
        if not bool(t.isfinite(stored).all()):
            big = numbers[int((~t.isfinite(stored)).nonzero()[0])]
            message = f"{big:g} is too large for {lesson.spec.dtype}: torch stores it as inf; choose a smaller value"
            problems.append(lesson.source.at(path, message))
    return problems


def _finite(truth: object) -> bool:
    """Whether a learner can type this truth (words and None always can)."""
    return not isinstance(truth, np.ndarray | float) or is_finite(truth)


def _check_variant(lesson: Lesson, k: int) -> list[Problem]:
    at = lesson.source.at
    if k and variant_inputs(lesson.computation, lesson.id, k) is None:
        return [at(("variants",), f"variant {k}: no draw of the inputs keeps every value finite; narrow `sample`")]
    session = LessonSession(lesson, variant=k)
    where = _variant_words(session) if k else ""
    engine = session.engine
    problems = [
        at(("nodes", name), f"{where}{name} is not finite in {lesson.computation.dtype} ({format_value(value)})")
        for name, value in engine.native.values.items()
        if name in lesson.computation.nodes and not is_finite(value)
    ]
    if problems:
        return problems
    unanswerable: set[tuple] = set()  # places already reported, once each
    for step in lesson.steps:
        if step.takes_answer and step.kind != "run" and not _finite(session.question().expected):
            place = step.path or ("nodes", step.target if step.kind == "forward" else lesson.computation.output)
            if place not in unanswerable:
                unanswerable.add(place)
                message = f"{where}the truth of this {step.kind} step is not finite ({session.expected()}): no answer"
                problems.append(at(place, message + " can match it; choose other input values"))
            session.advance()
            continue
        if step.takes_answer:
            question = session.question()
            if step.answer is not None:
                verdict = question.grade(step.answer)
                if not verdict.correct:
                    message = _model_answer_problem(session, step.answer, verdict)
                    problems.append(at((*step.path, "answer"), where + message))
            for j, mistake in enumerate(step.mistakes):
                verdict = question.grade(mistake.answer)
                place = (*step.path, "mistakes", j, "answer")
                if verdict.status != "wrong":
                    why = f": {verdict.feedback}" if verdict.status == "invalid" else ""
                    problems.append(at(place, f"{where}this mistake is judged {verdict.status}, not wrong{why}"))
                elif verdict.feedback != mistake.feedback and not k:
                    message = f"this feedback is never shown: the answer gets {verdict.feedback!r} instead"
                    problems.append(at(place, message, "warning"))
        session.advance()
    return problems


def _variant_words(session: LessonSession) -> str:
    values = ", ".join(f"{n} = {format_value(v)}" for n, v in session.comp.inputs.items())
    return f"variant {session.variant} ({values}): "


def _model_answer_problem(session: LessonSession, answer: str, verdict) -> str:
    """`model answer 3*x gives 6 at x = 2; torch says 12`, or why it cannot be read."""
    if verdict.status == "invalid":
        return f"the model answer is judged invalid: {verdict.feedback}"
    question = session.question()
    truth = format_value(question.expected)
    if not isinstance(question, MathQuestion):
        return f"the model answer is judged wrong: {verdict.feedback}; torch says {truth}"
    try:
        value = format_value(evaluate(question.parse(answer), question.env(question.points[0])))
    except (ParseError, EvalError):
        return f"the model answer is judged wrong: {verdict.feedback}; torch says {truth}"
    inputs = ", ".join(f"{n} = {format_value(v)}" for n, v in session.comp.inputs.items())
    head = f"the model answer is judged wrong: {answer} gives {value} at {inputs}"
    if value == truth or verdict.diagnosis == "coincidence":
        return f"{head}, but not at other values: {verdict.feedback}"
    return f"{head}; torch says {truth}"


def _run_tests(lesson: Lesson) -> list[Problem]:
    """The lesson's own tests: each answer judged as it says, at its step."""
    problems = []
    for j, test in enumerate(lesson.spec.tests):
        session = LessonSession(lesson, variant=0)
        while session.index < test.step and session.advance():
            pass
        verdict = session.question().grade(test.answer, session.given())
        got = f"{verdict.status}" + (f" ({verdict.diagnosis})" if verdict.diagnosis else "")
        if verdict.status != test.expect:
            message = f"test: {test.answer!r} at step {test.step} is judged {got}, not {test.expect}"
        elif test.diagnosis is not None and verdict.diagnosis != test.diagnosis:
            message = (
                f"test: {test.answer!r} at step {test.step} gets diagnosis {verdict.diagnosis}, not {test.diagnosis}"
            )
        else:
            continue
        if verdict.feedback:
            message += f": {verdict.feedback}"
        problems.append(lesson.source.at(("tests", j), message))
    return problems
