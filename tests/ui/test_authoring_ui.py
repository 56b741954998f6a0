"""What an author and a learner see of lessons with errors: preview keeps the step
itself across a save and shows what `validate` would report; the catalogue and
`--plain` list every lesson with an error as broken, with its first problem."""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path

from textual.css.query import NoMatches
from textual.widgets import DataTable, Static

from autograd_tutor.lesson.loader import library
from autograd_tutor.plain import PlainTutor
from autograd_tutor.progress import ProgressStore
from autograd_tutor.ui.preview import PreviewApp
from autograd_tutor.ui.screens.catalogue import CatalogueScreen
from autograd_tutor.ui.screens.lesson import LessonScreen
from autograd_tutor.ui.screens.problems import ProblemsScreen

from .pilot import FIXTURES, make_app, play, type_text, wait_until

BROKEN = Path(__file__).parent.parent / "broken"

STEPS = """\
format: 1
id: steps
title: Written steps
inputs:
  x: {value: 2.0, requires_grad: true}
nodes:
  y: x**2
  z: 3*y
steps:
  - forward: y
    answer: "4"
  - forward: z
    answer: "12"
  - local: [z, y]
    answer: "3"
  - gradient: x
    answer: 6*x
"""


def text(app, selector: str) -> str:
    try:
        return str(app.screen.query_one(selector, Static).render())
    except NoMatches:
        return ""


async def save_until(pilot, path: Path, content: str, condition) -> None:
    """Save until the app shows `condition` (the watcher may start after the first save)."""
    for _ in range(20):
        path.write_text(content)
        for _ in range(25):
            if condition():
                return
            await pilot.pause(0.04)
    raise AssertionError("the preview never followed the save")


def test_preview_keeps_the_step_itself_when_a_step_is_inserted_above(tmp_path):
    lesson = tmp_path / "steps.yaml"
    lesson.write_text(STEPS)
    app = PreviewApp(lesson, ProgressStore(tmp_path / "data"))

    async def main() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_until(pilot, lambda: isinstance(app.screen, LessonScreen) and app.engines_ready)
            await type_text(pilot, "4")
            await pilot.press("enter")
            await wait_until(pilot, lambda: "Step 2 of 4" in text(app, "#step-title"))
            inserted = STEPS.replace("steps:\n", "steps:\n  - explain: First, a word about squares.\n")
            await save_until(pilot, lesson, inserted, lambda: "of 5" in text(app, "#step-title"))
            assert "Step 3 of 5" in text(app, "#step-title")  # forward z, one further down
            step = app.screen.session.step
            assert (step.kind, step.target) == ("forward", "z")

    asyncio.run(main())


def test_preview_shows_what_validate_reports_and_plays_on_with_escape(tmp_path):
    lesson = tmp_path / "steps.yaml"
    lesson.write_text(STEPS)
    app = PreviewApp(lesson, ProgressStore(tmp_path / "data"))

    async def main() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_until(pilot, lambda: isinstance(app.screen, LessonScreen) and app.engines_ready)
            assert not isinstance(app.screen, ProblemsScreen)
            wrong = STEPS.replace("z: 3*y", "z: 5*y")  # the model answers 12, 3 and 6*x are now wrong
            await save_until(
                pilot, lesson, wrong, lambda: isinstance(app.screen, ProblemsScreen) and text(app, "#problem-list")
            )  # (the screen may be up a moment before its list is drawn)
            shown = text(app, "#problem-list")
            assert (
                f"{lesson}:13:13: error: the model answer is judged wrong: 12 gives 12 at x = 2; torch says 20" in shown
            )
            assert (
                f"{lesson}:17:13: error: the model answer is judged wrong: 6*x gives 12 at x = 2; torch says 20"
                in shown
            )
            await pilot.press("escape")
            assert isinstance(app.screen, LessonScreen)
            await save_until(pilot, lesson, STEPS, lambda: app.lessons and app.lessons[0].spec.nodes["z"] == "3*y")
            await pilot.pause(0.5)
            assert isinstance(app.screen, LessonScreen)  # a clean save: nothing over the lesson

    asyncio.run(main())


def course_with_broken_lessons(tmp_path: Path) -> Path:
    course = tmp_path / "course"
    course.mkdir()
    shutil.copy(FIXTURES / "chain.yaml", course / "01-chain.yaml")
    shutil.copy(BROKEN / "answer-wrong.yaml", course / "02-answer-wrong.yaml")  # loads; validate rejects it
    shutil.copy(BROKEN / "unknown-name.yaml", course / "03-unknown-name.yaml")  # does not load
    os.mkfifo(course / "04-pipe.yaml")  # not a file to read at all
    return course


def test_catalogue_lists_lessons_with_errors_as_broken(data_dir, tmp_path):
    app = make_app(data_dir, paths=(course_with_broken_lessons(tmp_path),))

    async def scenario(pilot):
        assert isinstance(app.screen, CatalogueScreen)
        table = app.screen.query_one(DataTable)
        await wait_until(pilot, lambda: "answer-wrong" in app.broken)
        rows = [table.get_row_at(i) for i in range(table.row_count)]
        assert [(str(r[1]), str(r[3])) for r in rows] == [  # cells are Text: never read as markup
            ("Chain rule through sin(x²)", "not started"),
            ("A model answer that is wrong", "broken"),
            ("03-unknown-name.yaml", "broken"),
            ("04-pipe.yaml", "broken"),
        ]
        await pilot.press("down")
        assert "02-answer-wrong.yaml:11:13: the model answer is judged wrong" in text(app, "#details")
        await pilot.press("enter")
        await pilot.pause(0.1)
        assert isinstance(app.screen, CatalogueScreen)  # a broken lesson does not open
        await pilot.press("down")
        assert "03-unknown-name.yaml:9:15: unknown name 'q'" in text(app, "#details")
        await pilot.press("down")
        assert "Broken at 04-pipe.yaml: not a regular file" in text(app, "#details")
        await pilot.press("up")
        await pilot.press("enter")
        await pilot.pause(0.1)
        assert isinstance(app.screen, CatalogueScreen)
        await pilot.press("up", "up", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, LessonScreen))

    play(app, scenario)


def test_plain_lists_broken_lessons_and_the_files_it_skipped(data_dir, tmp_path):
    lessons, problems = library([course_with_broken_lessons(tmp_path)])
    typed = iter(["2", "q"])
    out: list[str] = []
    PlainTutor(lessons, ProgressStore(data_dir), lambda prompt: next(typed), out.append, problems).run()
    course = tmp_path / "course"
    assert out[:11] == [
        "Checking the lessons…",
        "Course: 0/2 lessons done",
        "Lessons:",
        "   1. Chain rule through sin(x²) (not started)",
        "   2. A model answer that is wrong (broken)",
        "Broken (autograd-tutor validate lists every problem):",
        f"  {course}/02-answer-wrong.yaml:11:13: error: the model answer is judged wrong:"
        " x**2/2 gives 2 at x = 2; torch says 4",
        "Skipped 2 files that do not load:",
        f"  {course}/03-unknown-name.yaml:9:15: error: unknown name 'q' (names here: x, y)",
        f"  {course}/04-pipe.yaml: error: not a regular file (a device, a pipe or a socket): give a .yaml file",
        f"Lesson 2 is broken: {course}/02-answer-wrong.yaml:11:13: error: the model answer is judged wrong:"
        " x**2/2 gives 2 at x = 2; torch says 4",
    ]
