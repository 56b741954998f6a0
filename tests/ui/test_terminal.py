"""The installed command in a real terminal: tmux, keys sent with send-keys, the
screen read with capture-pane; and raw bytes read from a pty."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pexpect
import pytest
import torch
import yaml

from autograd_tutor.expr.display import format_value

from .panel import fact, node_blocks

FIXTURE = Path(__file__).parent.parent / "lessons" / "chain.yaml"
COURSE = Path(__file__).parent.parent.parent / "lessons"
COMMAND = Path(sys.executable).parent / "autograd-tutor"
PANEL = 35  # the graph panel's columns at 80x24


class Tmux:
    def __init__(self, name: str):
        self.name = name

    def run(self, *args: str) -> str:
        return subprocess.run(["tmux", *args], check=True, capture_output=True, text=True).stdout

    # Keys are sent at a typist's pace: Textual (8.2) drops keys that reach it
    # as a burst of separate writes, which no person at a keyboard produces.
    PACE = 0.05

    def keys(self, *keys: str) -> None:
        """Key names, as tmux spells them (Enter, BSpace, C-q)."""
        for key in keys:
            self.run("send-keys", "-t", self.name, key)
            time.sleep(self.PACE)

    def type(self, text: str) -> None:
        self.run("send-keys", "-t", self.name, "-l", text)
        time.sleep(self.PACE)

    def screen(self, escapes: bool = False) -> str:
        return self.run("capture-pane", "-p", *(["-e"] if escapes else []), "-t", self.name)

    def wait_for(self, text: str, timeout: float = 30) -> str:
        return self.wait_until(lambda screen: text in screen, f"{text!r} never appeared", timeout)

    def wait_until(self, condition, what: str, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.screen()
            if condition(screen):
                return screen
            time.sleep(0.1)
        raise AssertionError(f"{what}; the screen was:\n{self.screen()}")

    def start(self, command: str, size: tuple[int, int] = (80, 24)) -> None:
        self.run("new-session", "-d", "-s", self.name, "-x", str(size[0]), "-y", str(size[1]), command)

    def pid(self) -> int:
        return int(self.run("list-panes", "-t", self.name, "-F", "#{pane_pid}").split()[0])

    def close(self) -> None:
        subprocess.run(["tmux", "kill-session", "-t", self.name], capture_output=True)


@pytest.fixture
def terminal(tmp_path):
    assert shutil.which("tmux"), "these tests need tmux (apt-get install tmux)"
    session = Tmux(f"agt-{os.getpid()}-{tmp_path.name}")  # unique when several runs share a tmux server
    yield session
    session.close()


@pytest.fixture
def tmux(terminal, tmp_path):
    terminal.start(f"{COMMAND} {FIXTURE} --data-dir {tmp_path}")
    return terminal


def test_a_step_answered_wrong_then_right_in_tmux(tmux):
    screen = tmux.wait_for("Step 1 of 5")
    assert "What is the value of" in screen and "^t Hint" in screen
    tmux.wait_for("PowBackward0")  # torch has loaded: grad_fn names are drawn
    tmux.type("15")
    tmux.keys("Enter")
    tmux.wait_for("✗ Not what torch computes")
    tmux.keys("BSpace", "BSpace")
    tmux.type("x^2")
    tmux.wait_for("read as: x²")
    tmux.keys("Enter")
    screen = tmux.wait_for("✓ x^2 was right")  # and on to the next step
    assert "Step 2 of 5" in screen
    assert fact(node_blocks(_panel(screen))["y"], "data") == "16"  # the graph now shows y's value
    tmux.keys("C-q")
    deadline = time.monotonic() + 10
    while "Step 2 of 5" in tmux.screen() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "Step 2 of 5" not in tmux.screen()


def test_progress_survives_kill_9(tmux, tmp_path):
    tmux.wait_for("PowBackward0")
    tmux.type("16")
    tmux.keys("Enter")
    tmux.wait_for("Step 2 of 5")
    tmux.type("cos(16)")
    tmux.keys("Enter")
    tmux.wait_for("✗")
    os.kill(tmux.pid(), signal.SIGKILL)
    tmux.close()

    again = Tmux(f"{tmux.name}-again")
    again.start(f"{COMMAND} {FIXTURE.parent} --data-dir {tmp_path}")
    try:
        screen = again.wait_for("step 2 of 5")  # the catalogue's progress column
        assert "Chain rule through sin" in screen
        again.keys("C-n")  # continue
        again.wait_for("Step 2 of 5 · Forward pass")
        screen = again.wait_for("PowBackward0")
        assert fact(node_blocks(_panel(screen))["y"], "data") == "16"  # y's value, solved before the kill
    finally:
        again.close()


def _panel(screen: str) -> str:
    return "\n".join(line[:PANEL] for line in screen.splitlines()[1:-1])


class Replay:
    """The lesson's run operations, done again here on real torch tensors."""

    def __init__(self, x: float):
        self.x = torch.tensor(x, requires_grad=True)
        self.y = self.x**2

    def run(self, ops: list) -> None:
        try:
            for op in ops:
                name, arg = (op, None) if isinstance(op, str) else next(iter(op.items()))
                if name == "forward":
                    self.y = self.x**2
                elif name == "backward":
                    self.y.backward(retain_graph=arg == "retain_graph")
                elif name == "zero_grad":
                    self.x.grad.zero_()
                elif name == "grad_to_none":
                    self.x.grad = None
                else:
                    raise AssertionError(name)
        except RuntimeError:
            pass  # as in a notebook cell: the operations after the error are not run

    def expected(self) -> dict[str, dict[str, str]]:
        grad = self.x.grad
        return {
            "x": {"data": format_value(self.x.item()), ".grad": "None" if grad is None else format_value(grad.item())},
            "y": {"data": format_value(self.y.item()), ".grad": "None"},
        }


