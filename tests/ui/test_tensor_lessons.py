"""The tensor lessons of tests/tensors played through the app with their model answers:
at every step the graph panel (abbreviated where a matrix is too wide) and the whole
values behind ctrl+f agree with torch computed by hand, and neither shows what the
step asks for."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from autograd_tutor.ui.screens.lesson import LessonScreen
from autograd_tutor.ui.screens.summary import SummaryScreen
from autograd_tutor.ui.screens.values import ValuesScreen

from .panel import node_blocks
from .pilot import answer, graph_text, make_app, open_lesson, play, wait_until

TENSORS = Path(__file__).parent.parent / "tensors"
ART = " │├┤┼└┘┌┐─●◆"


def t64(value, grad=True):
    return torch.tensor(value, dtype=torch.float64, requires_grad=grad)


def linear_layer():
    X, W, b = t64([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]]), t64([[0.5, -1.0], [2.0, 0.0], [-0.5, 1.0]]), t64([0.1, -0.2])
    Z = X @ W + b
    A = torch.tanh(Z)
    L = torch.mean(A**2)
    return {"X": X, "W": W, "b": b, "Z": Z, "A": A, "L": L}, L, None, {}


def softmax_ce():
    X, W = t64([[1.0, 0.5], [-1.0, 2.0]]), t64([[0.2, -0.5, 1.0], [0.7, 0.1, -0.3]])
    Z = X @ W
    y = torch.tensor([2, 0])
    L = F.cross_entropy(Z, y)
    return {"X": X, "W": W, "y": y, "Z": Z, "L": L}, L, None, {}


def vjp():
    x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)  # the lesson's dtype: float32
    y = x**2
    return {"x": x, "y": y}, y, torch.tensor([1.0, 0.5, -1.0]), {("y", "x"): 2 * x.detach()}


def variants():  # the authored numbers (make_app plays them)
    x, t, w, b = t64(2.0, False), t64(1.0, False), t64(0.5), t64(-1.0)
    z = w * x + b
    p = torch.sigmoid(z)
    loss = (p - t) ** 2
    local = {("loss", "p"): 2 * (p - t).detach(), ("p", "z"): (p * (1 - p)).detach()}
    return {"x": x, "t": t, "w": w, "b": b, "z": z, "p": p, "loss": loss}, loss, None, local


def backprop_scalar():
    x = t64(4.0)
    y = x**2
    z = torch.sin(y)
    return {"x": x, "y": y, "z": z}, z, None, {}


# title to type in the catalogue, torch by hand, the model answers in step order
LESSONS = {
    "linear-layer": (
        "linear layer",
        linear_layer,
        ["X @ W + b", "tanh(Z)", "mean(A**2)", "grad_L*2*A/4", "grad_A*(1 - A**2)", "grad_Z @ transpose(W)"]
        + ["transpose(X) @ grad_Z", "sum(grad_Z, 0)", "transpose(X) @ (A*(1 - A**2)/2)", "sum(A*(1 - A**2)/2, 0)"],
    ),
    "softmax-ce": (
        "softmax with cross",
        softmax_ce,
        ["X @ W", "cross_entropy(Z, y)", "grad_L*(softmax(Z, 1) - [[0, 0, 1], [1, 0, 0]])/2"]
        + ["grad_Z @ transpose(W)", "transpose(X) @ grad_Z"]
        + ["transpose(X) @ (softmax(Z, 1) - [[0, 0, 1], [1, 0, 0]])/2"],
    ),
    "vjp": ("non-scalar output", vjp, ["x**2", "2*x", "[1, 0.5, -1]*2*x"]),
    "variants": ("own neuron", variants, ["w*x + b", "2*(p - t)", "p*(1 - p)", "2*(p - t)*p*(1 - p)*x"]),
    "backprop-scalar": ("backprop steps on scalars", backprop_scalar, ["grad_z*cos(y)", "grad_y*2*x", "2*x*cos(y)"]),
}


def torch_truth(build):
    """Every tensor's value, d(output)/d(tensor), and what flows along each edge, from torch."""
    tensors, output, grad_output, local = build()
    for tensor in tensors.values():
        if tensor.requires_grad and tensor.grad_fn is not None:
            tensor.retain_grad()
    output.backward(grad_output)
    values = {name: t.detach() for name, t in tensors.items()}
    grads = {name: t.grad for name, t in tensors.items() if t.grad is not None}
    return values, grads, local


