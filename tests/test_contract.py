"""The lesson format, version 1, as its contract (docs/lesson-format.md) states it: one lesson
that uses every field, every step kind and every run operation, checked through
`validate`, `steps` and `check` exactly as the contract describes them."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import yaml
from conftest import lesson_text, load_fixture, question, session

from autograd_tutor.cli import main
from autograd_tutor.lesson.loader import load
from autograd_tutor.session import LessonSession
from autograd_tutor.validate import validate

EVERYTHING = """\
format: 1
id: contract-every-field
title: Every field of the lesson format
summary: One lesson that uses every field of format 1.
level: 3
tags: [contract, chain-rule, vector]
intro: |
  We compute `z = sin(y) + mean(v*y)` with `y = x**2 + t`.
dtype: float64
tolerance: {rtol: 0.001, atol: 0.00001}
inputs:
  x: {value: 2.0, requires_grad: true}
  t: 0.0
  v: {value: [1.0, 2.0, 3.0], requires_grad: true}
nodes:
  y: x**2 + t
  q: v*y
  s: mean(q)
  z: sin(y) + s
output: z
steps:
  - explain: "First the **forward** pass."
  - forward: y
    ask: false
  - forward: q
    answer: "[4, 8, 12]"
  - forward: z
    prompt: What is `z`?
    hint: [Compute y first., "z = sin(4) + mean(v)*4"]
    explain: sin(4) + 8.
    answer: sin(4) + 8
    mistakes:
      - {answer: sin(4), feedback: You forgot s.}
  - local: [z, y]
    hint: Only z's own expression.
    answer: cos(y)
    mistakes:
      - {answer: cos(y) + 2, feedback: "s is an argument of z too: hold it fixed."}
  - local: [s, q]
    answer: 1/3
  - local: [q, v]
    answer: y
  - local: [q, y]
    answer: v
  - gradient: x
    answer: 2*x*(cos(y) + mean(v))
    mistakes:
      - {answer: 2*x*cos(y), feedback: y reaches z along two paths.}
  - gradient: v
    answer: y/3
  - gradient: t
    answer: cos(y) + mean(v)
  - run: [{retain_grad: y}, {backward: retain_graph}]
    ask: outcome
    answer: ok
  - predict: y.grad
    answer: cos(4) + 2
  - predict: x.grad
    answer: 4*(cos(4) + 2)
  - run: [backward]
  - predict: x.grad
    answer: 8*(cos(4) + 2)
    mistakes:
      - {answer: 4*(cos(4) + 2), feedback: backward() adds to .grad.}
  - run: [{zero_grad: x}]
  - predict: x.grad
    answer: 0
  - run: [backward]
    ask: outcome
    answer: error
  - predict: t.grad
    answer: None
  - predict: y.is_leaf
    answer: False
  - predict: y.grad_fn
    answer: AddBackward0
  - predict: s.grad_fn
    answer: MeanBackward0
  - run: [{set: {x: 3.0}}, forward, backward]
    ask: outcome
    answer: ok
  - predict: x.grad
    answer: 2*x*(cos(x**2) + 2)
  - predict: z
    answer: sin(9) + 18
  - run: [{forward: no_grad}, backward]
    ask: outcome
    answer: error
  - predict: z.requires_grad
    answer: "False"
  - run: [{requires_grad: {v: false}}, {detach: x}, forward, backward]
    ask: outcome
    answer: error
  - predict: x.requires_grad
    answer: "False"
  - predict: x.is_leaf
    answer: "True"
  - explain: Done.
