"""The bundled course in lessons/: it validates, every model answer is judged
correct, every listed mistake is judged wrong with its own feedback, and the
notebooks' printed numbers are the truths of the matching steps."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest
import yaml

from autograd_tutor.check import play
from autograd_tutor.lesson.loader import Lesson, lesson_files, load
from autograd_tutor.session import LessonSession
from autograd_tutor.validate import validate

COURSE = Path(__file__).parent.parent / "lessons"
FILES = lesson_files([COURSE])  # not the skills file
NAMES = [f.name for f in FILES]
ANSWERED = ("forward", "local", "gradient", "predict", "run")
NOTEBOOK_TOLERANCE = 1e-4  # the notebooks print 4 decimals
GRAD_FN_NAMES = ("PowBackward0", "SinBackward0", "AddBackward0", "SigmoidBackward0", "NegBackward0", "MeanBackward0")
NO_GRAPH = "element 0 of tensors does not require grad and does not have a grad_fn"


@cache
def lesson(name: str) -> Lesson:
    return load(COURSE / name)


def model_answers(les: Lesson) -> list[str | None]:
    return [step.answer if step.takes_answer else None for step in les.steps]


@cache
def report(name: str) -> dict:
    """check's report of the lesson played with its model answers."""
    les = lesson(name)
    return play(les, model_answers(les))


def file_named(prefix: str) -> str:
    (name,) = [n for n in NAMES if n.startswith(prefix)]
    return name


# --- the library as a whole ----------------------------------------------------


def test_course_has_at_least_twelve_lessons_in_numbered_files():
    assert len(FILES) >= 12
    for name in NAMES:
        assert re.fullmatch(r"\d\d-[a-z0-9-]+\.yaml", name), name


def test_validate_passes_without_errors_or_warnings():
    problems = validate([COURSE])
    assert [str(p) for p in problems] == []


def test_lesson_ids_are_unique_kebab_case():
    ids = [lesson(n).id for n in NAMES]
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", i) for i in ids)


# --- every lesson is complete ----------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_lesson_has_intro_summary_level_tags(name):
    spec = lesson(name).spec
    assert spec.intro and spec.intro.strip()
    assert spec.summary and spec.summary.strip()
    assert spec.level is not None and 1 <= spec.level <= 5
    assert spec.tags


@pytest.mark.parametrize("name", NAMES)
def test_every_answerable_step_has_a_model_answer(name):
    for step in lesson(name).steps:
        if step.takes_answer:
            assert step.answer is not None, f"{name} step {step.index} ({step.kind}) has no model answer"


@pytest.mark.parametrize("name", NAMES)
def test_every_derivative_step_has_progressive_hints(name):
    for step in lesson(name).steps:
        if step.kind in ("local", "gradient"):
            assert len(step.hints) >= 2, f"{name} step {step.index} has {len(step.hints)} hints"


@pytest.mark.parametrize("name", NAMES)
def test_prompts_fit_a_small_terminal(name):
    for step in lesson(name).steps:
        if step.kind == "explain":
            continue
        lines = step.prompt.splitlines()
        assert len(lines) <= 8 and len(step.prompt) <= 300, f"{name} step {step.index}: prompt too long"
        code = re.findall(r"```python\n(.*?)```", step.prompt, re.S)
        assert all(len(line) <= 76 for block in code for line in block.splitlines())


# --- played with the model answers: all correct ----------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_model_answers_are_all_correct(name):
    rep = report(name)
    wrong = [(r["index"], r["verdict"], r["feedback"]) for r in rep["steps"]]
    wrong = [w for w in wrong if w[1] not in ("correct", "shown")]
    assert wrong == []
    assert rep["correct"] == rep["total"] > 0


