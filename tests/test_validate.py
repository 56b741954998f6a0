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
import subprocess
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import BROKEN, COMMAND, LESSONS

from autograd_tutor.cli import main
from autograd_tutor.lesson.loader import library, load
from autograd_tutor.lesson.problems import LessonInvalid, Problem
from autograd_tutor.lesson.source import MAX_BYTES
from autograd_tutor.validate import lesson_errors, validate

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


# --- paths: each file once, and nothing skipped without a word -------------------------------------------


def test_a_file_given_twice_is_validated_once(tmp_path, monkeypatch, capsys):
    course = tmp_path / "course"
    course.mkdir()
    shutil.copy(LESSONS / "chain.yaml", course / "01-chain.yaml")
    monkeypatch.chdir(tmp_path)
    for paths in (["course", "course/01-chain.yaml"], ["course", "./course"], ["course/01-chain.yaml", "course"]):
        assert validate(paths) == [], paths
        assert main(["validate", *paths]) == 0
    assert capsys.readouterr().out == ""
    (course / "02-link.yaml").symlink_to(course / "01-chain.yaml")  # the same file under two names
    assert validate(["course"]) == []


def test_an_empty_directory_is_an_error(tmp_path, capsys):
    assert validate([tmp_path]) == [Problem(str(tmp_path), 0, 0, "no lesson files (*.yaml) in this directory")]
    assert main(["validate", str(tmp_path)]) == 1
    assert capsys.readouterr().out == f"{tmp_path}: error: no lesson files (*.yaml) in this directory\n"


def test_a_subdirectory_of_lessons_is_named_not_skipped_silently(tmp_path, capsys):
    shutil.copy(LESSONS / "chain.yaml", tmp_path / "01-chain.yaml")
    (tmp_path / "part-2").mkdir()
    shutil.copy(LESSONS / "mean.yaml", tmp_path / "part-2" / "01-mean.yaml")
    (tmp_path / "notes").mkdir()  # no lessons in it: nothing to say
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "x.yaml").write_text("a: 1\n")
    message = "subdirectory not read: lessons are read from the directory itself; give it as a path"
    assert validate([tmp_path]) == [Problem(str(tmp_path / "part-2"), 0, 0, message, "warning")]
    assert main(["validate", str(tmp_path)]) == 0
    assert capsys.readouterr().out == f"{tmp_path / 'part-2'}: warning: {message}\n"
    assert validate([tmp_path, tmp_path / "part-2"]) == []


def test_a_node_that_does_not_lead_to_the_output_is_warned_about(tmp_path):
    file = tmp_path / "after-output.yaml"
    file.write_text(
        WARNED.replace("  y: w*x\n", "  y: w*x\n  after: y + 1\n").replace("id: warned", "id: after") + "output: y\n"
    )
    problems = [p for p in validate([file]) if "does not lead" in p.message]
    assert [(p.line, p.col, p.severity) for p in problems] == [(9, 3, "warning")]
    assert problems[0].message == (
        "after does not lead to the output y: no gradient flows through it;"
        " use it, show it in a written step, or remove it"
    )
    # a side value a written step shows (a finite difference, say) is meant
    shown = WARNED.replace("  y: w*x\n", "  y: w*x\n  after: y + 1\n").replace("id: warned", "id: shown")
    file.write_text(shown.replace("steps:\n", "output: y\nsteps:\n  - forward: after\n"))
    problems = validate([file])
    assert problems and not [p for p in problems if p.severity == "error" or "does not lead" in p.message]


def test_a_side_node_a_step_asks_for_or_the_prose_names_is_used(tmp_path):
    """A finite difference computed beside the graph: not on the way to the output,
    but asked for by a written step (and what it is made of), or named in prose."""
    side = WARNED.replace("  y: w*x\n", "  up: w*(x + 0.1)\n  fd: (up - w*x)/0.1\n  other: 2*w\n  y: w*x\n")
    side = side.replace("id: warned", "id: side") + "output: y\n"
    asked = side.replace("steps:\n", "steps:\n  - forward: fd\n    answer: w\n")
    file = tmp_path / "side.yaml"
    file.write_text(asked)
    unused = [p.message.split()[0] for p in validate([file]) if "does not lead" in p.message]
    assert unused == ["other"]
    file.write_text(asked.replace("title: The gradient", "intro: Twice w is {other}.\ntitle: The gradient"))
    assert [p for p in validate([file]) if "does not lead" in p.message] == []