"""

KINDS = [
    ("explain", None),
    ("forward", "y"),
    ("forward", "q"),
    ("forward", "z"),
    ("local", ["z", "y"]),
    ("local", ["s", "q"]),
    ("local", ["q", "v"]),
    ("local", ["q", "y"]),
    ("gradient", "x"),
    ("gradient", "v"),
    ("gradient", "t"),
    ("run", [{"retain_grad": "y"}, {"backward": "retain_graph"}]),
    ("predict", "y.grad"),
    ("predict", "x.grad"),
    ("run", ["backward"]),
    ("predict", "x.grad"),
    ("run", [{"zero_grad": "x"}]),
    ("predict", "x.grad"),
    ("run", ["backward"]),
    ("predict", "t.grad"),
    ("predict", "y.is_leaf"),
    ("predict", "y.grad_fn"),
    ("predict", "s.grad_fn"),
    ("run", [{"set": {"x": 3.0}}, "forward", "backward"]),
    ("predict", "x.grad"),
    ("predict", "z"),
    ("run", [{"forward": "no_grad"}, "backward"]),
    ("predict", "z.requires_grad"),
    ("run", [{"requires_grad": {"v": False}}, {"detach": "x"}, "forward", "backward"]),
    ("predict", "x.requires_grad"),
    ("predict", "x.is_leaf"),
    ("explain", None),
]
NO_ANSWER = {0, 1, 14, 16, 31}  # explain, forward with ask: false, run steps without ask: outcome


@pytest.fixture(scope="module")
def lesson_file(tmp_path_factory) -> Path:
    file = tmp_path_factory.mktemp("contract") / "every-field.yaml"
    file.write_text(EVERYTHING)
    return file


@pytest.fixture(scope="module")
def model_answers(lesson_file) -> list:
    steps = yaml.safe_load(lesson_file.read_text())["steps"]
    return [None if i in NO_ANSWER else step.get("answer") for i, step in enumerate(steps)]


def write_answers(tmp_path: Path, answers: list) -> Path:
    file = tmp_path / "answers.yaml"
    file.write_text(yaml.safe_dump(answers))
    return file


def run_check(capsys, lesson: Path, answers: Path) -> tuple[int, dict]:
    code = main(["check", str(lesson), "--answers", str(answers), "--json"])
    return code, json.loads(capsys.readouterr().out)


# --- the lesson file ---------------------------------------------------------------------------------


def test_every_field_is_read(lesson_file):
    lesson = load(lesson_file)
    spec, comp = lesson.spec, lesson.computation
    assert (spec.format, spec.id, spec.title) == (1, "contract-every-field", "Every field of the lesson format")
    assert spec.summary == "One lesson that uses every field of format 1."
    assert spec.level == 3 and spec.tags == ["contract", "chain-rule", "vector"]
    assert spec.intro.startswith("We compute `z = sin(y) + mean(v*y)`")
    assert comp.dtype == "float64"
    assert spec.tolerances() == (0.001, 0.00001)
    assert {n: v.tolist() for n, v in comp.inputs.items()} == {"x": 2.0, "t": 0.0, "v": [1.0, 2.0, 3.0]}
    assert comp.requires_grad == {"x": True, "t": False, "v": True}  # `t: 0.0` is the shorthand
    assert list(comp.nodes) == ["y", "q", "s", "z"] and comp.output == "z"
    assert [(s.kind, s.target_json()) for s in lesson.steps] == KINDS


def test_it_validates_with_only_the_gradient_of_t_warned(lesson_file, capsys):
    line = EVERYTHING.splitlines().index("  - gradient: t") + 1
    col = len("  - gradient: ") + 1
    problems = validate([lesson_file])
    assert [(p.severity, p.line, p.col) for p in problems] == [("warning", line, col)]
    assert "t" in problems[0].message
    assert main(["validate", str(lesson_file)]) == 0
    assert capsys.readouterr().out == f"{lesson_file}:{line}:{col}: warning: {problems[0].message}\n"


def test_steps_json(lesson_file, capsys):
    assert main(["steps", str(lesson_file), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["kind"], r["target"]) for r in rows] == KINDS
    assert [r["index"] for r in rows] == list(range(len(KINDS)))
    assert rows[0]["prompt"] == "First the **forward** pass."
    assert rows[3]["prompt"] == "What is `z`?"
    assert "x.grad.zero_()" in rows[16]["prompt"]
    assert "z.backward(retain_graph=True)" in rows[11]["prompt"] and "y.retain_grad()" in rows[11]["prompt"]
    assert "x = x.detach()" in rows[28]["prompt"] and "v.requires_grad_(False)" in rows[28]["prompt"]
    assert "with torch.no_grad():" in rows[26]["prompt"]
    assert "x = torch.tensor(3.0" in rows[23]["prompt"]


def test_check_with_the_model_answers(lesson_file, model_answers, tmp_path, capsys):
    code, report = run_check(capsys, lesson_file, write_answers(tmp_path, model_answers))
    verdicts = [s["verdict"] for s in report["steps"]]
    assert verdicts == ["shown" if i in NO_ANSWER else "correct" for i in range(len(KINDS))], report
    assert code == 0
    assert report["lesson"] == "contract-every-field"
    assert report["total"] == report["correct"] == len(KINDS) - len(NO_ANSWER)
    expected = [s["expected"] for s in report["steps"]]
    assert expected[0] is None and expected[31] is None
    assert expected[1] == 4.0
    assert expected[2] == [4.0, 8.0, 12.0]
    assert expected[3] == pytest.approx(math.sin(4) + 8)
    assert expected[5] == pytest.approx([1 / 3] * 3)
    assert expected[6] == [4.0, 4.0, 4.0]
    assert expected[7] == [1.0, 2.0, 3.0]
    assert expected[8] == pytest.approx(4 * (math.cos(4) + 2))
    assert expected[9] == pytest.approx([4 / 3] * 3)
    assert expected[11] == "ok" and expected[18] == "error"
    assert expected[13] == pytest.approx(4 * (math.cos(4) + 2))
    assert expected[14] == "ok"
    assert expected[15] == pytest.approx(8 * (math.cos(4) + 2))
    assert expected[17] == 0.0
    assert expected[19:23] == [None, False, "AddBackward0", "MeanBackward0"]
    assert expected[24] == pytest.approx(6 * (math.cos(9) + 2))
    assert expected[25] == pytest.approx(math.sin(9) + 18)
    assert expected[26:30] == ["error", False, "error", False]
    assert expected[30] is True


def test_check_with_the_authored_mistakes(lesson_file, model_answers, tmp_path, capsys):
    answers = list(model_answers)
    answers[3] = "sin(4)"
    answers[4] = "cos(y) + 2"
    answers[8] = "2*x*cos(y)"
    answers[15] = "4*(cos(4) + 2)"
    code, report = run_check(capsys, lesson_file, write_answers(tmp_path, answers))
    assert code == 1
    steps = report["steps"]
    assert [(i, steps[i]["verdict"], steps[i]["feedback"]) for i in (3, 4, 8, 15)] == [
        (3, "wrong", "You forgot s."),
        (4, "wrong", "s is an argument of z too: hold it fixed."),
        (8, "wrong", "y reaches z along two paths."),
        (15, "wrong", "backward() adds to .grad."),
    ]
    assert report["correct"] == report["total"] - 4


def test_run_operations_are_performed_whatever_the_prediction(lesson_file, model_answers, tmp_path, capsys):
    answers = list(model_answers)
    answers[11] = "error"  # wrong: it runs
    answers[18] = None  # skipped: it raises all the same
    answers[23] = "maybe"  # invalid
    code, report = run_check(capsys, lesson_file, write_answers(tmp_path, answers))
    steps = report["steps"]
    assert [steps[i]["verdict"] for i in (11, 18, 23)] == ["wrong", "skipped", "invalid"]
    assert all(steps[i]["verdict"] == "correct" for i in (12, 13, 15, 17, 19, 24, 25))
    assert code == 1


# --- the session behind check: hints, explain, prompt ---------------------------------------------------


def test_session_fields(lesson_file):
    sess = LessonSession(load(lesson_file))
    assert sess.engine.native is sess.engine.truth  # a float64 lesson
    for _ in range(3):
        sess.advance()
    step = sess.step
    assert step.prompt == "What is `z`?" and step.explain == "sin(4) + 8."
    assert sess.hint() == "Compute y first."
    assert sess.hint() == "z = sin(4) + mean(v)*4"
    assert sess.hint() is None
    assert sess.reveal().answer == "sin(4) + 8"
    sess.advance()
    assert sess.hints() == ("Only z's own expression.",)


# --- defaults of the contract ---------------------------------------------------------------------------


def test_without_steps_the_automatic_sequence():
    text = EVERYTHING.split("steps:\n")[0].replace("output: z\n", "")
    lesson = lesson_text(text)
    assert lesson.computation.output == "z"  # default: the last node
    assert [(s.kind, s.target_json()) for s in lesson.steps] == [
        ("forward", "y"),
        ("forward", "q"),
        ("forward", "s"),
        ("forward", "z"),
        ("local", ["z", "y"]),  # a node's arguments in order of first appearance
        ("local", ["z", "s"]),
        ("local", ["s", "q"]),
        ("local", ["q", "v"]),
        ("local", ["q", "y"]),
        ("local", ["y", "x"]),
        ("local", ["y", "t"]),
        ("gradient", "x"),  # inputs with requires_grad, in the order of `inputs`
        ("gradient", "v"),
    ]
    assert all(s.takes_answer for s in lesson.steps)


def test_defaults_dtype_and_requires_grad():
    lesson = lesson_text(
        """
        format: 1
        id: defaults
        title: Defaults
        inputs:
          x: {value: 1.0}
        nodes:
          y: exp(x)
        """
    )
    assert lesson.computation.dtype == "float32"
    assert lesson.computation.requires_grad == {"x": False}
    assert lesson.spec.tolerances() == (5e-3, 5e-5)
    assert [s.kind for s in lesson.steps] == ["forward", "local"]  # no input requires grad: no gradient step


def test_default_tolerance_relative_and_absolute():
    q = question(session("chain"), "gradient", "x")
    truth = q.expected
    assert q.grade(repr(float(truth * (1 + 0.0049)))).correct
    assert not q.grade(repr(float(truth * (1 + 0.0051)))).correct
    small = lesson_text(
        """
        format: 1
        id: small
        title: A tiny value
        inputs:
          x: {value: 0.001, requires_grad: true}
        nodes:
          y: x**3
        """
    )
    # the absolute tolerance shrinks with the lesson's scale: 1e-9 is not 0 when x is 1e-3
    forward = question(LessonSession(small), "forward", "y")
    assert forward.grade("1e-9").correct and forward.grade("0.000000001").correct
    for wrong in ("0", "0.00004", "2e-9"):
        assert not forward.grade(wrong).correct, wrong
    gradient = question(LessonSession(small), "gradient", "x")  # 3e-6
    assert gradient.grade("3*x**2").correct and not gradient.grade("0").correct


def test_float16_lessons_are_looser():
    fp16 = question(session("square-fp16"), "forward", "y")  # 100
    fp32 = question(session("square"), "forward", "y")  # 4
    assert fp16.grade("100.8").correct
    assert not fp32.grade("4.032").correct
    assert load_fixture("square-fp16").spec.tolerances()[0] > load_fixture("square").spec.tolerances()[0]


def test_a_gradient_step_on_an_input_without_requires_grad_is_the_mathematics():
    q = question(session("neuron-1"), "local", ["loss", "y"])
    assert q.expected == pytest.approx(-6.7, rel=1e-9)  # torch autograd whatever requires_grad says


def test_a_number_expression_without_names():
    q = question(session("two-paths"), "local", ["b", "x"])
    assert q.grade("cos(1.5)").correct
    assert q.grade("cos(1.5)*1").correct
    assert not q.grade("cos(1.5)*3").correct


def test_the_contract_example_of_check_json(tmp_path, capsys):
    lesson = load_fixture("chain")
    answers = write_answers(tmp_path, ["16", "sin(16)", "cos(y)", "2*x", "-7"])
    code, report = run_check(capsys, Path(lesson.file), answers)
    assert code == 1
    assert report["lesson"] == "chain-rule-sin-square"
    assert (report["correct"], report["total"]) == (4, 5)
    assert report["steps"][0] == {
        "index": 0,
        "kind": "forward",
        "target": "y",
        "answer": "16",
        "verdict": "correct",
        "expected": 16.0,
        "feedback": "",
        "diagnosis": None,
    }
    assert report["variant"] == 0
    assert report["steps"][4]["diagnosis"] is None  # -7 for -7.6613: no cause holds


def test_gradient_of_a_node_and_of_the_output():
    lesson = lesson_text(
        """
        format: 1
        id: node-gradients
        title: Gradients of nodes
        inputs:
          x: {value: 4.0, requires_grad: true}
        nodes:
          y: x**2
          z: sin(y)
        steps:
          - gradient: y
            answer: cos(y)
          - gradient: z
            answer: "1"
        """
    )
    sess = LessonSession(lesson)
    assert sess.expected(0) == pytest.approx(math.cos(16.0))
    assert sess.expected(1) == 1.0
    assert sess.question(0).grade("cos(x**2)").correct
    assert sess.question(1).grade("1").correct


def test_the_contract_example_of_a_coincidence():
    lesson = lesson_text(
        """
        format: 1
        id: coincidence
        title: x + 1.5 is not 2*x
        inputs:
          x: {value: 1.5, requires_grad: true}
        nodes:
          y: x**2
        """
    )
    sess = LessonSession(lesson)
    q = question(sess, "local", ["y", "x"])
    assert q.grade("2*x").correct
    assert q.grade("3").correct  # a number is judged here only
    verdict = q.grade("x + 1.5")
    assert verdict.status == "wrong" and verdict.diagnosis == "coincidence"
    assert question(sess, "gradient", "x").grade("x + 1.5").diagnosis == "coincidence"
