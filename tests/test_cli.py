"""The `autograd-tutor` command: check, steps, schema, validate's exit codes, --help."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import jsonschema
import pytest
import yaml
from conftest import BROKEN, LESSONS

from autograd_tutor.cli import main

STEP_KEYS = {"index", "kind", "target", "answer", "verdict", "expected", "feedback", "diagnosis"}


def answers_file(tmp_path: Path, answers: list, name: str = "answers.yaml") -> Path:
    file = tmp_path / name
    file.write_text(yaml.safe_dump(answers, allow_unicode=True))
    return file


def check_json(capsys, lesson: Path, answers: Path) -> tuple[int, dict]:
    code = main(["check", str(lesson), "--answers", str(answers), "--json"])
    out = capsys.readouterr().out
    return code, json.loads(out)


def write(tmp_path: Path, text: str, name: str = "lesson.yaml") -> Path:
    file = tmp_path / name
    file.write_text(textwrap.dedent(text).lstrip("\n"))
    return file


# --- check --------------------------------------------------------------------------------------------


def test_check_json_through_the_installed_command(tmp_path, cli):
    answers = answers_file(tmp_path, ["16", "sin(16)", "cos(y)", "2*x", "2*x*cos(x**2)"])
    result = cli("check", LESSONS / "chain.yaml", "--answers", answers, "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert set(report) == {"lesson", "variant", "correct", "total", "steps"}
    assert report["lesson"] == "chain-rule-sin-square"
    assert (report["correct"], report["total"]) == (5, 5)
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
    assert [s["target"] for s in report["steps"]] == ["y", "z", ["z", "y"], ["y", "x"], "x"]
    assert report["steps"][4]["expected"] == pytest.approx(-7.6613, abs=5e-5)


def test_check_every_verdict(tmp_path, capsys):
    # square.yaml: forward y, local [y, x], gradient x, run, predict x.grad, run, predict x.grad, predict y.grad_fn
    answers = answers_file(tmp_path, ["4", "x + 2", "2 x", None, None, "ignored", 6, "SinBackward0"])
    code, report = check_json(capsys, LESSONS / "square.yaml", answers)
    assert code == 1
    steps = report["steps"]
    assert all(set(s) == STEP_KEYS for s in steps)
    assert [s["index"] for s in steps] == list(range(8))
    assert [s["verdict"] for s in steps] == [
        "correct",
        "wrong",
        "invalid",
        "shown",
        "skipped",
        "shown",
        "correct",
        "wrong",
    ]
    assert steps[1]["feedback"] and "formula" in steps[1]["feedback"]  # x + 2 is right only at x = 2
    assert "missing operator" in steps[2]["feedback"]
    assert steps[3]["answer"] is None and steps[5]["answer"] is None  # a run step takes no answer
    assert steps[6]["answer"] == "6"
    assert steps[7]["expected"] == "PowBackward0"
    assert steps[4]["expected"] == 4.0
    assert steps[5]["target"] == [{"zero_grad": "x"}, {"set": {"x": 3.0}}, "forward", "backward"]
    assert (report["correct"], report["total"]) == (2, 6)


def test_check_expected_as_json_types(tmp_path, capsys):
    answers = answers_file(tmp_path, [None] * 7)
    code, report = check_json(capsys, LESSONS / "grad-fn.yaml", answers)
    assert code == 1
    assert [s["expected"] for s in report["steps"]][-2:] == ["MeanBackward0", None]
    assert all(s["verdict"] == "skipped" for s in report["steps"])
    answers = answers_file(tmp_path, [None] * 5)
    _, report = check_json(capsys, LESSONS / "mean.yaml", answers)
    assert report["steps"][0]["expected"] == [1.0, 4.0, 9.0]
    assert report["steps"][4]["expected"] == pytest.approx([2 / 3, 4 / 3, 2.0])


def test_check_answers_as_yaml_numbers_and_lists(tmp_path, capsys):
    answers = answers_file(tmp_path, [[1, 4, 9], 4.6667, [0.3333, 0.3333, 0.3333], "2*x", [0.6667, 1.3333, 2]])
    code, report = check_json(capsys, LESSONS / "mean.yaml", answers)
    assert code == 0, report
    assert report["steps"][1]["answer"] == "4.6667"


def test_check_run_outcomes_and_torch_messages(tmp_path, capsys):
    answers = answers_file(tmp_path, ["ok", "None", "error", "False", "error", "False", "ok"])
    code, report = check_json(capsys, LESSONS / "no-tracking.yaml", answers)
    steps = report["steps"]
    assert [s["verdict"] for s in steps] == ["wrong", "correct", "correct", "correct", "correct", "correct", "correct"]
    assert code == 1
    assert steps[0]["expected"] == "error"
    assert steps[0]["feedback"]


def test_check_shown_run_step_carries_torchs_message(tmp_path, capsys):
    lesson = write(
        tmp_path,
        """
        format: 1
        id: twice
        title: Backward twice
        inputs:
          x: {value: 2.0, requires_grad: true}
        nodes:
          y: x**2
        steps:
          - run: [backward, backward]
          - predict: x.grad
        """,
    )
    code, report = check_json(capsys, lesson, answers_file(tmp_path, [None, "4"]))
    assert code == 0
    shown = report["steps"][0]
    assert shown["verdict"] == "shown" and shown["expected"] == "error"
    assert "backward through the graph a second time" in shown["feedback"]


def test_check_text_output(tmp_path, capsys):
    answers = answers_file(tmp_path, ["16", "-0.2879", "-cos(y)", "2*x", None])
    assert main(["check", str(LESSONS / "chain.yaml"), "--answers", str(answers)]) == 1
    out = capsys.readouterr().out
    assert "3/5 correct" in out
    assert "The derivative of sin is cos, not −cos." in out


def test_check_exit_2_for_an_invalid_lesson(tmp_path, capsys):
    answers = answers_file(tmp_path, ["1"])
    code = main(["check", str(BROKEN / "unknown-name.yaml"), "--answers", str(answers), "--json"])
    assert code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    file = BROKEN / "unknown-name.yaml"
    assert captured.err.splitlines() == [f"{file}:9:15: error: unknown name 'q' (names here: x, y)"]


def test_check_exit_2_through_the_installed_command(tmp_path, cli):
    answers = answers_file(tmp_path, ["1"])
    result = cli("check", BROKEN / "yaml-syntax.yaml", "--answers", answers, "--json")
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith(f"{BROKEN / 'yaml-syntax.yaml'}:5:9: error: YAML")
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("name, answers", [("answer-wrong.yaml", ["4"]), ("non-finite-float16.yaml", ["1", "1", "1"])])
def test_check_exit_2_for_a_lesson_that_validate_rejects(tmp_path, capsys, name, answers):
    code = main(["check", str(BROKEN / name), "--answers", str(answers_file(tmp_path, answers)), "--json"])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"{BROKEN / name}:") and ": error: " in err


def test_check_a_wrong_answer_to_a_jacobian_factor(tmp_path, capsys):
    lesson = LESSONS / "jacobian.yaml"  # automatic steps: forward v, forward y, local [y, v], local [v, x], gradient x
    code, report = check_json(capsys, lesson, answers_file(tmp_path, [None, None, None, "6", None]))
    assert code == 1
    assert report["steps"][3]["target"] == ["v", "x"] and report["steps"][3]["verdict"] == "wrong"


@pytest.mark.parametrize(
    "content, fragment",
    [
        ("- 16\n- 1\n", "1:1: error: 2 answers for a lesson of 5 steps"),
        ("answer: 16\n", "1:1: error: expected a YAML list"),
        ("- [16\n", "2:1: error: YAML: "),
        ("- {a: 1}\n- 1\n- 1\n- 1\n- 1\n", "1:3: error: answer 0"),
    ],
)
def test_check_exit_2_for_a_malformed_answers_file(tmp_path, capsys, content, fragment):
    answers = tmp_path / "answers.yaml"
    answers.write_text(content)
    code = main(["check", str(LESSONS / "chain.yaml"), "--answers", str(answers), "--json"])
    assert code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"{answers}:{fragment}")


def test_check_exit_2_for_a_missing_answers_file(tmp_path, capsys):
    assert main(["check", str(LESSONS / "chain.yaml"), "--answers", str(tmp_path / "none.yaml")]) == 2
    assert "none.yaml: error: " in capsys.readouterr().err


# --- steps ----------------------------------------------------------------------------------------------

EVERY_KIND = """
format: 1
id: every-kind
title: Every kind of step
inputs:
  x: {value: 2.0, requires_grad: true}