# --- values as torch stores them ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "dtype, value, fits",
    [
        ("float32", "1.0e300", False),
        ("float32", "3.0e38", True),
        ("float16", "70000.0", False),
        ("float16", "65000.0", True),
        ("float64", "1.0e300", True),
    ],
)
def test_an_input_that_overflows_its_dtype_is_located_at_the_input(tmp_path, dtype, value, fits):
    file = tmp_path / "big.yaml"
    file.write_text(
        f"format: 1\nid: big\ntitle: Big\ndtype: {dtype}\n"
        f"inputs:\n  x: {{value: {value}, requires_grad: true}}\nnodes:\n  y: x*0\n"
    )
    problems = validate([file])
    if fits:
        assert problems == []
    else:
        assert [(p.line, p.col) for p in problems] == [(6, 14)]
        assert problems[0].message.endswith(f"is too large for {dtype}: torch stores it as inf; choose a smaller value")


def test_a_set_value_that_overflows_is_located_at_the_operation(tmp_path):
    file = tmp_path / "set.yaml"
    file.write_text(
        WARNED.replace("steps:\n", "steps:\n  - run: [{set: {x: [1.0e300]}}]\n")
        .replace("x: 3.0", "x: [3.0]")
        .replace("y: w*x", "y: sum(w*x)")
    )
    (problem,) = [p for p in validate([file]) if p.severity == "error"]
    assert (problem.line, problem.col) == (10, 21) and "too large for float32" in problem.message


def test_check_refuses_a_lesson_whose_input_overflows(tmp_path, capsys):
    answers = tmp_path / "answers.yaml"
    answers.write_text("- '0'\n")
    assert main(["check", str(BROKEN / "overflow-float32.yaml"), "--answers", str(answers)]) == 2
    assert capsys.readouterr().err.startswith(f"{BROKEN / 'overflow-float32.yaml'}:6:14: error: 1e+300 is too large")


# --- the model answer next to torch's ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "step, message",
    [
        ("  - gradient: x\n    answer: 3*x", "the model answer is judged wrong: 3*x gives 6 at x = 2; torch says 4"),
        ("  - forward: y\n    answer: '5'", "the model answer is judged wrong: 5 gives 5 at x = 2; torch says 4"),
        (
            "  - forward: y\n    answer: cos(0)*3",
            "the model answer is judged wrong: cos(0)*3 gives 3 at x = 2; torch says 4",
        ),
        (
            "  - gradient: x\n    answer: x + 2",
            "the model answer is judged wrong: x + 2 gives 4 at x = 2, but not at other values: ",
        ),
        (
            "  - predict: x.grad\n    answer: '4'",
            "the model answer is judged wrong: torch fills .grad only on leaves that require grad",
        ),
        (
            "  - gradient: x\n    answer: 2 x",
            "the model answer is judged invalid: missing operator between '2' and 'x'",
        ),
    ],
)
def test_a_wrong_model_answer_is_shown_next_to_torchs_value(tmp_path, step, message):
    file = tmp_path / "model.yaml"
    file.write_text(
        "format: 1\nid: model\ntitle: M\ninputs:\n  x: {value: 2.0, requires_grad: true}\n"
        f"nodes:\n  y: x**2\nsteps:\n{step}\n"
    )
    (problem,) = validate([file])
    assert problem.message.startswith(message), problem.message
    assert "Not what torch computes" not in problem.message


# --- files that are not lessons: refused before any work, never echoed ----------------------------------


