"""Pilot tests: whole lessons played by key presses, as a learner would."""

from __future__ import annotations

from textual.widgets import DataTable, Input

from autograd_tutor.ui.screens.catalogue import CatalogueScreen
from autograd_tutor.ui.screens.lesson import LessonScreen
from autograd_tutor.ui.screens.summary import SummaryScreen

from .pilot import FIXTURES, answer, graph_text, make_app, open_lesson, play, text_of, type_text, wait_until


def test_chain_rule_lesson_right_and_wrong_answers_hint_reveal_back(data_dir):
    app = make_app(data_dir)

    async def scenario(pilot):
        screen = await open_lesson(pilot, "sin")
        assert "Step 1 of 5" in text_of(app, "#step-title")
        await answer(pilot, "15")
        assert "✗" in text_of(app, "#feedback")
        assert screen.session.record.attempts == 1
        screen.query_one("#answer", Input).value = ""
        await type_text(pilot, "2 x")  # does not parse: invalid, not counted
        assert "missing operator" in text_of(app, "#status")
        await pilot.press("enter")
        assert screen.session.record.attempts == 1
        screen.query_one("#answer", Input).value = ""
        await type_text(pilot, "x**2")
        assert "read as: x²" in text_of(app, "#status") and "matches torch" in text_of(app, "#status")
        await pilot.press("enter")  # right: the graph fills and the lesson moves on
        assert "Step 2 of 5" in text_of(app, "#step-title")
        assert "✓ x**2 was right" in text_of(app, "#status")
        assert "data 16" in graph_text(app)
        await answer(pilot, "sin(16)")
        await answer(pilot, "cos(y)")
        assert "Step 4 of 5" in text_of(app, "#step-title")
        await pilot.press("ctrl+b")  # back to a solved step: it shows how it was solved
        assert "Step 3 of 5" in text_of(app, "#step-title")
        assert "✓ Correct: cos(y)" in text_of(app, "#feedback")
        await pilot.press("ctrl+n")
        await answer(pilot, "2*x")
        assert "Step 5 of 5" in text_of(app, "#step-title")
        await answer(pilot, "cos(x**2)")
        assert "inner derivative" in text_of(app, "#feedback")
        await pilot.press("ctrl+t")
        assert "Hint 1 of 2: " in text_of(app, "#feedback")
        await pilot.press("ctrl+r")
        assert "torch says: -7.6613" in text_of(app, "#feedback")
        assert "by hand dz/dx = -7.6613" in graph_text(app)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, SummaryScreen))
        summary = text_of(app, "#summary")
        assert "Score 4/5: 3 at the first try, 1 after a mistake · 1 revealed · 1 hint" in summary
        assert "missing_factor" not in summary and "(" + "authored)" not in summary  # no internal tags
        assert "inner derivative" in summary  # the mistake, in words
        assert "z.backward()" in summary and "print(x.grad)  # -7.6613" in summary

    play(app, scenario)


def test_run_and_predict_lesson(data_dir):
    app = make_app(data_dir)

    async def scenario(pilot):
        await open_lesson(pilot, "accumulate")
        assert "Run" in text_of(app, "#step-title")
        assert ">>> y.backward()" in text_of(app, "#feedback")  # the code that ran, on arrival
        await pilot.press("enter")
        await answer(pilot, "4")  # right: on to the next run step, which shows what it ran
        assert "✓ 4 was right" in text_of(app, "#status")
        assert "Step 3 of 7 · Run" in text_of(app, "#step-title")
        assert ">>> y.backward()" in text_of(app, "#feedback")
        await pilot.press("enter")
        await answer(pilot, "4")
        assert "The second backward() adds to x.grad." in text_of(app, "#feedback")
        app.screen.query_one("#answer", Input).value = ""
        await answer(pilot, "8")
        await pilot.press("enter")  # past the zero_grad run step
        await answer(pilot, "0")
        assert "Step 7 of 7" in text_of(app, "#step-title")
        await answer(pilot, "ok")  # a second backward without retain_graph raises
        assert "✗" in text_of(app, "#feedback")
        await pilot.press("ctrl+r")
        assert "Trying to backward through the graph a second time" in text_of(app, "#feedback")
        assert "outcome: error" in text_of(app, "#feedback")

    play(app, scenario)


