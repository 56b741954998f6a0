"""`--plain`, played end to end through a pseudo-terminal."""

from __future__ import annotations

import sys
from pathlib import Path

import pexpect

FIXTURES = Path(__file__).parent.parent / "lessons"
COMMAND = str(Path(sys.executable).parent / "autograd-tutor")


def spawn(*args: str) -> pexpect.spawn:
    return pexpect.spawn(COMMAND, list(args), encoding="utf-8", timeout=60, dimensions=(24, 80))


def test_plain_mode_plays_a_lesson_and_resumes(tmp_path):
    child = spawn(str(FIXTURES / "chain.yaml"), "--plain", "--data-dir", str(tmp_path))
    child.expect("Step 1 of 5")
    child.expect("answer> ")
    child.sendline("15")
    child.expect("Not right")
    child.expect("answer> ")
    child.sendline("2 x")
    child.expect("Cannot read that: missing operator")
    child.sendline(":hint")
    child.expect("Hint: ")
    child.sendline("16")
    child.expect("Correct")
    child.expect("Step 2 of 5")
    child.sendline("sin(16)")
    child.expect("Step 3 of 5")
    child.sendline(":quit")
    child.expect("Lesson number")
    child.sendline("q")
    child.expect("progress is saved")
    child.expect(pexpect.EOF)

    child = spawn(str(FIXTURES), "--plain", "--data-dir", str(tmp_path))
    child.expect(r"Chain rule through sin\(x²\) \(step 3 of 5\)")
    child.sendline("2")
    child.expect("Step 3 of 5")
    for answer in ("cos(y)", "2*x"):
        child.expect("answer> ")
        child.sendline(answer)
        child.expect("Correct")
    child.expect("answer> ")
    child.sendline("cos(x**2)")
    child.expect("inner derivative")
    child.sendline(":reveal")
    child.expect("torch says: -7.6613")
    child.sendline("")
    child.expect(r"Done: 4/5 correct")
    child.sendline("q")
    child.expect(pexpect.EOF)


def test_plain_mode_run_steps_show_code_and_torch_errors(tmp_path):
    child = spawn(str(FIXTURES / "no-tracking.yaml"), "--plain", "--data-dir", str(tmp_path))
    child.expect("Will it run")
    child.sendline("error")
    child.expect("Correct")
    child.expect(r">>> x.requires_grad_\(False\)")
    child.expect("element 0 of tensors does not require grad and does not have a grad_fn")
    child.sendline(":quit")
    child.sendline("q")
    child.expect(pexpect.EOF)
