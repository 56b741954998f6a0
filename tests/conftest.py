"""Shared helpers of the engine tests: fixture lessons, lessons from text, the CLI."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from functools import cache
from pathlib import Path

import pytest

from autograd_tutor.lesson.loader import Lesson, load, loads
from autograd_tutor.session import LessonSession

TESTS = Path(__file__).parent
LESSONS = TESTS / "lessons"  # the fixtures of format 1 (the UI tests' catalogue)
TENSORS = TESTS / "tensors"  # the fixtures of format 1.1: matrices, backprop, grad_output, variants
BROKEN = TESTS / "broken"
COMMAND = Path(sys.executable).parent / "autograd-tutor"


@cache
def load_fixture(name: str) -> Lesson:
    """A fixture lesson of tests/lessons or tests/tensors by file stem (`chain`, `linear-layer`, ...).

    Lessons are immutable, so one load is shared; sessions are not: make a new one."""
    file = LESSONS / f"{name}.yaml"
    return load(file if file.exists() else TENSORS / f"{name}.yaml")


def lesson_text(text: str, file: str = "<lesson>") -> Lesson:
    """A lesson from (indented) YAML text."""
    return loads(textwrap.dedent(text).lstrip("\n"), file)


def session(name_or_lesson: str | Lesson) -> LessonSession:
    lesson = load_fixture(name_or_lesson) if isinstance(name_or_lesson, str) else name_or_lesson
    return LessonSession(lesson)


def question(sess: LessonSession, kind: str, target: object):
    """The question of the (first) step of `kind` about `target` (as in `steps --json`)."""
    for step in sess.steps:
        if step.kind == kind and step.target_json() == target:
            return sess.question(step.index)
    raise KeyError((kind, target))


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """The installed `autograd-tutor` command, as a real subprocess."""
    return subprocess.run(
        [str(COMMAND), *map(str, args)], capture_output=True, text=True, timeout=120, cwd=cwd, check=False
    )


@pytest.fixture(scope="session")
def lessons_dir() -> Path:
    return LESSONS


@pytest.fixture
def cli():
    return run_cli
