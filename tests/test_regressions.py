"""Bugs found in review, each pinned by the behaviour a learner or author would see."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import lesson_text, load_fixture

from autograd_tutor.cli import main
from autograd_tutor.expr.parser import ParseError, parse
from autograd_tutor.lesson.code import op_code
from autograd_tutor.lesson.loader import library, loads
from autograd_tutor.lesson.ops import parse_op
from autograd_tutor.lesson.problems import LessonInvalid
from autograd_tutor.session import LessonSession
from autograd_tutor.validate import check_lesson, validate

COURSE = Path(__file__).parent.parent / "lessons"


def test_a_skipped_step_answered_later_counts_as_solved():
    session = LessonSession(load_fixture("chain"))
    session.advance()  # skip step 0
    assert session.records[0].status == "skipped"
    session.back()
    assert session.submit("16").correct
    assert session.records[0].status == "solved"
    assert session.score == (1, 5)


def test_an_empty_step_list_is_an_error_not_a_crash():
    with pytest.raises(LessonInvalid) as err:
        loads("format: 1\nid: e\ntitle: E\ninputs: {x: 1.0}\nnodes: {y: x}\nsteps: []\n", "empty.yaml")
    assert str(err.value.problems[0]).startswith("empty.yaml:6:8: error: steps")


@pytest.mark.parametrize("depth", [40, 100_000])
def test_deep_yaml_is_a_located_problem_and_the_other_lessons_still_load(tmp_path, depth):
    (tmp_path / "01-deep.yaml").write_text(
        "format: 1\nid: deep\ntitle: D\ninputs: {x: 1.0}\nnodes: {y: x}\ntags: " + "[" * depth + "]" * depth + "\n"
    )
    (tmp_path / "02-fine.yaml").write_text("format: 1\nid: fine\ntitle: F\ninputs: {x: 1.0}\nnodes: {y: x}\n")
    lessons, problems = library([tmp_path])
    assert [lesson.id for lesson in lessons] == ["fine"]
    assert [str(p) for p in problems] == [f"{tmp_path / '01-deep.yaml'}:6:38: error: nested more than 32 deep"]


def test_a_predict_verdict_does_not_depend_on_how_the_learner_got_there():
    lesson = lesson_text(
        """
        format: 1
        id: nav
        title: Navigation
        inputs: {x: {value: 2.0, requires_grad: true}}
        nodes: {y: x**2}
        steps:
          - run: [backward]
          - predict: x.grad
          - run: [{zero_grad: x}, {set: {x: 3.0}}, forward, backward]
          - predict: x.grad
        """
    )
    straight = LessonSession(lesson)
    straight.advance()
    assert straight.check("2*x").correct  # x = 2 at that point
    wandering = LessonSession(lesson)
    for _ in range(3):
        wandering.advance()
    wandering.check("6")  # the later state exists now: x = 3
    wandering.back()
    wandering.back()
    assert wandering.index == 1 and wandering.check("2*x").correct


def test_wide_graphs_are_judged_without_listing_every_path():
    layers = 16
    layer = "  b{i}: sin(a{j})\n  c{i}: cos(a{j})\n  a{i}: b{i} + c{i}"
    nodes = "\n".join(layer.format(i=i, j=i - 1) for i in range(1, layers + 1))
    lesson = loads(
        f"format: 1\nid: wide\ntitle: W\ninputs:\n  x: {{value: 0.5, requires_grad: true}}\n"
        f"nodes:\n  a0: 1*x\n{nodes}\nsteps:\n  - gradient: x\n"
    )
    assert lesson.computation.path_count("x") == 2**layers
    verdict = LessonSession(lesson).check("1")
    assert verdict.status == "wrong"  # judged (by comparing, not by walking 65,536 paths)


def test_an_identity_node_is_a_node_of_its_own():
    lesson = lesson_text(
        """
        format: 1
        id: alias
        title: y is x
        inputs: {x: {value: 2.0, requires_grad: true}}
        nodes: {y: x, z: x*y}
        steps:
          - {gradient: y, answer: x}
          - {gradient: x, answer: 2*x}
        """
    )
    assert check_lesson(lesson) == []
    session = LessonSession(lesson)
    assert session.expected(0) == 2.0 and session.expected(1) == 4.0


def test_accumulation_is_diagnosed_only_when_backward_ran_that_many_times():
    session = LessonSession(load_fixture("accumulate"))
    session.advance()
    assert session.question().grade("2").diagnosis != "accumulation"  # one backward: 4 is not 2 of 2
    for _ in range(2):
        session.advance()
    verdict = session.question().grade("4")  # authored mistake comes first here
    assert verdict.diagnosis == "authored"
    assert session.question().backwards == 2


def test_resume_keeps_each_record_with_its_own_step_wherever_it_moved():
    chain = load_fixture("chain")
    session = LessonSession(chain)
    session.submit("16")
    state = json.loads(json.dumps(session.to_state()))
    edited = loads((Path(chain.file).read_text() + "steps:\n  - gradient: x\n  - forward: y\n"), "edited.yaml")
    resumed = LessonSession(edited, state)
    assert [r.status for r in resumed.records] == ["pending", "solved"]  # forward y moved to the second place
    reworded = loads(Path(chain.file).read_text() + "steps:\n  - forward: y\n    prompt: How big is y?\n", "r.yaml")
    assert LessonSession(reworded, state).records[0].status == "solved"  # a new prompt is the same step
    same = LessonSession(chain, state)
    assert same.records[0].status == "solved" and same.records[0].answer == "16"
    assert LessonSession(chain, {**state, "records": "garbage"}).records[0].status == "pending"


def test_non_finite_truths_are_refused_by_validate_and_never_printed_as_invalid_json(tmp_path, capsys):
    lesson = tmp_path / "inf.yaml"
    lesson.write_text(
        "format: 1\nid: inf\ntitle: I\ninputs:\n  x: {value: 1.0, requires_grad: true}\nnodes:\n  y: log(x)\n"
        "steps:\n  - run: [{set: {x: 0.0}}, forward]\n  - predict: y\n"
    )
    (problem,) = validate([lesson])
    assert problem.line == 10 and "not finite (-inf)" in problem.message
    answers = tmp_path / "answers.yaml"
    answers.write_text("- null\n- '0'\n")
    assert main(["check", str(lesson), "--answers", str(answers), "--json"]) == 2


def test_set_shows_the_lessons_dtype():
    lesson = load_fixture("square-fp16")
    (line,) = op_code(parse_op({"set": {"x": 3.0}}), lesson.computation)
    assert line == "x = torch.tensor(3.0, dtype=torch.float16, requires_grad=x.requires_grad)"


def test_precision_feedback_keeps_the_sign():
    session = LessonSession(load_fixture("chain"))
    session.index = 4
    verdict = session.check("-7.7")
    assert verdict.diagnosis == "precision" and "give at least 3 significant figures" in verdict.feedback
    assert session.check("-7.66").correct  # 3 figures are enough for the tolerance: the message says so


def test_a_chain_carried_past_the_local_factor_is_named():
    session = LessonSession(load_fixture("chain"))
    session.index = 2  # local [z, y], z being the output
    verdict = session.check("cos(y)*2*x")
    assert verdict.diagnosis == "total_instead_of_local" and "dz/dx" in verdict.feedback


def test_a_name_that_is_also_an_answer_word_is_warned_about():
    lesson = loads("format: 1\nid: w\ntitle: W\ninputs: {ok: 1.0}\nnodes: {y: ok*2}\n", "w.yaml")
    assert [str(p) for p in lesson.warnings] == [
        "w.yaml:4:10: warning: in predict and run answers 'ok' means the word, not this tensor; rename it"
    ]


def test_a_predict_target_with_an_empty_property_is_an_error():
    with pytest.raises(LessonInvalid, match="predict: '' is not one of"):
        loads("format: 1\nid: p\ntitle: P\ninputs: {x: 1.0}\nnodes: {y: x}\nsteps:\n  - predict: 'x.'\n")


def test_a_syntax_error_names_the_character_the_learner_typed():
    with pytest.raises(ParseError) as err:
        parse("x^^2", ["x"], answer=True)
    assert err.value.message == "unexpected '^'" and err.value.col == 2


def test_the_bundled_course_has_no_warnings():
    lessons, problems = library([COURSE])
    assert problems == [] and len(lessons) >= 12


@pytest.mark.parametrize(
    ("text", "message"), [("transpose(x)", "transpose takes a matrix"), ("softmax(0, [0, 1])", "dim")]
)
def test_a_scalar_to_transpose_or_a_list_as_dim_is_a_message_not_a_crash(text, message):
    """Found by hypothesis: an answer `transpose(4)` or `softmax(x, [0])` raised instead of being judged."""
    session = LessonSession(load_fixture("chain"))
    verdict = session.check(text)
    assert verdict.status in ("wrong", "invalid") and message in verdict.feedback


def test_a_list_as_a_clamp_bound_is_refused_with_a_message():
    session = LessonSession(load_fixture("chain"))
    verdict = session.check("clamp(x, 0, [1, 2])")  # was a TypeError (found by the property tests)
    assert verdict.status == "wrong" and "clamp's hi must be a single number" in verdict.feedback
