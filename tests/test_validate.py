"""`validate`: one broken lesson per error kind of the contract, each reported once,
at FILE:LINE:COL, with a message; warnings; libraries with broken and valid lessons.

Each file in tests/broken/ states what it expects on its first line:
    # expect: LINE:COL message fragment
and, for a known engine bug, on its second line one of
    # xfail: BUG: ...        (the problem is reported, but not at its place)
    # xfail-all: BUG: ...    (the problem is not reported at all)
"""

from __future__ import annotations

import os
import re
import shutil
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import BROKEN, LESSONS

from autograd_tutor.cli import main
from autograd_tutor.lesson.loader import library, load
from autograd_tutor.lesson.problems import LessonInvalid
from autograd_tutor.validate import validate

EXPECT = re.compile(r"# expect: (\d+):(\d+) (.+)")


@dataclass(frozen=True)
class Case:
    target: Path  # what validate is given: a file or a directory
    file: Path  # the file the problem is in
    line: int
    col: int
    fragment: str
    xfail: str | None
    xfail_all: bool = False


def _cases() -> list[Case]:
    cases = []
    for target in sorted(BROKEN.iterdir()):
        files = sorted(target.glob("*.yaml")) if target.is_dir() else [target]
        for file in files:
            head = file.read_bytes().decode("utf-8", "replace").splitlines()[:2]  # not-utf8.yaml is not
            m = EXPECT.fullmatch(head[0]) if head else None
            if m is None:
                continue
            second = head[1] if len(head) > 1 else ""
            xfail = re.sub(r"^# xfail(-all)?: ", "", second) if second.startswith("# xfail") else None
            cases.append(Case(target, file, int(m[1]), int(m[2]), m[3], xfail, second.startswith("# xfail-all:")))
    return cases


CASES = _cases()


def _param(case: Case, xfail_here: bool):
    marks = [pytest.mark.xfail(strict=True, reason=case.xfail)] if case.xfail and xfail_here else []
    return pytest.param(case, id=case.target.name, marks=marks)


def test_every_broken_file_states_its_expectation():
    stated = {c.target for c in CASES}
    assert stated == set(BROKEN.iterdir())
    assert len(CASES) >= 28


def _errors(case: Case):
    problems = validate([case.target])
    return [p for p in problems if p.severity == "error"]


@pytest.mark.parametrize("case", [_param(c, xfail_here=c.xfail_all) for c in CASES])
def test_broken_lesson_reports_its_one_problem(case):
    errors = _errors(case)
    assert len(errors) == 1, [str(p) for p in errors]
    problem = errors[0]
    assert problem.file == str(case.file)
    assert case.fragment in problem.message
    assert re.fullmatch(rf"{re.escape(str(case.file))}:\d+:\d+: error: .+", str(problem))


@pytest.mark.parametrize("case", [_param(c, xfail_here=True) for c in CASES])
def test_broken_lesson_reports_it_at_its_place(case):
    errors = _errors(case)
    assert [(p.line, p.col) for p in errors] == [(case.line, case.col)], [str(p) for p in errors]
    problem = errors[0]
    assert str(problem) == f"{case.file}:{case.line}:{case.col}: error: {problem.message}"