def test_devices_fifos_and_directories_are_refused_without_reading(tmp_path, cli):
    fifo = tmp_path / "fifo.yaml"
    os.mkfifo(fifo)
    course = tmp_path / "course"
    course.mkdir()
    os.mkfifo(course / "01-pipe.yaml")
    (course / "02-dir.yaml").mkdir()  # a directory named like a lesson is skipped: not a file
    shutil.copy(LESSONS / "chain.yaml", course / "03-chain.yaml")
    result = cli("validate", fifo, "/dev/zero", course)  # must neither hang nor read /dev/zero to the end
    refused = "error: not a regular file (a device, a pipe or a socket): give a .yaml file"
    assert result.stdout.splitlines() == [
        f"{fifo}: {refused}",
        f"/dev/zero: {refused}",
        f"{course / '01-pipe.yaml'}: {refused}",
    ]
    assert result.returncode == 1 and result.stderr == ""


def test_a_file_larger_than_the_limit_is_refused_before_it_is_parsed(tmp_path):
    file = tmp_path / "big.yaml"
    file.write_text("format: 1\n" + "# padding\n" * (MAX_BYTES // 10 + 1))
    assert validate([file]) == [Problem(str(file), 0, 0, f"file too large (over {MAX_BYTES:,} bytes)")]


def test_problems_quote_a_file_that_is_not_a_lesson_only_briefly(tmp_path):
    system = tmp_path / "passwd"
    system.write_text(
        "root_password_hash_and_more_secret_things: $6$abcdefghijklmnop\n"
        "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin and a long line: 2\n"
        "\x1b]0;a terminal title escape that goes on and on\x07: 3\n"
    )
    link = tmp_path / "lesson.yaml"
    link.symlink_to(system)
    shown = "\n".join(str(p) for p in validate([link]))
    assert shown
    for line in system.read_text().splitlines():
        for start in range(len(line) - 25):
            assert line[start : start + 26] not in shown
    assert "\x1b" not in shown and "\x07" not in shown


# --- YAML that would raise while it is built ---------------------------------------------------------------

BASE = "format: 1\nid: odd\ntitle: Odd\ninputs:\n  x: {value: 2.0, requires_grad: true}\nnodes:\n  y: x**2\n"


@pytest.mark.parametrize(
    "extra, where, fragment",
    [
        ("summary: 2001-13-45\n", None, None),  # a date that is not one: text
        ("summary: 2001-12-14 21:59:43.10 -5\n", None, None),
        ("2001-13-45: x\n", (8, 1), "unknown field '2001-13-45'"),
        ("level: " + "1" * 5000 + "\n", (8, 8), "an integer of 5,000 characters"),
        ("level: 0x" + "f" * 5000 + "\n", (8, 8), "an integer of 5,002 characters"),
        ("level: " + ":".join(["59"] * 400) + "\n", (8, 8), "an integer of"),
        ("summary: !!int x\n", (8, 10), "tags like '!!int'"),
        ("summary: !!float x\n", (8, 10), "tags like '!!float'"),
        ("summary: !!timestamp 2001-13-45\n", (8, 10), "tags like '!!timestamp'"),
        ("summary: !!binary AAAA\n", (8, 10), "tags like '!!binary'"),
        ("tags: !!set {a, b}\n", (8, 7), "tags like '!!set'"),
        ("tags: !!omap [a: 1]\n", (8, 7), "tags like '!!omap'"),
        ("summary: !foo t\n", (8, 10), "tags like '!foo'"),
        ("summary: !<tag:example.com,2000:x> t\n", (8, 10), "tags like 'tag:example.com,2000:x'"),
        ("base: &b {title: T}\n<<: *b\n", (9, 1), "merge keys (<<)"),
        ("tags: [<<]\n", (8, 8), "merge keys (<<)"),
        ("? [a, b]\n: c\n", (8, 3), "a key must be a plain word"),
        ("tags: &t [a, *t]\n", (8, 7), "contains an alias of itself"),
        ("summary: .nan\n", (8, 10), "summary: expected text"),
        ("tolerance: {rtol: .inf, atol: 0}\n", (8, 19), "tolerance.rtol: must be at most 1"),
        ("level: 1_000\n", (8, 8), "level: must be at most 5"),
        ("level: 0o17\n", (8, 8), "level: expected a whole number"),
        ("level: 1e0\n", (8, 8), "level: expected a whole number"),
    ],
)
def test_no_yaml_value_can_raise_while_the_lesson_is_read(tmp_path, extra, where, fragment):
    file = tmp_path / "odd.yaml"
    file.write_text(BASE + extra)
    problems = validate([file])
    if where is None:
        assert problems == []
        assert load(file).spec.summary == extra.split(": ", 1)[1].strip()
        return
    errors = [p for p in problems if p.severity == "error"]
    assert [(p.line, p.col) for p in errors[:1]] == [where], [str(p) for p in problems]
    assert fragment in errors[0].message


def test_the_app_and_the_lab_load_the_same_library_without_a_traceback(tmp_path):
    for i, extra in enumerate(["summary: !!int x\n", "<<: {title: T}\n", "level: " + "9" * 5000 + "\n"]):
        (tmp_path / f"{i:02}.yaml").write_text(BASE.replace("id: odd", f"id: odd-{i}") + extra)
    shutil.copy(LESSONS / "chain.yaml", tmp_path / "10-chain.yaml")
    lessons, problems = library([tmp_path])  # what the app, --plain and serve load
    assert [lesson.id for lesson in lessons] == ["chain-rule-sin-square"]
    assert [(Path(p.file).name, p.line) for p in problems] == [("00.yaml", 8), ("01.yaml", 8), ("02.yaml", 8)]
    command = [str(COMMAND), "--plain", str(tmp_path), "--data-dir", str(tmp_path / "data")]
    result = subprocess.run(command, input="q\n", capture_output=True, text=True, timeout=120, check=False)
    assert "Traceback" not in result.stderr + result.stdout
    assert "Skipped 3 files that do not load:" in result.stdout


# --- answers files are read like lessons ------------------------------------------------------------------


@pytest.mark.parametrize(
    "content, where, fragment",
    [
        (
            "\n".join(
                ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
                + [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 9)]
            ),
            None,
            "too many values",
        ),
        ("[" * 5000 + "]" * 5000, (1, 33), "nested more than 32 deep"),
        ("- !!python/object/apply:os.system ['true']\n", (1, 3), "tags like"),
        ("- " + "7" * 5000 + "\n", (1, 3), "an integer of 5,000 characters"),
        ("- {a: 1}\n- '2'\n- 3\n- 4\n- 5\n", (1, 3), "answer 0: expected text, a number or a list"),
    ],
)
def test_an_answers_file_is_bounded_like_a_lesson(tmp_path, capsys, content, where, fragment):
    answers = tmp_path / "answers.yaml"
    answers.write_text(content)
    assert len(content.encode()) < 12_000
    assert main(["check", str(LESSONS / "chain.yaml"), "--answers", str(answers)]) == 2
    err = capsys.readouterr().err
    assert fragment in err and "Traceback" not in err
    if where:
        assert err.startswith(f"{answers}:{where[0]}:{where[1]}: error: ")


def test_an_answers_file_that_is_a_device_is_refused(capsys):
    assert main(["check", str(LESSONS / "chain.yaml"), "--answers", "/dev/zero"]) == 2
    assert (
        capsys.readouterr().err
        == "/dev/zero: error: not a regular file (a device, a pipe or a socket): give a .yaml file\n"
    )


def test_lesson_errors_are_validates_errors_computed_once():
    lesson = load(BROKEN / "answer-wrong.yaml")
    first = lesson_errors(lesson)
    assert [str(p) for p in first] == [str(p) for p in validate([BROKEN / "answer-wrong.yaml"])]
    assert lesson_errors(lesson) is first
    assert lesson_errors(load(LESSONS / "chain.yaml")) == ()