def test_the_panel_follows_torch_through_a_whole_behaviour_lesson(terminal, tmp_path):
    """Gradients accumulate: after each run step the panel shows what torch holds,
    hiding x.grad while the next step asks for it, and shows it once answered."""
    path = COURSE / "09-gradients-accumulate.yaml"
    steps = yaml.safe_load(path.read_text())["steps"]
    torch_now = Replay(3.0)
    terminal.start(f"{COMMAND} {path} --authored --data-dir {tmp_path}")
    terminal.wait_for("To the steps")  # the intro page
    terminal.keys("Enter")
    checked = []
    for index, step in enumerate(steps):
        terminal.wait_for(f"Step {index + 1} of {len(steps)}")
        if "run" in step:
            if step.get("ask") == "outcome":
                terminal.type(step["answer"])
                terminal.keys("Enter")
                terminal.wait_for("✓ Correct")
            torch_now.run(step["run"])
            hidden = steps[index + 1].get("predict") == "x.grad"
            expected = torch_now.expected()
            if hidden:
                expected["x"][".grad"] = "?"
            _panel_shows(terminal, expected)
            checked.append(expected["x"][".grad"])
            terminal.keys("Enter")
        else:
            terminal.type(step["answer"] if "answer" in step else _option_number(terminal, step))
            terminal.keys("Enter")
            following = steps[index + 1] if index + 1 < len(steps) else {}
            # a right answer with more to read (an explanation, a chosen option's feedback) stays;
            # else on to the next step: an outcome question shows the state before it
            stays = "explain" in step or "choose" in step
            if step.get("predict") == "x.grad" and (stays or following.get("ask") == "outcome"):
                _panel_shows(terminal, torch_now.expected())  # answered: now the panel shows torch's .grad
                checked.append(torch_now.expected()["x"][".grad"])
            if stays:
                terminal.keys("Enter")
    terminal.wait_for("summary")
    assert checked == ["?", "6", "?", "?", "?", "0", "?", "?", "?"]  # each checked against torch


def _option_number(terminal: Tmux, step: dict) -> str:
    """The number the screen gives a choose step's right option."""
    right = next(option["text"] for option in step["options"] if option.get("correct"))
    start = right.replace("`", "")[:24]
    terminal.wait_for(start)
    number = re.search(r"(\d+)\. " + re.escape(start), terminal.screen())
    assert number, f"the option {start!r} has no number on the screen"
    return number.group(1)