def test_quit_mid_lesson_and_resume_in_a_new_app(data_dir):
    first = make_app(data_dir)

    async def leave_at_step_three(pilot):
        await open_lesson(pilot, "sin")
        await answer(pilot, "16")
        await answer(pilot, "sin(16)")
        await answer(pilot, "-cos(y)")  # a wrong attempt, saved too
        await pilot.press("ctrl+t")
        await pilot.press("ctrl+q")

    play(first, leave_at_step_three)
    second = make_app(data_dir)

    async def resume(pilot):
        table = pilot.app.screen.query_one(DataTable)
        assert str(table.get_row("chain-rule-sin-square")[-1]) == "step 3 of 5"
        await pilot.press("ctrl+n")  # continue the last lesson
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, LessonScreen))
        screen = pilot.app.screen
        assert "Step 3 of 5" in text_of(pilot.app, "#step-title")
        assert screen.session.record.attempts == 1 and screen.session.record.hints == 1
        assert "Hint 1 of 2: " in text_of(pilot.app, "#feedback")
        graph = graph_text(pilot.app)
        assert "data 16" in graph and "data -0.2879" in graph
        await answer(pilot, "cos(y)")
        assert "✓ cos(y) was right" in text_of(pilot.app, "#status")
        assert "Step 4 of 5" in text_of(pilot.app, "#step-title")

    play(second, resume)


def test_catalogue_filter_reset_and_lesson_problems(data_dir, tmp_path):
    broken = tmp_path / "lessons"
    broken.mkdir()
    (broken / "01-good.yaml").write_text((FIXTURES / "chain.yaml").read_text())
    (broken / "02-bad.yaml").write_text("format: 1\nid: bad\ntitle: Bad\ninputs: {x: 1.0}\nnodes: {y: q*2}\n")
    app = make_app(data_dir, paths=(broken,))

    async def scenario(pilot):
        assert isinstance(app.screen, CatalogueScreen)
        assert "02-bad.yaml:5:12: error: unknown name 'q'" in text_of(app, "#problems")
        table = app.screen.query_one(DataTable)
        assert table.row_count == 2  # the lesson, and the file that does not load (listed as broken)
        await type_text(pilot, "zzz")
        assert table.row_count == 0
        await pilot.press("escape")
        assert table.row_count == 2
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, LessonScreen))
        await answer(pilot, "16")
        await pilot.press("escape")
        assert str(table.get_row_at(0)[-1]) == "step 2 of 5"  # 16 was right: on to step 2
        await pilot.press("ctrl+g")  # restart the lesson: the same key as in the lesson screen
        await pilot.press("y")
        assert str(table.get_row_at(0)[-1]) == "not started"

    play(app, scenario)


def test_command_palette_lists_lesson_commands(data_dir):
    app = make_app(data_dir)

    async def scenario(pilot):
        await open_lesson(pilot, "sin")
        titles = [c.title for c in app.get_system_commands(app.screen)]
        for title in ("Hint", "Reveal", "Back", "Next", "Intro", "Plot", "Restart lesson", "Lessons"):
            assert title in titles

    play(app, scenario)


def test_answers_are_shown_as_typed_never_as_markup(data_dir):
    app = make_app(data_dir)

    async def scenario(pilot):
        await open_lesson(pilot, "two paths")
        await type_text(pilot, "[x]")  # a list of the input x: it parses, and must not turn into markup
        assert "read as: [x]" in text_of(app, "#status")
        await pilot.press("enter")
        assert "Your answer has shape (1,); a has shape ()." in text_of(app, "#feedback")

    play(app, scenario)