# --- reading what is shown -----------------------------------------------------------------------

TOKEN = re.compile(r"\[|\]|…|-?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?|-?inf|nan")
SHOWN = re.compile(r"^(?:(\d+)×(\d+) |(\d+) values )?(\[|-?[\d.]+(?:e[-+]?\d+)?)")


def read_value(text: str):
    """A value as the panel shows it -> (shape named or None, nested lists of floats with
    "…" where entries are left out). `text` starts at the value; it may run on."""
    head = SHOWN.match(text)
    assert head, f"no value at {text[:40]!r}"
    shape = tuple(int(g) for g in head.groups()[:3] if g) or None
    rest = text[head.start(4) :]
    if head.group(4) != "[":
        return shape, float(head.group(4))
    stack: list[list] = [[]]
    for token in TOKEN.findall(rest):
        if token == "[":
            stack.append([])
        elif token == "]":
            done = stack.pop()
            stack[-1].append(done)
            if len(stack) == 1:
                break
        else:
            stack[-1].append(token if token == "…" else float(token))
    return shape, stack[0][0]


def agrees(shown, truth: torch.Tensor, shape) -> bool:
    """The entries shown are torch's at their places (as rounded for the screen); a cut
    is marked with … and only then is the shape given, torch's."""
    truth = truth.detach().to(torch.float64)
    if not isinstance(shown, list):
        return truth.dim() == 0 and _close(shown, float(truth))
    cut = "…" in str(shown)
    if cut != (shape is not None) or (shape is not None and shape[: truth.dim()] != tuple(truth.shape)[: len(shape)]):
        return False
    if shape is not None and truth.dim() == 1 and shape != (truth.shape[0],):
        return False
    return _agrees(shown, truth)


def _agrees(shown: list, truth: torch.Tensor) -> bool:
    more = bool(shown) and shown[-1] == "…"
    entries = shown[:-1] if more else shown
    if len(entries) > truth.shape[0] or (not more and len(entries) != truth.shape[0]):
        return False
    for entry, row in zip(entries, truth):
        if isinstance(entry, list) != (row.dim() > 0):
            return False
        if not (_agrees(entry, row) if isinstance(entry, list) else _close(entry, float(row))):
            return False
    return True


def _close(shown: float, truth: float) -> bool:
    return abs(shown - truth) <= 5e-4 * max(1.0, abs(truth)) or abs(shown - truth) <= 5e-4 * abs(truth) * 10


def panel_flat(app) -> str:
    """The panel's text with the lanes removed, one line after another."""
    return " ".join(raw.strip(ART) for raw in graph_text(app).splitlines())


def after(text: str, label: str) -> str | None:
    """What follows `label ` in `text` (None when absent); a value split over lines joins again."""
    at = text.find(label + " ")
    return None if at < 0 else text[at + len(label) + 1 :]


def check_panel(app, values, grads, edges) -> int:
    """Every value the panel shows agrees with torch; returns how many were checked."""
    checked = 0
    for name, block in node_blocks(graph_text(app)).items():
        data = after(block, "data")
        if data is not None and not data.startswith("?"):
            shape, shown = read_value(data)
            assert agrees(shown, values[name], shape), f"{name}: panel {data!r} vs torch {values[name]}"
            checked += 1
        found = re.search(r"by hand d\w+/d\w+ =", block)
        if found:
            shape, shown = read_value(block[found.end() + 1 :])
            assert agrees(shown, grads[name], shape), f"d/d{name}: panel {block!r} vs torch {grads[name]}"
            checked += 1
    flat = panel_flat(app)
    for (node, arg), truth in edges.items():
        for label in (f"grad into {arg} via {node} =", f"∂{node}/∂{arg} ="):
            shown = after(flat, label)
            if shown is not None and not shown.startswith("?"):
                shape, entries = read_value(shown)
                assert agrees(entries, truth, shape), f"{label} panel {shown[:60]!r} vs torch {truth}"
                checked += 1
    return checked


def edge_truths(values, grads, local) -> dict:
    """What each edge carries: a local factor where the lesson asks one, else (backprop)
    the gradient flowing into the argument (each argument here is used once)."""
    return {**{(n, a): grads[a] for n in values for a in values if a in grads}, **local}


