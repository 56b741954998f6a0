"""What a user gets from the package: the course and styles ship inside the
wheel, and the summary's PyTorch snippet runs and prints what the tutor found."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from autograd_tutor.lesson.code import notebook
from autograd_tutor.lesson.files import BUNDLED
from autograd_tutor.lesson.loader import load
from autograd_tutor.session import LessonSession

ROOT = Path(__file__).parent.parent.parent


def test_the_wheel_carries_the_course_and_the_styles(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        check=True,
        timeout=300,
    )
    (wheel,) = tmp_path.glob("autograd_tutor-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    course = sorted(p.name for p in (ROOT / "lessons").glob("*.yaml"))
    assert len(course) >= 12
    assert {f"autograd_tutor/lessons/{name}" for name in course} <= names
    assert "autograd_tutor/ui/tutor.tcss" in names


def test_the_bundled_course_is_found_from_the_package():
    assert sorted(p.name for p in BUNDLED.glob("*.yaml")) == sorted(p.name for p in (ROOT / "lessons").glob("*.yaml"))


def test_the_lesson_snippet_runs_and_prints_the_gradients_torch_found(tmp_path):
    lesson = load(ROOT / "lessons" / "05-neuron-example-1.yaml")
    script = tmp_path / "lesson.py"
    script.write_text(notebook(lesson.computation))
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, check=True, timeout=120).stdout
    lines = out.splitlines()
    truth = LessonSession(lesson, variant=0).engine.native  # the authored numbers, as the snippet has them
    assert abs(float(lines[0]) - truth.values["loss"]) < 1e-4
    assert lines[1:] == [f"tensor({truth.gradients['w']:.4f})", f"tensor({truth.gradients['b']:.4f})"]
