"""Helpers for tests that drive the real app (Pilot), a real terminal (tmux) or a pty."""

from __future__ import annotations

import asyncio
from pathlib import Path

from autograd_tutor.lesson.loader import library
from autograd_tutor.progress import ProgressStore
from autograd_tutor.ui.app import TutorApp

FIXTURES = Path(__file__).parent.parent / "lessons"


def make_app(data_dir: Path, paths=(FIXTURES,), open_lesson: str | None = None) -> TutorApp:
    lessons, problems = library(list(paths))
    store = ProgressStore(data_dir, "tester")
    return TutorApp(lessons, problems, store, open_lesson=open_lesson)


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


def play(app: TutorApp, scenario) -> None:
    """Run `scenario(pilot)` against `app` at 80x24."""

    async def main() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_until(pilot, lambda: app.engines_ready)
            await scenario(pilot)

    asyncio.run(main())