@pytest.mark.parametrize("name", ["unknown-name.yaml", "yaml-syntax.yaml", "answer-wrong.yaml", "duplicate-ids"])
def test_cli_exits_1_and_prints_the_problem(name, capsys):
    case = next(c for c in CASES if c.target.name == name)
    assert main(["validate", str(case.target)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert any(line.startswith(f"{case.file}:{case.line}:{case.col}: error: ") for line in out), out


def test_cli_json_format(capsys):
    case = next(c for c in CASES if c.target.name == "unknown-name.yaml")
    assert main(["validate", str(case.target), "--format", "json"]) == 1
    import json

    (problem,) = json.loads(capsys.readouterr().out)
    assert problem == {
        "file": str(case.file),
        "line": case.line,
        "col": case.col,
        "severity": "error",
        "message": problem["message"],
    }
    assert case.fragment in problem["message"]


def test_the_fixture_lessons_are_valid(capsys):
    assert validate([LESSONS]) == []
    assert main(["validate", str(LESSONS)]) == 0
    assert capsys.readouterr().out == ""


def test_a_missing_path_is_an_error(tmp_path, capsys):
    assert main(["validate", str(tmp_path / "nope.yaml")]) == 1
    assert capsys.readouterr().out == f"{tmp_path / 'nope.yaml'}: error: no such file or directory\n"


# --- warnings --------------------------------------------------------------------------------------

WARNED = """\
format: 1
id: warned
title: The gradient of an input that does not require grad
inputs:
  x: 3.0
  w: {value: 2.0, requires_grad: true}
nodes:
  y: w*x
steps:
  - gradient: w
    answer: x
  - gradient: x
    answer: w
"""


def test_a_warning_exits_0(tmp_path, capsys):
    file = tmp_path / "warned.yaml"
    file.write_text(WARNED)
    problems = validate([file])
    assert [(p.severity, p.line, p.col) for p in problems] == [("warning", 12, 15)]
    assert "does not require grad" in problems[0].message
    assert main(["validate", str(file)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [f"{file}:12:15: warning: {problems[0].message}"]


def test_the_installed_command_exits_0_on_warnings_and_1_on_errors(tmp_path, cli):
    file = tmp_path / "warned.yaml"
    file.write_text(WARNED)
    result = cli("validate", file)
    assert result.returncode == 0, result.stderr
    assert f"{file}:12:15: warning: " in result.stdout
    broken = next(c for c in CASES if c.target.name == "unknown-name.yaml")
    result = cli("validate", broken.target, file)
    assert result.returncode == 1
    assert f"{broken.file}:{broken.line}:{broken.col}: error: " in result.stdout
    assert f"{file}:12:15: warning: " in result.stdout
    assert "Traceback" not in result.stderr


# --- a library with broken and valid lessons ----------------------------------------------------------


def test_a_library_reports_the_broken_lessons_and_loads_the_others(tmp_path, capsys):
    shutil.copy(LESSONS / "chain.yaml", tmp_path / "01-chain.yaml")
    shutil.copy(BROKEN / "unknown-name.yaml", tmp_path / "02-unknown-name.yaml")
    shutil.copy(LESSONS / "mean.yaml", tmp_path / "03-mean.yaml")
    shutil.copy(BROKEN / "yaml-syntax.yaml", tmp_path / "04-yaml-syntax.yaml")
    shutil.copy(BROKEN / "answer-wrong.yaml", tmp_path / "05-answer-wrong.yaml")
    shutil.copy(LESSONS / "two-paths.yaml", tmp_path / "06-two-paths.yaml")
    (tmp_path / "notes.txt").write_text("not a lesson")

    lessons, problems = library([tmp_path])
    assert [lesson.id for lesson in lessons] == [
        "chain-rule-sin-square",
        "mean-of-squares",
        "answer-wrong",  # loads: only validate plays the model answers
        "two-paths",
    ]
    assert sorted(Path(p.file).name for p in problems) == ["02-unknown-name.yaml", "04-yaml-syntax.yaml"]

    problems = validate([tmp_path])
    assert sorted(Path(p.file).name for p in problems) == [
        "02-unknown-name.yaml",
        "04-yaml-syntax.yaml",
        "05-answer-wrong.yaml",
    ]
    assert main(["validate", str(tmp_path)]) == 1
    assert len(capsys.readouterr().out.splitlines()) == 3


def test_duplicate_ids_keep_the_first_lesson():
    lessons, problems = library([BROKEN / "duplicate-ids"])
    assert [lesson.file for lesson in lessons] == [str(BROKEN / "duplicate-ids" / "01-first.yaml")]
    assert len(problems) == 1 and "01-first.yaml" in problems[0].message


def test_duplicate_ids_across_two_paths(tmp_path):
    shutil.copy(LESSONS / "chain.yaml", tmp_path / "copy.yaml")
    problems = validate([LESSONS / "chain.yaml", tmp_path / "copy.yaml"])
    assert [(Path(p.file).name, p.line, p.col) for p in problems] == [("copy.yaml", 2, 5)]


# --- YAML is data, never code ------------------------------------------------------------------------


def test_yaml_tags_are_never_executed(tmp_path, monkeypatch):
    def trap(*args, **kwargs):
        raise AssertionError("os.system called while loading a lesson")

    monkeypatch.setattr(os, "system", trap)
    canary = tmp_path / "canary"
    for i, value in enumerate(
        [
            f"!!python/object/apply:os.system ['touch {canary}']",
            "!!python/name:os.system",
            f"!!python/object/new:subprocess.Popen [['touch', '{canary}']]",
        ]
    ):
        file = tmp_path / f"tagged-{i}.yaml"
        file.write_text(f"format: 1\nid: tagged\ntitle: T\ninputs:\n  x: {value}\nnodes:\n  y: x**2\n")
        problems = validate([file])
        assert problems and all(p.severity == "error" and p.line == 5 for p in problems), problems
    assert not canary.exists()


def test_a_yaml_bomb_is_bounded(tmp_path):
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    file = tmp_path / "bomb.yaml"
    file.write_text("\n".join(lines) + "\nformat: 1\n")
    with pytest.raises(LessonInvalid) as info:
        load(file)
    assert "too many values" in info.value.problems[0].message


def test_a_broken_lesson_never_gives_a_traceback(tmp_path, cli):
    file = tmp_path / "odd.yaml"
    file.write_text(
        textwrap.dedent("""\
        format: 1
        id: odd
        title: Odd
        inputs: [x, y]
        nodes: {y: [1, 2]}
        steps: {forward: y}
        """)
    )
    latin1 = tmp_path / "latin1.yaml"
    latin1.write_bytes("title: caf\xe9\n".encode("latin-1"))
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    result = cli("validate", file, latin1, empty, BROKEN)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and result.stderr == ""
    assert all(re.match(r".+(:\d+:\d+)?: (error|warning): .+", line) for line in result.stdout.splitlines())
    assert f"{file}:4:9: error: " in result.stdout
    assert f"{latin1}:1:11: error: not UTF-8" in result.stdout
    assert f"{empty}:1:1: error: " in result.stdout
