"""Teaching text that shows, and the course flowing from lesson to lesson (Pilot)."""

from __future__ import annotations

import nbformat
import pytest
from textual.widgets import DataTable, Input

from autograd_tutor.lesson.loader import library
from autograd_tutor.progress import ProgressStore
from autograd_tutor.session import LessonSession
from autograd_tutor.ui.screens.catalogue import CatalogueScreen
from autograd_tutor.ui.screens.intro import IntroScreen
from autograd_tutor.ui.screens.lesson import LessonScreen
from autograd_tutor.ui.screens.summary import SummaryScreen

from .pilot import (
    COURSE,
    FIXTURES,
    UI_LESSONS,
    answer,
    make_app,
    open_lesson,
    past_intro,
    play,
    text_of,
    type_text,
    wait_until,
)


def test_the_intro_is_the_first_page_and_reopens_with_a_key(data_dir):
    app = make_app(data_dir, paths=(UI_LESSONS,))

    async def scenario(pilot):
        await type_text(pilot, "three")
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, IntroScreen))
        intro = text_of(app, "#intro")
        assert "# Three hints" in intro and "A **short** first page" in intro
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, LessonScreen))
        await answer(pilot, "9")
        await pilot.press("ctrl+o")
        await wait_until(pilot, lambda: isinstance(app.screen, IntroScreen))
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, LessonScreen))
        assert "Step 2 of 2" in text_of(app, "#step-title")  # back where the learner was

    play(app, scenario)


def test_hints_count_and_old_feedback_is_cleared_while_editing(data_dir):
    app = make_app(data_dir, paths=(UI_LESSONS,))

    async def scenario(pilot):
        await open_lesson(pilot, "three")
        await pilot.press("ctrl+t")
        assert "Hint 1 of 3: Square it." in text_of(app, "#feedback")
        await answer(pilot, "6")
        assert "✗" in text_of(app, "#feedback")
        await pilot.press("backspace")
        feedback = text_of(app, "#feedback")
        assert "✗" not in feedback and "Hint 1 of 3: Square it." in feedback  # the verdict went, the hint stays
        await type_text(pilot, "9")
        assert "matches torch" in text_of(app, "#status")

    play(app, scenario)


def test_a_run_step_explains_itself_on_arrival(data_dir):
    app = make_app(data_dir, paths=(COURSE,))

    async def scenario(pilot):
        screen = await open_lesson(pilot, "derivative of x")
        while screen.session.step.kind != "run":
            screen.action_reveal()
            await pilot.press("enter")
            await pilot.pause()
        assert "computed dy/dx and put it in" in text_of(app, "#explain")
        assert ">>> y.backward()" in text_of(app, "#feedback")

    play(app, scenario)


def test_text_typed_on_a_finished_step_is_kept_for_the_next(data_dir):
    app = make_app(data_dir, paths=(COURSE,))

    async def scenario(pilot):
        screen = await open_lesson(pilot, "accumulate")
        await pilot.press("enter")  # the first run step
        await answer(pilot, "6")
        await answer(pilot, "ok")  # right, with an explanation: the step stays
        assert "Step 3 of 16" in text_of(app, "#step-title") and not screen.session.is_open
        await type_text(pilot, "12")  # typed ahead, for the next question
        await pilot.press("enter")
        assert "Step 4 of 16" in text_of(app, "#step-title")
        assert screen.query_one("#answer", Input).value == "12"
        assert "matches torch" in text_of(app, "#status")
        await pilot.press("enter")
        assert screen.session.records[3].status == "solved"

    play(app, scenario)


def test_a_mean_is_shown_as_a_mean(data_dir):
    app = make_app(data_dir, paths=(COURSE,))

    async def scenario(pilot):
        await open_lesson(pilot, "gradient of a mean")
        await answer(pilot, "[1, 4, 9]")
        assert "What is `y = mean(s)`?" in text_of(app, "#prompt")
        assert "y = mean(s)" in text_of(app, "#formula")
        assert "y = mean(s)" in text_of(app, "#graph")

    play(app, scenario)


