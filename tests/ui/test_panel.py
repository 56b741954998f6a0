"""The graph panel tells torch's truth and gives nothing away (Pilot, and the
presenter over every bundled lesson)."""

from __future__ import annotations

from pathlib import Path

import pytest

from autograd_tutor.lesson.loader import library
from autograd_tutor.present.graph import FLAGS, graph_facts, hidden
from autograd_tutor.session import LessonSession

from .panel import fact, node_blocks
from .pilot import COURSE, answer, graph_text, make_app, open_lesson, play, text_of

LESSONS = {lesson.id: lesson for lesson in library([COURSE])[0]}
TENSORS = {lesson.id: lesson for lesson in library([Path(__file__).parent.parent / "tensors"])[0]}


def blocks(app) -> dict[str, str]:
    return node_blocks(graph_text(app))


def test_turning_tracking_off_follows_torch_after_each_run(data_dir):
    app = make_app(data_dir, paths=(COURSE,))

    async def scenario(pilot):
        await open_lesson(pilot, "tracking off")
        # asked to predict the run's outcome: the panel shows the state before it
        assert "leaf · requires grad" in blocks(app)["x"]
        assert "PowBackward0" in blocks(app)["y"]
        await answer(pilot, "error")
        # answered: the run has happened, x no longer requires grad; y's grad_fn is the next question
        assert "leaf · requires grad" not in blocks(app)["x"] and "leaf" in blocks(app)["x"]
        assert "grad_fn ?" in blocks(app)["y"]
        await pilot.press("enter")
        await answer(pilot, "None")  # y.grad_fn: y was computed without grad, so it is a leaf
        assert "leaf" in blocks(app)["y"] and "PowBackward0" not in blocks(app)["y"]

    play(app, scenario)


def test_a_new_tensor_from_set_shows_its_value_and_empty_grad(data_dir):
    app = make_app(data_dir, paths=(COURSE,))

    async def scenario(pilot):
        screen = await open_lesson(pilot, "derivative of x")
        while screen.session.step.kind != "run" or screen.session.index < 5:
            if screen.session.is_open:
                screen.action_reveal()
            await pilot.press("enter")
            await pilot.pause()
        # the set/forward/backward run: x is a new tensor, x = 3, y = 9; x.grad is asked next
        assert fact(blocks(app)["x"], "data") == "3" and fact(blocks(app)["y"], "data") == "9"
        assert fact(blocks(app)["x"], ".grad") == "?"
        # what was worked out by hand at x = 2 is not shown as if it were about x = 3
        assert "by hand" not in blocks(app)["x"] and "∂y/∂x = 4" not in graph_text(app)
        await pilot.press("enter")
        await answer(pilot, "6")
        assert fact(blocks(app)["x"], ".grad") == "6"

    play(app, scenario)


def test_non_leaf_grad_is_none_and_by_hand_values_are_labelled_apart(data_dir):
    app = make_app(data_dir, paths=(COURSE,))

    async def scenario(pilot):
        screen = await open_lesson(pilot, "sin")
        for text in ("16", "sin(16)", "cos(y)", "2*x", "2*x*cos(x**2)"):
            await answer(pilot, text)
        assert screen.session.step.kind == "gradient" and "Step 5 of 10" in text_of(app, "#step-title")
        await pilot.press("enter")  # past the explanation, to the run step
        x = blocks(app)["x"]
        assert "by hand dz/dx = -7.6613" in x  # the learner's
        assert fact(x, ".grad") == "?"  # torch's .grad is the next question
        await pilot.press("enter")
        await answer(pilot, "-7.6613")
        x, y = blocks(app)["x"], blocks(app)["y"]
        assert fact(x, ".grad") == "-7.6613" and "by hand dz/dx = -7.6613" in x
        assert fact(y, ".grad") == "None"  # a non-leaf does not keep its gradient

    play(app, scenario)


def test_predictions_hide_what_they_ask_until_answered(data_dir):
    app = make_app(data_dir, paths=(COURSE,))

    async def scenario(pilot):
        await open_lesson(pilot, "reading the graph")
        assert "grad_fn ?" in blocks(app)["p"]  # "What is p.grad_fn?"
        await answer(pilot, "PowBackward0")
        assert "PowBackward0" in blocks(app)["p"]
        assert "grad_fn ?" in blocks(app)["s"]  # the next question

    play(app, scenario)