def test_check_command_plays_a_lesson_in_a_subprocess(tmp_path):
    name = file_named("03-")
    answers = tmp_path / "answers.yaml"
    answers.write_text(yaml.safe_dump(model_answers(lesson(name))), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "autograd_tutor", "check", str(COURSE / name), "--answers", str(answers), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["lesson"] == lesson(name).id
    assert out["correct"] == out["total"] == report(name)["total"]
    assert [r["verdict"] for r in out["steps"]] == [r["verdict"] for r in report(name)["steps"]]


# --- each listed mistake: wrong, with its own feedback ------------------------------


def _mistake_cases() -> list:
    cases = []
    for name in NAMES:
        for step in lesson(name).steps:
            for j, mistake in enumerate(step.mistakes):
                cases.append(pytest.param(name, step.index, j, id=f"{name}:{step.index}:{mistake.answer}"))
    return cases


@pytest.mark.parametrize(("name", "index", "j"), _mistake_cases())
def test_listed_mistake_gets_its_feedback(name, index, j):
    les = lesson(name)
    mistake = les.steps[index].mistakes[j]
    answers = model_answers(les)
    answers[index] = mistake.answer
    rep = play(les, answers)
    row = rep["steps"][index]
    assert row["verdict"] == "wrong"
    assert row["feedback"] == mistake.feedback
    others = [r["verdict"] for r in rep["steps"] if r["index"] != index and r["verdict"] != "shown"]
    assert set(others) <= {"correct"}


def test_every_lesson_lists_some_mistakes():
    for name in NAMES:
        assert any(step.mistakes for step in lesson(name).steps), name


# --- the notebooks' numbers are the truths of the matching steps ----------------------


def _close(expected, value) -> bool:
    if isinstance(value, list):
        return isinstance(expected, list) and len(expected) == len(value) and all(map(_close, expected, value))
    return isinstance(expected, int | float) and math.isclose(expected, value, rel_tol=0, abs_tol=NOTEBOOK_TOLERANCE)


NOTEBOOK_NUMBERS = [
    # (file prefix, step kind, step target, the number the notebook prints)
    ("01-", "gradient", "x", 4.0),
    ("01-", "predict", "x.grad", 4.0),
    ("01-", "predict", "x.grad", 6.0),
    ("02-", "gradient", "x", 20.0),
    ("02-", "predict", "x.grad", 20.0),
    ("03-", "gradient", "x", -7.6613),
    ("03-", "predict", "x.grad", -7.6613),
    ("05-", "forward", "loss", 6.7012),
    ("05-", "gradient", "w", 6.6918),
    ("05-", "gradient", "b", 0.9988),
    ("05-", "predict", "w.grad", 6.6918),
    ("05-", "predict", "b.grad", 0.9988),
    ("06-", "forward", "loss", 3.4328),
    ("06-", "gradient", "w", 3.2902),
    ("06-", "gradient", "b", 0.9677),
    ("07-", "forward", "loss", 0.0237),
    ("07-", "gradient", "w", -0.0874),
    ("07-", "gradient", "b", -0.0234),
    ("08-", "forward", "y", 4.6667),
    ("08-", "gradient", "x", [0.6667, 1.3333, 2.0]),
    ("08-", "predict", "x.grad", [0.6667, 1.3333, 2.0]),
]


@pytest.mark.parametrize(("prefix", "kind", "target", "value"), NOTEBOOK_NUMBERS)
def test_notebook_number_is_the_truth_of_a_step(prefix, kind, target, value):
    rows = [r for r in report(file_named(prefix))["steps"] if r["kind"] == kind and r["target"] == target]
    assert rows, f"no {kind} step on {target}"
    assert any(_close(r["expected"], value) for r in rows), [r["expected"] for r in rows]


def test_float16_lesson_is_in_float16():
    assert lesson(file_named("02-")).spec.dtype == "float16"


def test_neuron_lessons_model_the_notebook():
    for prefix, x, y in (("05-", 6.7, 0.0), ("06-", 3.4, 0.0), ("07-", 3.73, 1.0)):
        spec = lesson(file_named(prefix)).spec
        assert spec.nodes == {
            "z": "w*x + b",
            "y_pred": "sigmoid(z)",
            "loss": "bce(clamp(y_pred, 1e-8, 1 - 1e-8), y)",
        }
        assert (spec.inputs["x"].value, spec.inputs["y"].value) == (x, y)
        assert (spec.inputs["w"].value, spec.inputs["b"].value) == (1.0, 0.0)
        targets = {(r["kind"], json.dumps(r["target"])) for r in report(file_named(prefix))["steps"]}
        for edge in (["loss", "y_pred"], ["y_pred", "z"], ["z", "w"], ["z", "b"]):
            assert ("local", json.dumps(edge)) in targets, (prefix, edge)


def test_every_grad_fn_name_is_the_truth_of_a_predict_step():
    truths = {
        r["expected"]
        for name in NAMES
        for r in report(name)["steps"]
        if r["kind"] == "predict" and r["target"].endswith(".grad_fn")
    }
    assert set(GRAD_FN_NAMES) <= truths


def test_turning_tracking_off_raises_the_notebook_error():
    les = lesson(file_named("11-"))
    session = LessonSession(les)
    kinds = set()
    for step in les.steps:
        if step.kind != "run" or session.truth(step.index).expected != "error":
            continue
        ops = {"no_grad" if getattr(op, "forward", None) == "no_grad" else op.key for op in step.target}
        assert NO_GRAPH in session.truth(step.index).message
        kinds |= ops & {"requires_grad", "detach", "no_grad"}
    assert kinds == {"requires_grad", "detach", "no_grad"}


def test_non_leaf_grad_is_none_until_retain_grad():
    rows = [r for r in report(file_named("10-"))["steps"] if r["kind"] == "predict" and r["target"] == "y.grad"]
    assert [r["expected"] is None for r in rows] == [True, False]


def test_gradients_accumulate_and_zero_clears():
    rows = [r["expected"] for r in report(file_named("09-"))["steps"] if r["target"] == "x.grad"]
    assert rows[:2] == [6.0, 12.0]
    assert 0.0 in rows