def test_keys_typed_while_torch_loads_are_kept(data_dir):
    app = make_app(data_dir, open_lesson="chain-rule-sin-square")
    app.start_warm_up = lambda: None  # hold torch back until the keys are in

    async def scenario(pilot):
        await pilot.pause()
        assert not app.engines_ready
        await type_text(pilot, "16")
        await pilot.press("enter")
        assert "Noted: 16 (taken as soon as torch is ready)" in text_of(app, "#status")
        type(app).start_warm_up(app)
        await wait_until(pilot, lambda: app.engines_ready)
        await pilot.pause()
        assert "Step 2 of 5" in text_of(app, "#step-title")
        assert "✓ 16 was right" in text_of(app, "#status")
        await type_text(pilot, "sin(")  # typed while loading, without Enter: judged live once loaded
        assert "✗" in text_of(app, "#status")

    play(app, scenario, ready=False)


def _finish(lesson, store: ProgressStore) -> None:
    session = LessonSession(lesson)
    while True:
        if session.is_open:
            session.reveal(derivative=False)
        if not session.advance():
            break
    store.save(session)


def test_course_progress_next_lesson_and_the_cursor_on_the_lesson_in_progress(data_dir):
    lessons, _ = library([COURSE])
    store = ProgressStore(data_dir, "tester")
    for lesson in lessons[:7]:
        _finish(lesson, store)
    store.close()
    app = make_app(data_dir, paths=(COURSE,))

    async def scenario(pilot):
        table = app.screen.query_one(DataTable)
        assert f"Course: 7/{len(lessons)} lessons done" in text_of(app, "#course")
        assert app.screen.selected == lessons[6].id  # the last lesson opened
        await type_text(pilot, "mean")
        await pilot.press("enter")
        screen = await _in_lesson(pilot)
        while True:  # lesson 8, through to its summary
            if screen.session.is_open:
                screen.action_reveal()
            await pilot.press("enter")
            await pilot.pause()
            if isinstance(app.screen, SummaryScreen):
                break
        summary = text_of(app, "#summary")
        assert f"Course: 8/{len(lessons)} lessons done" in summary
        assert "Score 0/9: 0 at the first try · 9 revealed" in summary
        await pilot.press("enter")  # the next lesson
        screen = await _in_lesson(pilot)
        assert screen.lesson.id == lessons[8].id
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, CatalogueScreen))
        assert app.screen.query_one(Input).value == ""  # the filter is cleared on return
        assert table.row_count == len(lessons)
        assert app.screen.selected == lessons[8].id  # the cursor on the lesson in progress

    play(app, scenario)


async def _in_lesson(pilot) -> LessonScreen:
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, LessonScreen | IntroScreen))
    await past_intro(pilot)
    return pilot.app.screen


def test_no_key_means_one_thing_in_one_screen_and_another_elsewhere():
    """A key that reveals, or forgets progress, does that on every screen and nothing else."""
    weighty = {"reveal": "reveal", "restart": "start over", "reset": "start over", "reset_all": "forget all"}
    keys: dict[str, set[str]] = {}
    for screen in (CatalogueScreen, LessonScreen, SummaryScreen, IntroScreen):
        for binding in screen.BINDINGS:
            action = binding.action.split("(")[0]
            for key in binding.key.split(","):
                keys.setdefault(key, set()).add(weighty.get(action, f"{screen.__name__}.{action}"))
    for key, meanings in keys.items():
        if meanings & set(weighty.values()):
            assert len(meanings) == 1, f"{key} means {meanings}"
    assert keys["ctrl+r"] == {"reveal"} and keys["ctrl+g"] == {"start over"}


def test_sixty_by_twenty_plays_a_lesson_to_its_summary(data_dir):
    app = make_app(data_dir, paths=(FIXTURES,))

    async def scenario(pilot):
        table = app.screen.query_one(DataTable)
        assert table.virtual_size.width <= table.size.width  # the columns fit: no sideways scrolling
        await open_lesson(pilot, "sin")
        keys = {k.key for k in app.screen.query("FooterKey")}
        assert {"ctrl+t", "ctrl+r", "ctrl+n", "escape"} <= keys
        for text in ("16", "sin(16)", "cos(y)", "2*x", "2*x*cos(x**2)"):
            await answer(pilot, text)
        await wait_until(pilot, lambda: isinstance(app.screen, SummaryScreen))
        assert "Score 5/5: 5 at the first try" in text_of(app, "#summary")

    play(app, scenario, size=(60, 20))


