"""sympy never holds the learner up: a revealed derivative is worked out off the UI
thread, in a child process with a time limit, and the numbers stand alone when it
takes too long (issue: a 95-character node froze the app for 95 s)."""

from __future__ import annotations

import os
import time

from textual.widgets import Input

from autograd_tutor.bounded import call_with_limit
from autograd_tutor.present.step import PENDING
from autograd_tutor.session import LessonSession

from .pilot import make_app, play, text_of, type_text, wait_until

SLOW_NODE = "(x+1)**7*(x-1)**5/(x**2+3)**4 + tanh(x)**5*sigmoid(x)**3 - exp(sin(x))*log(2+cos(x))**4"
LESSON = f"""\
format: 1
id: slow-symbolic
title: A node sympy is slow to simplify
inputs:
  x: {{value: 0.5, requires_grad: true}}
nodes:
  y: {SLOW_NODE}
steps:
  - local: [y, x]
"""


def _children() -> list[str]:
    """The live (not zombie) child processes of this process."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as file:
                    fields = file.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == os.getpid() and fields[0] != "Z":
                pids.append(entry)
    return pids


def _forever() -> None:
    while True:
        time.sleep(1)


def test_a_bounded_call_returns_its_value_or_none_and_leaves_no_child():
    assert call_with_limit(sorted, [3, 1, 2], seconds=30) == [1, 2, 3]
    assert call_with_limit(int, "not a number", seconds=30) is None  # it raised
    assert call_with_limit(_forever, seconds=0.5) is None  # killed at the limit
    assert _children() == []


def test_the_session_gives_up_on_a_derivative_that_takes_too_long(tmp_path):
    from autograd_tutor.lesson.loader import load

    path = tmp_path / "slow.yaml"
    path.write_text(LESSON)
    session = LessonSession(load(path))
    assert session.reveal().derivative is None  # the truth, without the symbolic form
    assert session.truth().text == "-0.4176"
    assert _children() == []


def test_reveal_stays_responsive_on_a_slow_derivative(data_dir, tmp_path):
    course = tmp_path / "course"
    course.mkdir()
    (course / "slow.yaml").write_text(LESSON)
    app = make_app(data_dir, paths=(course,), open_lesson="slow-symbolic")

    async def scenario(pilot):
        screen = app.screen
        await wait_until(pilot, lambda: app.symbolic_ready.is_set())
        await pilot.press("ctrl+r")
        assert "torch says: -0.4176" in text_of(app, "#feedback")  # at once
        assert "working it out…" in text_of(app, "#feedback")
        await pilot.press("ctrl+l")  # keys still work while sympy runs
        assert screen.query_one("#function-plot").display
        await type_text(pilot, "2*x")
        assert screen.query_one("#answer", Input).value == "2*x"
        assert screen.derivatives[0] == PENDING
        await wait_until(pilot, lambda: screen.derivatives[0] != PENDING, tries=1000)
        assert screen.derivatives[0] is None
        feedback = text_of(app, "#feedback")
        assert "torch says: -0.4176" in feedback and "working it out" not in feedback
        assert _children() == []

    play(app, scenario)


def test_the_derivative_waits_for_the_warm_up_to_say_sympy_is_ready(data_dir):
    app = make_app(data_dir, open_lesson="chain-rule-sin-square")

    async def scenario(pilot):
        screen = app.screen
        await wait_until(pilot, lambda: app.symbolic_ready.is_set())
        app.symbolic_ready.clear()  # as while the warm-up is still importing sympy
        screen.session.index = 2  # the local step ∂z/∂y
        screen.render_step()
        await pilot.press("ctrl+r")
        await pilot.pause(0.3)
        assert screen.derivatives[2] == PENDING  # not on the UI thread, not before the signal
        await type_text(pilot, "x")
        assert screen.query_one("#answer", Input).value == "x"
        app.symbolic_ready.set()
        await wait_until(pilot, lambda: screen.derivatives[2] != PENDING, tries=1000)
        assert "∂z/∂y = cos(y)" in text_of(app, "#feedback")

    play(app, scenario)
