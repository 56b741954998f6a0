"""`TutorApp(lab=True)`: in a lab session the app offers nothing that reaches the server's
files or programs: the palette has the tutor's commands plus Theme, Quit and Keys; a
screenshot (even asked for by its action) writes nothing; a link opens no browser."""

from __future__ import annotations

import asyncio

from textual.app import App
from textual.command import CommandList, CommandPalette

from autograd_tutor.lesson.loader import library
from autograd_tutor.progress import ProgressStore
from autograd_tutor.ui.app import TutorApp

from .conftest import CHAIN

TEXTUAL_OWN = {"Theme", "Quit", "Keys", "Screenshot", "Maximize", "Minimize"}


def make(tmp_path, lab: bool) -> TutorApp:
    lessons, problems = library([CHAIN])
    return TutorApp(lessons, problems, ProgressStore.for_student(tmp_path, "alice"), lab=lab)


def palette_titles(app: TutorApp, pilot) -> set[str]:
    async def collect() -> set[str]:
        await pilot.press("ctrl+p")
        for _ in range(100):
            if isinstance(app.screen, CommandPalette) and app.screen.query_one(CommandList).option_count:
                break
            await pilot.pause(0.02)
        await pilot.pause(0.2)
        options = app.screen.query_one(CommandList)
        prompts = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        await pilot.press("escape")
        return {p.splitlines()[0].strip() for p in prompts}

    return collect()


def test_a_lab_session_offers_the_tutors_commands_and_theme_quit_keys_only(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = make(tmp_path, lab=True)
    delivered, browsed = [], []
    monkeypatch.setattr(App, "deliver_text", lambda self, *a, **k: delivered.append(a))
    monkeypatch.setattr("webbrowser.open", lambda *a, **k: browsed.append(a))

    async def main() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            titles = await palette_titles(app, pilot)
            assert {"Theme", "Quit", "Keys", "Open lesson", "Continue", "Restart lesson"} <= titles
            assert titles & TEXTUAL_OWN == {"Theme", "Quit", "Keys"}
            app.action_screenshot()  # as a [@click=app.screenshot] in some text would
            app.action_screenshot("x.svg", str(tmp_path))
            app.open_url("https://pytorch.org/docs/stable/autograd.html")
            await pilot.pause(0.2)
            notes = [str(n.message) for n in app._notifications]
            assert any("not available in a lab session" in n for n in notes)
            assert any("on your own computer" in n for n in notes)

    asyncio.run(main())
    assert delivered == [] and browsed == []
    assert not list(tmp_path.rglob("*.svg"))


def test_the_desktop_app_keeps_textuals_commands(tmp_path):
    app = make(tmp_path, lab=False)

    async def main() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            titles = await palette_titles(app, pilot)
            assert {"Screenshot", "Theme", "Quit", "Keys", "Open lesson"} <= titles

    asyncio.run(main())
