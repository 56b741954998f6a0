"""Helpers for tests that drive the real app (Pilot), a real terminal (tmux) or a pty."""

from __future__ import annotations

import asyncio
from pathlib import Path

from textual.widgets import Static

from autograd_tutor.lesson.files import BUNDLED
from autograd_tutor.lesson.loader import library
from autograd_tutor.progress import ProgressStore
from autograd_tutor.ui.app import TutorApp
from autograd_tutor.ui.screens.intro import IntroScreen
from autograd_tutor.ui.screens.lesson import LessonScreen

FIXTURES = Path(__file__).parent.parent / "lessons"
UI_LESSONS = Path(__file__).parent / "lessons"
COURSE = BUNDLED


def make_app(
    data_dir: Path, paths=(FIXTURES,), open_lesson: str | None = None, authored: bool = True, **kwargs
) -> TutorApp:
    """The app on `paths`; `authored`: lessons with variants are played with their
    authored numbers, which the tests' answers are written for."""
    lessons, problems = library(list(paths))
    store = ProgressStore(data_dir, "tester")
    store.authored = authored
    app = TutorApp(lessons, problems, store, open_lesson=open_lesson, **kwargs)
    app.animation_level = "none"
    return app


async def wait_until(pilot, condition, tries: int = 400) -> None:
    """Let the app run until `condition()` holds (bounded)."""
    for _ in range(tries):
        if condition():
            return
        await pilot.pause(0.02)
    raise AssertionError("the app never reached the expected state")


async def type_text(pilot, text: str) -> None:
    for ch in text:
        await pilot.press({" ": "space"}.get(ch, ch))


async def answer(pilot, text: str) -> None:
    await type_text(pilot, text)
    await pilot.press("enter")


async def open_lesson(pilot, title: str) -> LessonScreen:
    """Filter the catalogue by `title`, open the lesson, and read past its intro page."""
    await type_text(pilot, title)
    await pilot.press("enter")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, LessonScreen | IntroScreen))
    await past_intro(pilot)
    return pilot.app.screen


async def past_intro(pilot) -> None:
    await pilot.pause()
    if isinstance(pilot.app.screen, IntroScreen):
        await pilot.press("enter")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, LessonScreen))


def text_of(app, selector: str) -> str:
    """What a widget of the current screen shows, as plain text."""
    widget = app.screen.query_one(selector)
    if isinstance(widget, Static):
        return str(widget.render())
    return widget.source  # a Markdown widget: its text


def graph_text(app) -> str:
    return str(app.screen.query_one("#graph").render())


def play(app: TutorApp, scenario, size=(80, 24), ready: bool = True) -> None:
    """Run `scenario(pilot)` against `app` (once torch is loaded, unless `ready` is False)."""

    async def main() -> None:
        async with app.run_test(size=size) as pilot:
            if ready:
                await wait_until(pilot, lambda: app.engines_ready)
            await scenario(pilot)

    asyncio.run(main())