nodes:
  y: x**2
  z: sin(y)
steps:
  - explain: "The graph: y = x², z = sin(y)."
  - forward: y
  - local: [z, y]
  - gradient: x
  - run: [backward, {zero_grad: x}, {set: {x: 3.0}}, {requires_grad: {x: false}}, {forward: no_grad}]
  - predict: x.grad
  - predict: y
"""


def test_steps_json_targets_per_kind(tmp_path, capsys):
    lesson = write(tmp_path, EVERY_KIND)
    assert main(["steps", str(lesson), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert all(set(r) == {"index", "kind", "target", "prompt"} for r in rows)
    assert [(r["index"], r["kind"], r["target"]) for r in rows] == [
        (0, "explain", None),
        (1, "forward", "y"),
        (2, "local", ["z", "y"]),
        (3, "gradient", "x"),
        (
            4,
            "run",
            [
                "backward",
                {"zero_grad": "x"},
                {"set": {"x": 3.0}},
                {"requires_grad": {"x": False}},
                {"forward": "no_grad"},
            ],
        ),
        (5, "predict", "x.grad"),
        (6, "predict", "y"),
    ]
    assert all(isinstance(r["prompt"], str) and r["prompt"] for r in rows)
    assert rows[0]["prompt"] == "The graph: y = x², z = sin(y)."
    assert "x.grad.zero_()" in rows[4]["prompt"] and "with torch.no_grad():" in rows[4]["prompt"]


def test_steps_automatic_sequence_of_the_contract(tmp_path, capsys):
    lesson = write(
        tmp_path,
        """
        format: 1
        id: contract-example
        title: The contract's example
        inputs:
          w: {value: 0.5, requires_grad: true}
          x: 3.0
        nodes:
          z: w*x
          y: z**2
        output: y
        """,
    )
    assert main(["steps", str(lesson), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["kind"], r["target"]) for r in rows] == [
        ("forward", "z"),
        ("forward", "y"),
        ("local", ["y", "z"]),
        ("local", ["z", "w"]),
        ("local", ["z", "x"]),
        ("gradient", "w"),
    ]
    assert [r["index"] for r in rows] == list(range(6))


def test_steps_through_the_installed_command(cli):
    result = cli("steps", LESSONS / "neuron-1.yaml", "--json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [(r["kind"], r["target"]) for r in rows] == [
        ("forward", "z"),
        ("forward", "y_pred"),
        ("forward", "loss"),
        ("local", ["loss", "y_pred"]),
        ("local", ["loss", "y"]),
        ("local", ["y_pred", "z"]),
        ("local", ["z", "w"]),
        ("local", ["z", "x"]),
        ("local", ["z", "b"]),
        ("gradient", "w"),
        ("gradient", "b"),
    ]


def test_steps_text_output_and_invalid_lesson(capsys):
    assert main(["steps", str(LESSONS / "chain.yaml")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 5 and "forward" in out[0] and '"y"' in out[0]
    assert main(["steps", str(BROKEN / "caret.yaml"), "--json"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and f"{BROKEN / 'caret.yaml'}:8:7: error: " in captured.err


# --- schema ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def schema() -> dict:
    from autograd_tutor.lesson.model import json_schema

    return json_schema()


def test_schema_prints_a_valid_json_schema(capsys, schema):
    assert main(["schema"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == schema
    jsonschema.Draft202012Validator.check_schema(printed)
    assert {"format", "id", "title", "inputs", "nodes"} <= set(printed["required"])


@pytest.mark.parametrize("file", sorted(LESSONS.glob("*.yaml")), ids=lambda p: p.stem)
def test_fixture_lessons_satisfy_the_schema(schema, file):
    jsonschema.validate(yaml.safe_load(file.read_text()), schema, cls=jsonschema.Draft202012Validator)


@pytest.mark.parametrize(
    "name", ["schema-format.yaml", "schema-bad-dtype.yaml", "schema-unknown-field.yaml", "schema-missing-field.yaml"]
)
def test_schema_rejects_schema_errors(schema, name):
    data = yaml.safe_load((BROKEN / name).read_text())
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, schema, cls=jsonschema.Draft202012Validator)


# --- help -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["check", "validate", "steps", "schema"])
def test_help_of_each_command_shows_examples(command, capsys):
    with pytest.raises(SystemExit) as info:
        main([command, "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "examples:" in out
    assert f"autograd-tutor {command}" in out


def test_python_dash_m_help():
    result = subprocess.run(
        [sys.executable, "-m", "autograd_tutor", "--help"], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "usage: autograd-tutor" in result.stdout
    for command in ("check", "validate", "steps", "schema"):
        assert command in result.stdout


def test_installed_command_help(cli):
    result = cli("check", "--help")
    assert result.returncode == 0
    assert "examples:" in result.stdout and "--answers" in result.stdout