def test_the_footer_keeps_every_key_that_fits_and_offers_the_plot_only_where_there_is_one(data_dir):
    app = make_app(data_dir, paths=(COURSE, FIXTURES))

    def footer() -> set[str]:
        keys = list(app.screen.query("FooterKey"))
        assert all(k.region.right <= app.size.width for k in keys)  # none cut off
        return {k.key for k in keys}

    async def scenario(pilot):
        await open_lesson(pilot, "Gradients accumulate")  # a behaviour lesson: no plot
        assert {"ctrl+t", "ctrl+r", "ctrl+b", "ctrl+n", "ctrl+o", "ctrl+g", "escape"} <= footer()
        assert "ctrl+l" not in footer()
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press(*["backspace"] * 30)
        await open_lesson(pilot, "sin")  # derivative steps of scalars: the plot key
        assert "ctrl+l" in footer()
        for width, height in ((60, 20), (100, 30), (80, 24)):
            await pilot.resize_terminal(width, height)
            await pilot.pause()
            keys = footer()
            assert {"ctrl+t", "ctrl+r", "ctrl+n", "escape"} <= keys
            assert ("ctrl+g" in keys and "ctrl+l" in keys) == (width >= 100)

    play(app, scenario, size=(80, 24))


@pytest.mark.parametrize("size", [(80, 24), (60, 20)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_what_a_step_just_said_is_scrolled_into_view(data_dir, size):
    """A choose step's four options fill the pane: a wrong answer's feedback, a hint and
    the revealed answer are scrolled into view under the answer box, not left below it."""
    app = make_app(data_dir, paths=(COURSE,), open_lesson="derivative-of-x-squared")

    def in_view(selector: str) -> bool:
        pane, widget = app.screen.query_one("#step-pane"), app.screen.query_one(selector)
        return pane.region.contains_region(widget.region) and widget.region.height > 0

    async def scenario(pilot):
        await past_intro(pilot)
        screen = app.screen
        while screen.session.step.kind != "choose":
            await pilot.press("ctrl+n")
        wrong = next(str(n) for n in range(1, 5) if not screen.session.check(str(n)).correct)
        await type_text(pilot, wrong)
        await pilot.press("enter")
        await wait_until(pilot, lambda: "✗" in text_of(app, "#feedback") and in_view("#feedback"))
        assert in_view("#answer")  # the box, with the answer to correct, too
        await pilot.press("ctrl+t")
        await wait_until(pilot, lambda: "Hint 1 of" in text_of(app, "#feedback") and in_view("#feedback"))
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: "the answer:" in text_of(app, "#feedback") and in_view("#feedback"))

    play(app, scenario, size=size)


def test_two_hundred_by_fifty_shows_the_plot_beside_the_graph(data_dir):
    app = make_app(data_dir, paths=(FIXTURES,))

    async def scenario(pilot):
        screen = await open_lesson(pilot, "sin")
        for text in ("16", "sin(16)"):
            await answer(pilot, text)
        assert screen.has_class("wide")
        assert screen.query_one("#graph-pane").display and screen.query_one("#function-plot").display
        assert "z as y moves" in text_of(app, "#plot-caption")
        await pilot.press("ctrl+l")  # the key hides it
        assert not screen.query_one("#function-plot").display

    play(app, scenario, size=(200, 50))


def _burst(app, keys: str) -> None:
    """Keys as a terminal delivers them when they come together: all at once, no waiting."""
    from textual import events

    names = {"⌫": ("backspace", None), "⏎": ("enter", "\r"), "←": ("left", None), "^": ("circumflex_accent", "^")}
    for key in keys:
        app._driver.send_message(events.Key(*names.get(key, (key, key))))


def test_keys_that_come_together_keep_their_order(data_dir):
    app = make_app(data_dir, open_lesson="chain-rule-sin-square")
    app.start_warm_up = lambda: None  # as while torch loads: the keys queue up

    async def scenario(pilot):
        await pilot.pause()
        _burst(app, "15⌫⌫x2←^")
        await pilot.pause(0.3)
        assert app.screen.query_one("#answer", Input).value == "x^2"
        type(app).start_warm_up(app)
        await wait_until(pilot, lambda: app.engines_ready)
        await pilot.pause()
        _burst(app, "⏎sin(y⌫16)⏎")
        await wait_until(pilot, lambda: "Step 3 of 5" in text_of(app, "#step-title"))
        assert [r.answer for r in app.screen.session.records[:2]] == ["x^2", "sin(16)"]

    play(app, scenario, ready=False)


def test_enter_on_a_step_without_a_question_while_torch_loads_goes_on_once_it_is(data_dir):
    app = make_app(data_dir, paths=(COURSE,), open_lesson="gradients-accumulate")
    app.start_warm_up = lambda: None

    async def scenario(pilot):
        await pilot.pause()
        await past_intro(pilot)
        _burst(app, "⏎6⏎o")  # past the run step, 6 for x.grad, then "o" of the next answer
        await pilot.pause(0.3)
        assert not app.engines_ready and "Step 1 of 16" in text_of(app, "#step-title")
        type(app).start_warm_up(app)
        await wait_until(pilot, lambda: app.engines_ready)
        await pilot.pause()
        assert "Step 3 of 16" in text_of(app, "#step-title")
        assert app.screen.session.records[1].status == "solved"
        assert app.screen.query_one("#answer", Input).value == "o"

    play(app, scenario, ready=False)


@pytest.mark.parametrize("size", [(80, 24), (60, 20)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_the_summary_saves_the_lesson_as_a_script_and_a_notebook(data_dir, tmp_path, monkeypatch, size):
    monkeypatch.chdir(tmp_path)
    app = make_app(data_dir, paths=(UI_LESSONS,))

    async def scenario(pilot):
        await open_lesson(pilot, "three")
        await answer(pilot, "9")
        await answer(pilot, "2*x")
        await wait_until(pilot, lambda: isinstance(app.screen, SummaryScreen))
        summary = text_of(app, "#summary")
        assert "## What you learned" in summary and "The power rule" in summary
        await pilot.press("s")
        assert f"Saved to {tmp_path / 'three-hints.py'}" in text_of(app, "#saved")
        await pilot.press("j")
        assert f"Saved to {tmp_path / 'three-hints.ipynb'}" in text_of(app, "#saved")
        assert "print(x.grad)  # 6" in (tmp_path / "three-hints.py").read_text()
        assert nbformat.read(tmp_path / "three-hints.ipynb", as_version=4).cells[0].cell_type == "markdown"

    play(app, scenario, size=size)


def test_a_lab_session_saves_no_files(data_dir, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = make_app(data_dir, paths=(UI_LESSONS,), lab=True)

    async def scenario(pilot):
        await open_lesson(pilot, "three")
        await answer(pilot, "9")
        await answer(pilot, "2*x")
        await wait_until(pilot, lambda: isinstance(app.screen, SummaryScreen))
        await pilot.press("s")
        assert "not available in a lab session" in text_of(app, "#saved")
        assert not list(tmp_path.glob("three-hints*"))

    play(app, scenario)


def test_a_filter_typed_with_its_enter_in_one_burst_opens_the_lesson_it_finds(data_dir):
    """A fast typist (or a paste) sends the filter and Enter together: Enter opens the
    lesson the typed filter selects, not the row the cursor was on before."""
    app = make_app(data_dir, paths=(COURSE,))

    async def scenario(pilot):
        await pilot.pause()
        _burst(app, "accum⏎")
        await wait_until(pilot, lambda: isinstance(app.screen, LessonScreen | IntroScreen))
        await past_intro(pilot)
        assert app.screen.lesson.id == "gradients-accumulate"

    play(app, scenario)
