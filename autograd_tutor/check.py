"""`check`: play a lesson headlessly, one given answer per step, through the
same `LessonSession` the app uses."""

from __future__ import annotations

from pathlib import Path

from .lesson.loader import Lesson
from .lesson.model import answer_text
from .lesson.source import SourceError, read_file
from .session import LessonSession


def read_answers(path: str | Path, steps: int) -> list[str | None]:
    """The answers file: a YAML list with one entry per step, read with the same
    bounds as a lesson. Raises SourceError with the problem and its place."""
    source = read_file(path)
    data = source.data
    if not isinstance(data, list):
        raise SourceError(source.at((), "expected a YAML list with one answer per step"))
    if len(data) != steps:
        message = f"{len(data)} answers for a lesson of {steps} steps (one entry per step, null to skip)"
        raise SourceError(source.at((), message))
    answers = []
    for i, entry in enumerate(data):
        try:
            answers.append(None if entry is None else answer_text(entry))
        except ValueError:
            raise SourceError(source.at((i,), f"answer {i}: expected text, a number or a list")) from None
    return answers


def play(lesson: Lesson, answers: list[str | None], variant: int = 0) -> dict:
    session = LessonSession(lesson, variant=variant)
    rows = []
    for step, answer in zip(lesson.steps, answers):
        feedback, diagnosis = "", None
        if not step.takes_answer:
            verdict = "shown"
            if step.kind == "run":
                feedback = _printed(session)
        elif answer is None:
            verdict = "skipped"
        else:
            result = session.submit(answer)
            verdict, feedback, diagnosis = result.status, result.feedback, result.diagnosis
            if step.kind == "run" and not feedback:
                feedback = _printed(session)
            if not result.correct:
                session.reveal(derivative=False)  # the symbolic form is for the screen only
        rows.append(
            {
                "index": step.index,
                "kind": step.kind,
                "target": step.target_json(),
                "answer": answer if step.takes_answer else None,
                "verdict": verdict,
                "expected": session.expected(),
                "feedback": feedback,
                "diagnosis": diagnosis,
            }
        )
        session.advance()
    correct = sum(r["verdict"] == "correct" for r in rows)
    total = sum(s.takes_answer for s in lesson.steps)
    return {"lesson": lesson.id, "variant": session.variant, "correct": correct, "total": total, "steps": rows}


def _printed(session: LessonSession) -> str:
    """What a run step printed (hooks' output), then torch's error if it raised."""
    lines = [line for r in session.run_result().results for line in (*r.output, r.error) if line]
    return "\n".join(lines)
