"""A choose step and a hook's output in the app, played by key presses."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Static

from autograd_tutor.ui.screens.lesson import LessonScreen

from .pilot import make_app, play, type_text, wait_until

LESSONS = Path(__file__).parent / "choose"


def screen_text(app) -> str:
    return "\n".join(str(w.render()) for w in app.screen.query(Static))


def test_a_choose_step_shows_its_options_and_each_options_feedback(data_dir):
    app = make_app(data_dir, paths=(LESSONS,), open_lesson="why-twelve")

    async def scenario(pilot):
        await wait_until(pilot, lambda: isinstance(app.screen, LessonScreen))
        assert "grad of x: tensor(6.)" in screen_text(app)  # the hook printed during the second backward()
        await pilot.press("enter")
        session = app.screen.session
        assert session.step.kind == "choose"
        assert "2. x changed between the calls" in session.prompt
        await type_text(pilot, "b")
        await pilot.press("enter")
        assert "x is still 3: nothing assigned to it." in screen_text(app)
        assert session.record.attempts == 1
        app.screen.query_one("#answer").value = ""
        await type_text(pilot, "7")
        assert "Answer with the number (1 to 2) or the letter (a to b)" in screen_text(app)
        app.screen.query_one("#answer").value = ""
        await type_text(pilot, "A")
        await pilot.press("enter")
        assert session.record.status == "solved"
        assert "Yes: += into .grad." in screen_text(app)

    play(app, scenario)
