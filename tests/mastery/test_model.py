"""The learner model: what counts as a first try, which skills a step has, how the model moves."""

from __future__ import annotations

import textwrap

import pytest

from autograd_tutor.lesson.loader import loads
from autograd_tutor.mastery.model import (
    DEFAULT,
    TWO_WAY_GUESS,
    LearnerModel,
    Observation,
    SkillState,
    course_skills,
    guess_of,
    new_observations,
    outcome,
)
from autograd_tutor.session import LessonSession

from .course import lesson


def _record(**fields) -> dict:
    return {"status": "pending", "hints": 0, "answer": None, "mistakes": [], **fields}


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        (_record(), None),
        (_record(status="skipped"), None),
        (_record(status="shown"), None),
        (_record(status="solved"), True),
        (_record(status="solved", hints=1), False),  # a hint came before the right answer
        (_record(status="solved", mistakes=[{"answer": "1"}]), False),
        (_record(mistakes=[{"answer": "1"}]), False),  # wrong at once: known before it is solved
        (_record(hints=2), False),
        (_record(status="revealed"), False),
        ("damaged", None),
        (_record(hints="many", mistakes="x"), None),
    ],
)
def test_the_first_try(record, expected):
    assert outcome(record) is expected


def test_the_model_reads_a_steps_effective_skills():
    """Its own list, else what its kind and functions imply (lesson/skills.py), else the lesson's."""
    square = lesson("square")
    assert [step.skills for step in square.steps] == [("forward-pass",), ("power-rule",), ("power-rule",)]
    bare = loads(
        "format: 1\nid: bare\ntitle: Bare\ninputs: {x: {value: 2.0, requires_grad: true}}\nnodes: {y: sin(x)}\n"
    )
    session = LessonSession(bare)
    session.submit("sin(2)")
    seen = new_observations(bare, None, session.to_state())
    assert [(o.skills, o.correct) for o in seen] == [(("forward-pass",), True)]
    assert course_skills([square, lesson("chain")]) == ["forward-pass", "power-rule", "derivative-table", "chain-rule"]


def test_two_way_questions_have_a_guess_of_one_half():
    accumulate = lesson("accumulate")
    assert guess_of(accumulate.steps[4]) == TWO_WAY_GUESS  # run, ask: outcome
    assert guess_of(accumulate.steps[1]) == DEFAULT.guess  # predict x.grad: a number
    assert guess_of(lesson("chain").steps[3]) == DEFAULT.guess
    text = """
    format: 1
    id: pick
    title: Pick
    inputs: {x: {value: 2.0, requires_grad: true}}
    nodes: {y: x**2}
    steps:
      - choose: Which is dy/dx?
        options:
          - {text: 2*x, correct: true}
          - {text: x, feedback: The power rule multiplies by the exponent.}
          - {text: x**2, feedback: That is y itself.}
          - {text: "2", feedback: "The exponent goes down by one, not away."}
    """
    pick = loads(textwrap.dedent(text).lstrip())
    assert guess_of(pick.steps[0]) == 0.25  # one right option of four


def test_the_model_moves_each_skill_of_an_observation():
    model = LearnerModel()
    seen = Observation(("power-rule", "chain-rule"), True, DEFAULT.guess, "chain", ["gradient", "x", 0])
    model.observe(seen, now=100.0)
    for skill in ("power-rule", "chain-rule"):
        assert model.get(skill) == SkillState(pytest.approx(29.1 / 41), 1, 1, 100.0)
    model.observe(Observation(("power-rule",), False, DEFAULT.guess, "chain", ["local", ["y", "x"], 0]), now=200.0)
    # from 29.1/41: posterior 0.0709756 / (0.0709756 + 0.2902439·0.8) = 0.234112; + 0.765888·0.15 → 0.348994
    assert model.get("power-rule").known == pytest.approx(0.348994, abs=1e-6)
    assert (model.get("power-rule").seen, model.get("power-rule").correct) == (2, 1)
    assert model.get("never-seen") == SkillState(DEFAULT.prior, 0, 0, None)


def test_what_moved():
    before = LearnerModel({"a": SkillState(0.5, 1, 1, 1.0), "b": SkillState(0.5, 1, 1, 1.0)})
    after = before.copy()
    after.observe(Observation(("a",), False, 0.2, "l", []), 2.0)
    after.observe(Observation(("c",), True, 0.2, "l", []), 2.0)
    moves = after.moved(before)
    assert [m.skill for m in moves] == ["c", "a"]  # the largest change first; b did not move
    assert moves[0].before == DEFAULT.prior and moves[0].after > moves[0].before
    assert moves[1].after < moves[1].before
    assert after.moved(before, ["a"])[0].skill == "a"
    assert before.known("a") == 0.5  # the copy is a copy


def _play(session: LessonSession, answers: dict[int, str | None]) -> None:
    for index in range(len(session.steps)):
        session.index = index
        if answers.get(index) is not None:
            session.submit(answers[index])


def test_new_observations_are_those_the_stored_state_did_not_have():
    chain = lesson("chain")
    session = LessonSession(chain, variant=0)
    empty = session.to_state()
    session.submit("x**2")  # step 0 right at once
    session.advance()
    session.hint()  # step 1: a hint first
    first = session.to_state()
    seen = new_observations(chain, empty, first)
    assert [(o.skills, o.correct) for o in seen] == [(("forward-pass",), True), (("derivative-table",), False)]
    session.submit("cos(y)")  # solved after the hint: nothing new
    assert new_observations(chain, first, session.to_state()) == []
    assert len(new_observations(chain, None, session.to_state())) == 2  # nothing stored: all of it is new


def test_another_play_of_the_lesson_counts_anew():
    chain = lesson("chain")
    session = LessonSession(chain, seed="me")
    session.submit("x**2")
    played = session.to_state()
    session.restart()  # a lesson with variants: a new round, new numbers
    session.submit("x**2")
    assert len(new_observations(chain, played, session.to_state())) == 1


def test_a_state_saved_before_variants_is_the_same_play():
    chain = lesson("chain")
    session = LessonSession(chain, variant=0)
    session.submit("x**2")
    state = session.to_state()
    old = {k: v for k, v in state.items() if k not in ("variant", "round")}
    assert new_observations(chain, old, state) == []


def test_steps_are_matched_by_identity_not_position():
    chain = lesson("chain")
    session = LessonSession(chain, variant=0)
    _play(session, {0: "x**2", 2: "2*x"})
    state = session.to_state()
    stored = {**state, "steps": state["steps"][::-1], "records": state["records"][::-1]}
    assert new_observations(chain, stored, state) == []


def test_a_step_without_skills_is_not_observed():
    text = """
    format: 1
    id: bare
    title: Bare
    inputs: {x: {value: 2.0, requires_grad: true}}
    nodes: {y: x**2}
    steps:
      - run: [forward]
        ask: outcome
        answer: ok
    """
    bare = loads(textwrap.dedent(text).lstrip())
    assert bare.steps[0].skills == ()  # a forward pass implies no skill, and the lesson names none
    session = LessonSession(bare)
    assert session.submit("ok").correct
    assert new_observations(bare, None, session.to_state()) == []
