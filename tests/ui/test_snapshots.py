"""SVG snapshots of the main screens at 80x24 and 60x20 (and one at 200x50), with
pytest-textual-snapshot. Update them after an intended change with
`pytest tests/ui --snapshot-update`, and look at the report before committing."""

from __future__ import annotations

from pathlib import Path

import pytest

from .pilot import COURSE, make_app, past_intro, type_text, wait_until

SIZES = [(80, 24), (60, 20)]


async def ready(pilot) -> None:
    await wait_until(pilot, lambda: pilot.app.engines_ready)
    await pilot.pause()


async def answers(pilot, *texts: str) -> None:
    for text in texts:
        await type_text(pilot, text)
        await pilot.press("enter")
    await pilot.pause()


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_catalogue_of_the_bundled_course(snap_compare, data_dir, size):
    assert snap_compare(make_app(data_dir, paths=(COURSE,)), terminal_size=size, run_before=ready)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_intro_page(snap_compare, data_dir, size):
    app = make_app(data_dir, paths=(COURSE,), open_lesson="chain-rule-sin-square")
    assert snap_compare(app, terminal_size=size, run_before=ready)


async def mid_backward(pilot) -> None:
    await ready(pilot)
    await past_intro(pilot)
    await answers(pilot, "16", "sin(16)", "cos(y)")  # each right answer moves on
    await type_text(pilot, "2*x")
    await pilot.pause()


@pytest.mark.parametrize("size", [*SIZES, (200, 50)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_lesson_mid_backward_pass(snap_compare, data_dir, size):
    app = make_app(data_dir, paths=(COURSE,), open_lesson="chain-rule-sin-square")
    assert snap_compare(app, terminal_size=size, run_before=mid_backward)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_plot_with_its_tangent(snap_compare, data_dir, size):
    async def plotted(pilot):
        await ready(pilot)
        await past_intro(pilot)
        await answers(pilot, "16", "sin(16)", "cos(y)", "2*x")
        await pilot.press("ctrl+l")  # the gradient step: z as x moves
        await answers(pilot, "2*x*cos(x**2)")  # right, with an explanation: it stays, the tangent drawn

    app = make_app(data_dir, paths=(COURSE,), open_lesson="chain-rule-sin-square")
    assert snap_compare(app, terminal_size=size, run_before=plotted)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_behaviour_lesson_after_a_run(snap_compare, data_dir, size):
    async def after_runs(pilot):
        await ready(pilot)
        await past_intro(pilot)
        await pilot.press("enter")  # run: y.backward()
        await answers(pilot, "6", "ok")  # x.grad; then forward + backward again: ok

    app = make_app(data_dir, paths=(COURSE,), open_lesson="gradients-accumulate")
    assert snap_compare(app, terminal_size=size, run_before=after_runs)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_summary(snap_compare, data_dir, size):
    async def finish(pilot):
        await ready(pilot)
        await answers(pilot, "16", "sin(16)", "-cos(y)")
        await pilot.press("ctrl+r", "enter")  # -cos(y) was wrong: reveal, then on
        await answers(pilot, "2*x", "2*x*cos(x**2)")

    app = make_app(data_dir, open_lesson="chain-rule-sin-square")
    assert snap_compare(app, terminal_size=size, run_before=finish)


LINEAR_LAYER = Path(__file__).parent.parent / "tensors" / "linear-layer.yaml"


async def mid_matrix_backward(pilot) -> None:
    """The linear layer after its forward pass and the first backprop step."""
    await ready(pilot)
    await past_intro(pilot)
    await answers(pilot, "X @ W + b", "tanh(Z)", "mean(A**2)", "grad_L*2*A/4")
    await type_text(pilot, "grad_A*(1 - A**2)")
    await pilot.pause()


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_matrix_lesson_mid_backward_pass(snap_compare, data_dir, size):
    app = make_app(data_dir, paths=(LINEAR_LAYER,), open_lesson="linear-layer")
    assert snap_compare(app, terminal_size=size, run_before=mid_matrix_backward)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_every_value_whole(snap_compare, data_dir, size):
    async def opened(pilot):
        await mid_matrix_backward(pilot)
        await pilot.press("ctrl+f")
        await pilot.pause()

    app = make_app(data_dir, paths=(LINEAR_LAYER,), open_lesson="linear-layer")
    assert snap_compare(app, terminal_size=size, run_before=opened)