def whole_text(app) -> str:
    return str(app.screen.query_one("#values").render())


@pytest.mark.parametrize("fixture", sorted(LESSONS))
def test_tensor_lessons_play_through_the_app_and_the_panel_agrees_with_torch(data_dir, fixture):
    title, build, answers = LESSONS[fixture]
    values, grads, local = torch_truth(build)
    edges = edge_truths(values, grads, local)
    app = make_app(data_dir, paths=(TENSORS / f"{fixture}.yaml",))
    checked = []

    async def scenario(pilot):
        screen = await open_lesson(pilot, title)
        session = screen.session
        left = lambda: not isinstance(app.screen, LessonScreen) or session.is_open  # noqa: E731
        while isinstance(app.screen, LessonScreen):
            step = session.step
            assert session.is_open, f"step {session.index + 1} was not left open"
            checked.append(check_panel(app, values, grads, edges))
            if step.kind == "forward":  # asked: hidden in the panel and behind ctrl+f
                assert after(node_blocks(graph_text(app))[step.target], "data").startswith("?")
            if any(values[n].dim() for n in values):
                await pilot.press("ctrl+f")
                await wait_until(pilot, lambda: isinstance(app.screen, ValuesScreen))
                whole = whole_text(app)
                assert "…" not in whole  # whole: nothing left out
                if step.kind == "forward":
                    assert re.search(rf"^{step.target} = .*\n  data \? \(not shown yet\)", whole, re.M)
                await pilot.press("escape")
                await wait_until(pilot, lambda: app.screen is screen)
            else:  # scalars only: nothing is abbreviated, the key is not offered
                await pilot.press("ctrl+f")
                await pilot.pause()
                assert app.screen is screen
            index = session.index
            await answer(pilot, answers[index])
            await wait_until(pilot, lambda index=index: session.records[index].status != "pending")
            assert session.records[index].status == "solved", f"{answers[index]!r}: {session.records[index]}"
            await pilot.pause()
            if app.screen is screen and not session.is_open:
                checked.append(check_panel(app, values, grads, edges))
                await pilot.press("enter")
                await wait_until(pilot, left)
        assert isinstance(app.screen, SummaryScreen)

    play(app, scenario)
    assert sum(checked) >= len(answers)  # values were really read and compared, step after step


@pytest.mark.parametrize("size", [(80, 24), (60, 20)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_the_values_key_is_in_a_footer_that_fits_only_where_there_are_matrices(data_dir, size):
    app = make_app(data_dir, paths=(TENSORS,))

    async def scenario(pilot):
        for title, offered in (("linear layer", True), ("backprop steps on scalars", False)):
            await open_lesson(pilot, title)
            footer = list(app.screen.query("FooterKey"))
            assert ("ctrl+f" in {k.key for k in footer}) == offered
            assert all(k.region.right <= size[0] for k in footer)  # every key on the screen: none cut off
            await pilot.press("escape")
            await pilot.pause()
            await pilot.press(*["backspace"] * 30)  # the catalogue's filter, cleared

    play(app, scenario, size=size)


def test_plain_values_prints_every_shown_value_whole_and_keeps_the_asked_one_hidden(tmp_path):
    import pexpect

    from .test_plain import spawn

    child = spawn(str(TENSORS / "linear-layer.yaml"), "--plain", "--data-dir", str(tmp_path))
    child.expect("Step 1 of 10")
    child.expect("answer> ")
    child.sendline(":values")
    child.expect("answer> ")
    whole = child.before.replace("\r\n", "\n")
    assert "W  3×2 · leaf · requires grad\n  data\n    [[ 0.5,   -1],\n     [   2,    0],\n     [-0.5,    1]]" in whole
    assert "Z = X @ W + b  AddBackward0\n  data ? (not shown yet)" in whole
    child.sendline("X @ W + b")
    child.expect("Step 2 of 10")
    child.expect("answer> ")
    child.sendline(":values")
    child.expect("answer> ")
    assert "Z = X @ W + b  2×2 · AddBackward0\n  data\n    [[4.35, -0.7],\n     [-3.4,  2.8]]" in child.before.replace(
        "\r\n", "\n"
    )
    child.sendline(":quit")
    child.expect("Lesson number")
    child.sendline("q")
    child.expect(pexpect.EOF)
