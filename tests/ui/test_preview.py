"""`preview`: the lesson reloads on every save, a broken save shows its located
problems, and the next good save brings the lesson back at the same step."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

from textual.css.query import NoMatches
from textual.widgets import Static

from autograd_tutor.progress import ProgressStore
from autograd_tutor.ui.preview import PreviewApp
from autograd_tutor.ui.screens.lesson import LessonScreen
from autograd_tutor.ui.screens.problems import ProblemsScreen

from .pilot import FIXTURES, type_text, wait_until


async def save_until(pilot, path: Path, text: str, condition) -> None:
    """Save `text` until the app shows `condition` (the watcher may not be
    watching yet when the first save lands, as with an author saving early)."""
    for _ in range(20):
        path.write_text(text)
        for _ in range(25):
            if condition():
                return
            await pilot.pause(0.04)
    raise AssertionError("the preview never followed the save")


def test_preview_follows_saves(tmp_path):
    lesson = tmp_path / "chain.yaml"
    shutil.copy(FIXTURES / "chain.yaml", lesson)
    app = PreviewApp(lesson, ProgressStore(tmp_path / "data"))

    def shown(selector: str) -> str:
        """The text of a widget on the current screen ("" while it is composing)."""
        try:
            return str(app.screen.query_one(selector, Static).render())
        except NoMatches:
            return ""

    async def main() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_until(pilot, lambda: isinstance(app.screen, LessonScreen) and app.engines_ready)
            await type_text(pilot, "16")
            await pilot.press("enter")
            assert "Step 2 of 5" in shown("#step-title")
            assert "sin(y)" in shown("#formula")

            text = lesson.read_text().replace("z: sin(y)", "z: cos(y)")
            await save_until(pilot, lesson, text, lambda: "cos(y)" in shown("#formula"))
            assert "Step 2 of 5" in shown("#step-title")  # the same step, in the new lesson

            text = text.replace("z: cos(y)", "z: cos(q)")
            await save_until(pilot, lesson, text, lambda: "unknown name" in shown("#problem-list"))
            assert isinstance(app.screen, ProblemsScreen)
            assert f"{lesson}:8:10: error: unknown name 'q'" in shown("#problem-list")

            text = text.replace("z: cos(q)", "z: tanh(y)")
            await save_until(pilot, lesson, text, lambda: isinstance(app.screen, LessonScreen))
            await wait_until(pilot, lambda: "tanh(y)" in shown("#formula"))
            assert "Step 2 of 5" in shown("#step-title")
            await type_text(pilot, "tanh(16)")
            await pilot.press("enter")
            assert "✓ tanh(16) was right" in shown("#status")

    asyncio.run(main())


def test_preview_of_a_broken_lesson_starts_on_its_problems(tmp_path):
    lesson = tmp_path / "broken.yaml"
    lesson.write_text("format: 1\nid: broken\ntitle: Broken\ninputs: {x: 1.0}\nnodes: {y: x +}\n")
    app = PreviewApp(lesson, ProgressStore(tmp_path / "data"), poll=True)

    async def main() -> None:
        async with app.run_test(size=(80, 24)) as pilot:

            def problems() -> str:
                try:
                    return str(app.screen.query_one("#problem-list", Static).render())
                except NoMatches:
                    return ""

            await wait_until(pilot, lambda: "incomplete" in problems())
            assert isinstance(app.screen, ProblemsScreen)
            assert f"{lesson}:5:14: error: incomplete" in problems()
            text = lesson.read_text().replace("x +}", "x + 1}")
            await save_until(pilot, lesson, text, lambda: isinstance(app.screen, LessonScreen))

    asyncio.run(main())