def _panel_shows(terminal: Tmux, expected: dict[str, dict[str, str]]) -> None:
    def shows(screen: str) -> bool:
        blocks = node_blocks(_panel(screen))
        return all(fact(blocks.get(n, ""), k) == v for n, facts in expected.items() for k, v in facts.items())

    terminal.wait_until(shows, f"the panel never showed {expected}", timeout=15)


def _reversed(screen: str, text: str) -> bool:
    """Whether `text` is drawn in reverse video on its line of a `capture-pane -e` screen."""
    for line in screen.splitlines():
        if text in line:
            before = line[: line.index(text)]
            active: set[str] = set()
            for codes in re.findall(r"\x1b\[([0-9;]*)m", before):
                params = codes.split(";") if codes else ["0"]
                if params[0] == "0":
                    active.clear()
                active.update(params)
            return "7" in active
    raise AssertionError(f"{text!r} is not on the screen:\n{screen}")


def test_what_is_typed_while_the_tutor_starts_is_kept(terminal, tmp_path):
    """A learner types the lesson's name and Enter straight after the command, before the
    first screen is drawn (and before the terminal leaves line mode): it opens that lesson."""
    terminal.start("bash --norc --noprofile")
    terminal.wait_until(lambda screen: screen.strip(), "bash never prompted")
    terminal.run("send-keys", "-t", terminal.name, f"{COMMAND} --data-dir {tmp_path}", "Enter")
    terminal.type("accumulate")
    terminal.keys("Enter")
    terminal.wait_for("Gradients accumulate until you clear them · lesson 9 of")


def test_what_is_typed_while_a_lesson_opens_goes_to_its_answer_box(terminal, tmp_path):
    """Started on one lesson, the tutor shows the catalogue first: what is typed straight
    after the command waits for the lesson (not the catalogue's filter, nor the graph pane)."""
    terminal.start("bash --norc --noprofile")
    terminal.wait_until(lambda screen: screen.strip(), "bash never prompted")
    lesson = Path(__file__).parent.parent / "lessons" / "chain.yaml"
    terminal.run("send-keys", "-t", terminal.name, f"{COMMAND} --data-dir {tmp_path} {lesson}", "Enter")
    terminal.type("16")
    terminal.keys("Enter")
    terminal.wait_for("Step 2 of")
    assert "✓ 16 was right" in terminal.screen() or "Correct" in terminal.screen()


def test_ansi_highlights_the_selected_row(terminal, tmp_path):
    terminal.start(f"{COMMAND} --ansi --data-dir {tmp_path}")
    terminal.wait_for("Course: 0/")
    screen = terminal.screen(escapes=True)
    assert _reversed(screen, "01  The derivative") and not _reversed(screen, "02  The same")
    terminal.keys("Down")
    terminal.wait_until(
        lambda _: _reversed(terminal.screen(escapes=True), "02  The same"), "the highlight did not follow the cursor"
    )
    assert not _reversed(terminal.screen(escapes=True), "01  The derivative")


def test_ansi_writes_no_256_colour_or_true_colour_codes(tmp_path):
    """Every byte the app writes to the terminal in --ansi mode, across the main screens."""
    child = pexpect.spawn(
        str(COMMAND),
        ["--ansi", "--authored", "--data-dir", str(tmp_path), str(COURSE / "03-chain-rule.yaml")],
        dimensions=(24, 80),
        timeout=60,
    )
    written = b""

    def read_until(marker: bytes) -> None:
        nonlocal written
        child.expect(marker)
        written += child.before + child.after

    read_until(b"To the steps")
    for keys, marker in (("\r", b"Step 1 of 10"), ("16\r", b"Step 2 of 10"), ("sin(16)\r", b"Step 3 of 10")):
        child.send(keys)
        read_until(marker)
    child.send("\x0c")  # ctrl+l: the plot (plotext's own colours are 256-colour codes)
    read_until(b"tangent")
    child.send("\x12")  # ctrl+r: reveal, the tangent drawn
    read_until(b"slope")
    child.send("\x11")  # ctrl+q
    child.expect(pexpect.EOF)
    written += child.before
    codes = re.findall(rb"\x1b\[([0-9;:]*)m", written)
    assert codes, "no colour codes at all: the capture is wrong"
    assert [c for c in codes if re.search(rb"(^|;)[34]8[;:][25]", c)] == []
