"""SVG snapshots of the main screens at 80x24 (pytest-textual-snapshot).

Update them after an intended change with `pytest tests/ui --snapshot-update`
and look at the report before committing."""

from __future__ import annotations

from autograd_tutor.lesson.loader import BUNDLED

from .pilot import make_app, type_text, wait_until


def quiet_app(data_dir, **kwargs):
    app = make_app(data_dir, **kwargs)
    app.animation_level = "none"
    return app


async def ready(pilot) -> None:
    await wait_until(pilot, lambda: pilot.app.engines_ready)


def test_catalogue_of_the_bundled_course(snap_compare, data_dir):
    assert snap_compare(quiet_app(data_dir, paths=(BUNDLED,)), terminal_size=(80, 24), run_before=ready)


def test_lesson_mid_backward_pass(snap_compare, data_dir):
    async def mid_backward(pilot):
        await ready(pilot)
        for answer in ("16", "sin(16)", "cos(y)"):  # each right answer moves on
            await type_text(pilot, answer)
            await pilot.press("enter")
        await type_text(pilot, "2*x")
        await pilot.pause()

    app = quiet_app(data_dir, open_lesson="chain-rule-sin-square")
    assert snap_compare(app, terminal_size=(80, 24), run_before=mid_backward)


def test_summary(snap_compare, data_dir):
    async def finish(pilot):
        await ready(pilot)
        for answer in ("16", "sin(16)", "-cos(y)"):  # each right answer moves on
            await type_text(pilot, answer)
            await pilot.press("enter")
        await pilot.press("ctrl+r", "enter")  # -cos(y) was wrong: reveal, then on
        for answer in ("2*x", "2*x*cos(x**2)"):
            await type_text(pilot, answer)
            await pilot.press("enter")
        await pilot.pause()

    app = quiet_app(data_dir, open_lesson="chain-rule-sin-square")
    assert snap_compare(app, terminal_size=(80, 24), run_before=finish)
