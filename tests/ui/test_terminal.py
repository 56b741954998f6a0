"""The installed command in a real terminal: tmux at 80x24, keys sent with
send-keys, the screen read with capture-pane."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

FIXTURE = Path(__file__).parent.parent / "lessons" / "chain.yaml"
COMMAND = Path(sys.executable).parent / "autograd-tutor"


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

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", self.name)

    def wait_for(self, text: str, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.1)
        raise AssertionError(f"{text!r} never appeared; the screen was:\n{self.screen()}")


    def start(self, command: str) -> None:
        self.run("new-session", "-d", "-s", self.name, "-x", "80", "-y", "24", command)

    def pid(self) -> int:
        return int(self.run("list-panes", "-t", self.name, "-F", "#{pane_pid}").split()[0])

    def close(self) -> None:
        subprocess.run(["tmux", "kill-session", "-t", self.name], capture_output=True)


@pytest.fixture
def tmux(tmp_path):
    assert shutil.which("tmux"), "these tests need tmux (apt-get install tmux)"
    session = Tmux(f"agt-{os.getpid()}-{tmp_path.name}")  # unique when several runs share a tmux server
    session.start(f"{COMMAND} {FIXTURE} --data-dir {tmp_path}")
    yield session
    session.close()


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
    assert "16" in screen.splitlines()[4]  # the graph now shows y's value
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
        assert "16" in screen.splitlines()[4]  # y's value, solved before the kill
    finally:
        again.close()
