"""`--plain`, played end to end through a pseudo-terminal."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pexpect

from autograd_tutor.lesson.loader import load
from autograd_tutor.plain import summary_text
from autograd_tutor.present.summary import summary_view
from autograd_tutor.session import LessonSession

FIXTURES = Path(__file__).parent.parent / "lessons"
COURSE = Path(__file__).parent.parent.parent / "lessons"
COMMAND = str(Path(sys.executable).parent / "autograd-tutor")


def spawn(*args: str, cwd: Path | None = None) -> pexpect.spawn:
    """The installed command in a pty, lessons with their authored numbers."""
    return pexpect.spawn(COMMAND, [*args, "--authored"], encoding="utf-8", timeout=60, dimensions=(24, 80), cwd=cwd)


def test_plain_mode_plays_a_lesson_and_resumes(tmp_path):
    child = spawn(str(FIXTURES / "chain.yaml"), "--plain", "--data-dir", str(tmp_path))
    child.expect("Step 1 of 5")
    child.expect("answer> ")
    child.sendline("15")
    child.expect("✗ Not what torch computes")
    child.expect("answer> ")
    child.sendline("2 x")
    child.expect(r"Cannot read that: missing operator.*\(at column 3\)")
    child.sendline(":hint")
    child.expect("Hint 1 of 1: ")
    child.sendline("16")
    child.expect("✓ Correct: 16")
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
        child.expect("✓ Correct")
    child.expect("answer> ")
    child.sendline("cos(x**2)")
    child.expect("inner derivative")
    child.sendline(":reveal")
    child.expect("torch says: -7.6613")
    child.sendline("")
    child.expect(r"Score 4/5: 3 at the first try, 1 after a mistake · 1 revealed · 1 hint")
    child.expect("summary> ")
    child.sendline("")  # the next lesson
    child.expect(r"\(lesson 3 of \d+\)")
    child.sendline(":lessons")
    child.sendline("q")
    child.expect(pexpect.EOF)


def test_plain_mode_reads_markdown_as_text_and_says_the_graph_in_words(tmp_path):
    child = spawn(str(COURSE / "09-gradients-accumulate.yaml"), "--plain", "--data-dir", str(tmp_path))
    child.expect("Loading torch")
    intro = child.before
    assert "backward() does not store a gradient in .grad, it adds to it." in intro.replace("\r\n", " ")
    assert "**adds**" not in intro and "*store*" not in intro and "`" not in intro
    child.expect("Step 1 of 16")
    child.expect("answer> |go on")
    shown = child.before
    assert "    y.backward()" in shown and "```" not in shown  # code as an indented block, no fences
    assert "Graph: x: value 3; torch's .grad not shown yet; leaf · requires grad." in shown
    assert "Graph: y = x² (the output): value 9; torch's .grad None; PowBackward0." in shown
    child.sendline("")
    child.expect("answer> ")
    child.sendline("6")
    child.expect("Step 3 of 16")
    child.expect("answer> ")
    assert "Graph: x: value 3; torch's .grad 6; leaf · requires grad." in child.before  # before the run it asks about
    child.sendline(":graph")
    child.expect("Graph: x: value 3; torch's .grad 6")
    child.sendline(":quit")
    child.sendline("q")
    child.expect(pexpect.EOF)


def test_plain_mode_ends_with_the_apps_summary_and_saves_the_code(tmp_path):
    lesson_path = COURSE / "12-reading-grad-fn.yaml"
    child = spawn(str(lesson_path), "--plain", "--data-dir", str(tmp_path / "data"), cwd=tmp_path)
    while True:  # reveal every question, go on from every step
        index = child.expect(["answer> ", r"\(Enter to go on\)> ", "summary> "])
        if index == 2:
            break
        child.sendline(":reveal" if index == 0 else "")
    printed = child.before.replace("\r\n", "\n")
    session = LessonSession(load(lesson_path))
    while True:
        if session.is_open:
            session.reveal(derivative=False)
        if not session.advance():
            break
    expected = summary_text(summary_view(session), "Course: 1/1 lessons done")
    assert expected.strip() in printed  # the same summary the app shows: score, recap, code
    child.sendline(":save py")
    child.expect(r"Saved to (\S+\.py)")
    saved = Path(child.match.group(1).strip())
    assert saved == tmp_path / "reading-grad-fn.py" and "loss.backward()" in saved.read_text()
    child.sendline(":quit")
    child.expect(pexpect.EOF)
    assert not re.search(r"Traceback", child.before or "")