def _steps_through(lesson_id: str):
    """Every step of a lesson, revealed one by one, with the graph before and after."""
    session = LessonSession({**LESSONS, **TENSORS}[lesson_id], variant=0)
    while True:
        before = graph_facts(session, True)
        if session.is_open:
            session.reveal(derivative=False)
        yield session, before, graph_facts(session, True)
        if not session.advance():
            return


@pytest.mark.parametrize("lesson_id", sorted({**LESSONS, **TENSORS}))
def test_no_step_of_the_course_shows_its_answer_before_it_is_answered(lesson_id):
    for session, before, after in _steps_through(lesson_id):
        step = session.step
        nodes = {n.name: n for n in before.nodes}
        if step.kind == "forward" and step.takes_answer:
            assert nodes[step.target].value is None
        name, _, prop = str(step.target).partition(".")
        if step.kind == "predict" and name in nodes and prop in ("", "grad", *FLAGS):
            # (a name a run step made, like g = torch.autograd.grad(...), and properties
            # such as _version are not in the panel at all)
            shown = {"": nodes[name].value, "grad": nodes[name].grad}.get(prop, nodes[name].flags)
            assert shown is None, f"step {step.index + 1} shows {shown!r} before it is answered"
            after_nodes = {n.name: n for n in after.nodes}
            still = {"": after_nodes[name].value, "grad": after_nodes[name].grad}.get(prop, after_nodes[name].flags)
            later = hidden(session)
            asked_again = (prop or "value", name) in later or any((f, name) in later for f in FLAGS)
            assert still is not None or asked_again  # revealed: shown, unless the next step asks it again
        if step.kind == "gradient":
            assert nodes[step.target].by_hand is None
        if step.kind in ("local", "backprop"):
            edge = next(e for e in before.edges if (e.node, e.arg) == tuple(step.target))
            assert edge.factor is None and edge.focus


@pytest.mark.parametrize("lesson_id", sorted(LESSONS))
def test_a_grad_fn_asked_later_is_not_shown_earlier(lesson_id):
    """z.grad_fn asked after backward() is the same grad_fn the panel could show from
    step 1: it stays hidden back to the last run step that may change flags."""
    flags_seen: list[tuple[int, dict]] = []  # (step, node -> flags shown) before each step is answered
    for session, before, _after in _steps_through(lesson_id):
        step = session.step
        if step.kind == "run" and any("flags" in op.changes for op in step.target):
            flags_seen.clear()  # what came before was another state
        if step.kind == "predict" and step.target.endswith(".grad_fn"):
            name = step.target.removesuffix(".grad_fn")
            answer = str(session.truth().text)
            for index, shown in flags_seen:
                assert answer not in (shown.get(name) or ""), (
                    f"step {index + 1} shows {answer} before step {step.index + 1} asks it"
                )
        flags_seen.append((step.index, {n.name: n.flags for n in before.nodes}))


@pytest.mark.parametrize("size", [(80, 24), (60, 20)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_the_node_in_question_is_always_in_view(data_dir, size):
    """The capstone's graph is taller than the panel: at every step the focus is on screen."""
    from autograd_tutor.ui.widgets.graph import GraphView

    app = make_app(data_dir, paths=(COURSE,))

    async def scenario(pilot):
        screen = await open_lesson(pilot, "capstone")
        pane = screen.query_one("#graph-pane")
        graph = screen.query_one(GraphView)
        assert graph.size.height > pane.size.height  # it does not fit: it must scroll
        seen = 0
        while True:
            await pilot.pause()
            if screen.session.step.kind in ("forward", "local", "gradient"):
                top = pane.scroll_offset.y
                assert top <= graph.focus_row < top + pane.size.height, (screen.session.index, graph.focus_row, top)
                seen += 1
            if screen.session.is_open:
                screen.action_reveal()
            if screen.session.index == len(screen.session.steps) - 1:
                break
            screen.action_next()
        assert seen > 10

    play(app, scenario, size=size)
