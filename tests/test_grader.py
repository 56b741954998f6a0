"""Judging answers (correct / wrong with a diagnosis / invalid) and LessonSession."""

from __future__ import annotations

import json

import pytest
from conftest import lesson_text, load_fixture, question, session

from autograd_tutor.grade.compare import Tolerance, shown
from autograd_tutor.grade.grader import Verdict
from autograd_tutor.session import LessonSession


@pytest.fixture(scope="module")
def chain():
    return session("chain")


@pytest.fixture(scope="module")
def mean():
    return session("mean")


def grade(sess, kind, target, text) -> Verdict:
    return question(sess, kind, target).grade(text)


# --- right answers, in several forms ----------------------------------------------------------


@pytest.mark.parametrize(
    "kind, target, answer",
    [
        ("forward", "y", "16"),
        ("forward", "y", "16.0"),
        ("forward", "y", "x**2"),
        ("forward", "y", "x^2"),
        ("forward", "y", "4*4"),
        ("forward", "z", "sin(16)"),
        ("forward", "z", "sin(y)"),
        ("forward", "z", "-0.2879"),
        ("forward", "z", "-0.28790"),
        ("local", ["z", "y"], "cos(y)"),
        ("local", ["z", "y"], "cos(x**2)"),
        ("local", ["z", "y"], "cos(16)"),
        ("local", ["z", "y"], "-0.9577"),
        ("local", ["y", "x"], "2*x"),
        ("local", ["y", "x"], "x*2"),
        ("local", ["y", "x"], "8"),
        ("local", ["y", "x"], "2 * x ^ 1"),
        ("gradient", "x", "2*x*cos(x**2)"),
        ("gradient", "x", "2*x*cos(x^2)"),
        ("gradient", "x", "2*x*cos(y)"),
        ("gradient", "x", "cos(y)*2*x"),
        ("gradient", "x", "8*cos(16)"),
        ("gradient", "x", "-7.6613"),
        ("gradient", "x", "-7.661"),
        ("gradient", "x", "  -7.6613  "),
        ("gradient", "x", "-0.9577*8"),
    ],
)
def test_right_answers_are_accepted(chain, kind, target, answer):
    verdict = grade(chain, kind, target, answer)
    assert verdict.status == "correct", verdict.feedback
    assert verdict.diagnosis is None and verdict.feedback == ""


@pytest.mark.parametrize(
    "kind, target, answer",
    [
        ("forward", "y", "4.6667"),
        ("forward", "y", "14/3"),
        ("forward", "y", "mean(x**2)"),
        ("forward", "y", "mean(s)"),
        ("forward", "s", "[1, 4, 9]"),
        ("forward", "s", "x**2"),
        ("local", ["y", "s"], "1/3"),  # a scalar broadcast over the vector of partials
        ("local", ["y", "s"], "0.3333"),
        ("local", ["y", "s"], "[1/3, 1/3, 1/3]"),
        ("local", ["y", "s"], "[0.3333, 0.3333, 0.3333]"),
        ("local", ["s", "x"], "2*x"),  # elementwise
        ("local", ["s", "x"], "[2, 4, 6]"),
        ("gradient", "x", "[0.6667, 1.3333, 2.0]"),
        ("gradient", "x", "[2/3, 4/3, 2]"),
        ("gradient", "x", "2*x/3"),
        ("gradient", "x", "2/3*x"),
    ],
)
def test_vector_answers(mean, kind, target, answer):
    assert grade(mean, kind, target, answer).status == "correct"


def test_neuron_answers_rounded_to_four_significant_figures():
    sess = session("neuron-3")
    assert grade(sess, "gradient", "w", "-0.08740").correct
    assert grade(sess, "gradient", "w", "-0.0874").correct
    assert grade(sess, "gradient", "b", "-0.02343").correct
    assert grade(sess, "forward", "loss", "0.02371").correct
    assert grade(sess, "gradient", "w", "(y_pred - y)*x").correct
    assert grade(sess, "local", ["loss", "y_pred"], "(y_pred - y)/(y_pred*(1 - y_pred))").correct
    assert grade(sess, "local", ["y_pred", "z"], "y_pred*(1 - y_pred)").correct
    assert grade(sess, "local", ["y_pred", "z"], "sigmoid(z)*(1 - sigmoid(z))").correct
    assert grade(sess, "local", ["z", "w"], "x").correct
    assert grade(sess, "local", ["z", "b"], "1").correct


def test_compare_tolerance_and_broadcast():
    tol = Tolerance(5e-3, 5e-5)
    assert tol.close(-7.66, -7.6613)
    assert not tol.close(-7.7, -7.6613)
    assert tol.close(0.0, 4e-5)
    assert tol.close(1 / 3, (1 / 3, 1 / 3, 1 / 3))
    assert not tol.close((1.0, 2.0), (1.0, 2.0, 3.0))
    assert not tol.close((1.0,), 1.0)
    assert not tol.close(float("nan"), float("nan"))
    assert tol.close(float("inf"), float("inf"))
    assert shown(-7.661275842587077) == -7.6613
    assert shown((0.6666666, 1.3333333, 2.0)).tolist() == [0.6667, 1.3333, 2.0]
    assert shown(0.000123456) == 0.0001235


TIGHT = """
format: 1
id: tight
title: A tight tolerance
tolerance: {rtol: 0.00001, atol: 0.00000001}
inputs:
  x: {value: 4.0, requires_grad: true}
  u: {value: 0.123456, requires_grad: true}
nodes:
  y: x**2
  z: sin(y)
  v: u*3
  q: v*100 + z
"""


def test_answers_computed_from_the_rounded_values_on_screen():
    sess = LessonSession(lesson_text(TIGHT))
    q = question(sess, "gradient", "x")
    # the screen shows dq/dy = -0.9577 and ∂y/∂x = 8: their product is off by 4e-5 relative
    assert not q.tol.close(-0.9577 * 8, q.expected)
    assert any(q.tol.close(-0.9577 * 8, alt) for alt in q.alternatives)
    assert q.grade("-0.9577*8").correct
    assert q.grade("-7.6616").correct
    assert q.grade("-7.6613").correct
    assert not q.grade("-7.6630").correct
    forward = question(sess, "forward", "q")
    # v is shown as 0.3704: 0.3704*100 + z
    rounded = 0.3704 * 100 + shown(sess.engine.truth.values["z"])
    assert not forward.tol.close(rounded, forward.expected)
    assert forward.grade(repr(float(rounded))).correct


# --- wrong answers and their diagnoses -----------------------------------------------------------


@pytest.mark.parametrize(
    "kind, target, answer, diagnosis",
    [
        ("gradient", "x", "7.6613", "sign"),
        ("gradient", "x", "-2*x*cos(x**2)", "derivative_table"),
        ("local", ["z", "y"], "-cos(y)", "derivative_table"),
        ("forward", "y", "-16", "sign"),
        ("gradient", "x", "cos(x**2)", "missing_factor"),
        ("gradient", "x", "cos(y)", "missing_factor"),
        ("gradient", "x", "2*x*cos(x**2)*2*x", "extra_factor"),
        ("gradient", "x", "-0.2879", "forward_value"),
        ("gradient", "x", "sin(x**2)", "forward_value"),
        ("local", ["z", "y"], "sin(y)", "forward_value"),
        ("forward", "y", "4", "wrong_node"),
        ("forward", "z", "16", "wrong_node"),
        ("local", ["z", "y"], "8", "wrong_node"),
        ("local", ["z", "y"], "2*x", "wrong_node"),
        ("local", ["y", "x"], "-7.6613", "total_instead_of_local"),
        ("local", ["y", "x"], "2*x*cos(x**2)", "total_instead_of_local"),
        ("gradient", "x", "2*x", "local_instead_of_total"),
        ("gradient", "x", "8", "local_instead_of_total"),
        ("gradient", "x", "1/(2*x*cos(x**2))", "reciprocal"),
        ("local", ["z", "y"], "1/cos(y)", "reciprocal"),
        ("gradient", "x", "-7.7", "precision"),
        ("gradient", "x", "-8", "precision"),
        ("forward", "z", "-0.29", "precision"),
        ("local", ["y", "x"], "x + 4", "coincidence"),
        ("local", ["y", "x"], "x*x/2", "coincidence"),
        ("gradient", "x", "[1, 2]", "shape"),
    ],
)
def test_wrong_answers_are_diagnosed(chain, kind, target, answer, diagnosis):
    verdict = grade(chain, kind, target, answer)
    assert verdict.status == "wrong"
    assert verdict.diagnosis == diagnosis, verdict.feedback
    assert verdict.feedback


def test_diagnosis_feedback_says_what_went_wrong(chain):
    verdict = grade(chain, "gradient", "x", "cos(x**2)")
    assert "∂y/∂x" in verdict.feedback and "inner derivative" in verdict.feedback
    assert verdict.read_as == "cos(x²)"
    verdict = grade(chain, "local", ["y", "x"], "x + 4")
    assert "right number here, but not at x = " in verdict.feedback
    verdict = grade(chain, "gradient", "x", "-7.7")
    assert "significant figure" in verdict.feedback


def test_wrong_answers_without_a_fitting_diagnosis(chain):
    verdict = grade(chain, "gradient", "x", "123")
    assert verdict.status == "wrong" and verdict.diagnosis is None and verdict.feedback


def test_forward_formulas_are_checked_at_the_test_points_too(chain):
    # a formula for a forward value is checked like any formula: x*4 is 16 only at x = 4
    assert grade(chain, "forward", "y", "x*x").correct
    for answer in ("x*4", "x + 12"):
        verdict = grade(chain, "forward", "y", answer)
        assert verdict.status == "wrong" and verdict.diagnosis == "coincidence"
    assert grade(chain, "forward", "y", "4*4").correct  # a number is judged at the lesson's values


def test_missing_path_when_one_path_is_followed():
    lesson = lesson_text(
        """
        format: 1
        id: product
        title: Two paths through a product
        inputs:
          x: {value: 1.5, requires_grad: true}
        nodes:
          a: 3*x
          b: x**2
          y: a*b
        """
    )
    sess = LessonSession(lesson)
    assert grade(sess, "gradient", "x", "9*x**2").correct
    verdict = grade(sess, "gradient", "x", "3*x**2")  # only y → a → x
    assert verdict.diagnosis == "missing_path"
    assert "2 paths" in verdict.feedback
    assert grade(sess, "gradient", "x", "6*x**2").diagnosis == "missing_path"  # only y → b → x


@pytest.mark.parametrize("answer", ["2*x", "cos(x)"])
def test_missing_path_on_two_paths(answer):
    verdict = grade(session("two-paths"), "gradient", "x", answer)
    assert verdict.status == "wrong"
    assert verdict.diagnosis == "missing_path"


def test_two_paths_accepts_the_sum():
    sess = session("two-paths")
    for answer in ("2*x + cos(x)", "cos(x) + 2*x", "3.0707", "a/x*2 + cos(x)"):
        assert grade(sess, "gradient", "x", answer).correct, answer
    verdict = grade(sess, "gradient", "x", "x + 1.5 + cos(x)")
    assert verdict.diagnosis == "coincidence"


def test_vector_shape_diagnoses(mean):
    verdict = grade(mean, "gradient", "x", "[0.6667, 1.3333]")
    assert verdict.diagnosis == "shape" and "2 entries; dy/dx has 3" in verdict.feedback
    verdict = grade(mean, "forward", "y", "[1, 4, 9]")
    assert verdict.diagnosis == "shape"
    verdict = grade(mean, "gradient", "x", "2*x")  # ∂s/∂x, or the gradient without mean's 1/3: the latter names it
    assert verdict.diagnosis == "mean_count"


JACOBIAN_STEP = """
format: 1
id: jacobian-local
title: A Jacobian asked for as a local factor
inputs:
  x: {value: [1.0, 2.0, 3.0], requires_grad: true}
nodes:
  v: sum(x)*x
  y: sum(v)
steps:
  - local: [v, x]
"""


def test_a_jacobian_factor_is_asked_by_a_backprop_step_in_the_automatic_sequence():
    kinds = {tuple(s.target_json()): s.kind for s in load_fixture("jacobian").steps if s.kind in ("local", "backprop")}
    assert kinds == {("y", "v"): "local", ("v", "x"): "backprop"}


def test_a_jacobian_factor_accepts_the_matrix():
    q = question(session(lesson_text(JACOBIAN_STEP)), "local", ["v", "x"])
    assert q.grade("[[7, 1, 1], [2, 8, 2], [3, 3, 9]]").correct
    assert q.grade("[[7, 1, 1], [2, 8, 2]]").diagnosis == "shape"


@pytest.mark.parametrize("answer", ["6", "[1, 2, 3]", "[[7, 1, 1], [2, 8, 2], [3, 3, 8]]"])
def test_wrong_answers_to_a_jacobian_factor_are_judged_not_a_crash(answer):
    q = question(session(lesson_text(JACOBIAN_STEP)), "local", ["v", "x"])
    assert q.grade(answer).status == "wrong"


# --- authored mistakes ----------------------------------------------------------------------------

AUTHORED = """
format: 1
id: authored
title: Authored mistakes
inputs:
  x: {value: 4.0, requires_grad: true}
nodes:
  y: x**2
  z: sin(y)
steps:
  - gradient: x
    answer: 2*x*cos(x**2)
    mistakes:
      - {answer: "cos(x**2)", feedback: "Where did 2x go? The chain rule multiplies by dy/dx."}
      - {answer: "cos(y)", feedback: "Second feedback, never reached for cos(y): the first matches."}
      - {answer: "2*x*sin(x**2)", feedback: "sin differentiates to cos."}
  - predict: x.grad
    mistakes:
      - {answer: None, feedback: "x is a leaf that requires grad: after backward it has a .grad."}
  - run: [backward]
  - predict: x.grad
    mistakes:
      - {answer: "0", feedback: "backward() filled it."}
"""


@pytest.fixture(scope="module")
def authored():
    return LessonSession(lesson_text(AUTHORED))


def test_authored_mistakes_come_before_automatic_diagnoses(authored):
    q = authored.question(0)
    verdict = q.grade("cos(x**2)")  # would otherwise be missing_factor
    assert verdict.status == "wrong" and verdict.diagnosis == "authored"
    assert verdict.feedback == "Where did 2x go? The chain rule multiplies by dy/dx."
    # matched as a formula: cos(y) is the same function of x as cos(x**2)
    assert q.grade("cos(y)").feedback == verdict.feedback
    # and as a number
    assert q.grade("-0.9577").diagnosis == "authored"
    assert q.grade("2*x*sin(x**2)").feedback == "sin differentiates to cos."
    # the model answer stays right, other mistakes keep their automatic diagnosis
    assert q.grade("2*x*cos(x**2)").correct
    assert q.grade("7.6613").diagnosis == "sign"


def test_authored_mistakes_of_predict_steps(authored):
    assert authored.question(1).expected is None
    verdict = authored.question(1).grade("None")
    assert verdict.correct
    verdict = authored.question(3).grade("0")
    assert verdict.diagnosis == "authored" and verdict.feedback == "backward() filled it."


# --- invalid answers ------------------------------------------------------------------------------


@pytest.mark.parametrize("answer", ["2 x", "x^2*", "cos(", "x.grad", "q + 1", "", "nan", "[1, 2", "2**99"])
def test_invalid_answers_are_kept_apart(chain, answer):
    verdict = grade(chain, "gradient", "x", answer)
    assert verdict.status == "invalid"
    assert verdict.feedback
    assert verdict.diagnosis is None
    assert verdict.col is not None and 0 <= verdict.col <= len(answer)


def test_invalid_points_at_the_problem(chain):
    verdict = grade(chain, "gradient", "x", "2 x*cos(y)")
    assert verdict.col == 2 and "missing operator" in verdict.feedback
    verdict = grade(chain, "gradient", "x", "2*x*cos(q)")
    assert verdict.col == 8 and "unknown name 'q'" in verdict.feedback


def test_words_are_invalid_for_math_steps(chain):
    assert grade(chain, "gradient", "x", "None").status == "invalid"


def test_invalid_is_not_an_attempt():
    sess = session("chain")
    assert sess.submit("2 x").status == "invalid"
    assert sess.submit("sin(").status == "invalid"
    record = sess.record
    assert record.attempts == 0 and record.mistakes == [] and record.answer is None
    assert record.status == "pending"
    verdict = sess.submit("4")
    assert verdict.status == "wrong" and verdict.diagnosis == "wrong_node"
    assert record.attempts == 1
    assert record.mistakes == [{"answer": "4", "diagnosis": "wrong_node", "feedback": verdict.feedback}]
    assert sess.submit("16").correct
    assert record.status == "solved" and record.attempts == 1 and record.answer == "16"
    sess.submit("5")  # after solving: judged, not recorded
    assert record.attempts == 1 and record.status == "solved"


def test_check_does_not_record():
    sess = session("chain")
    assert sess.check("4").status == "wrong"
    assert sess.check("16").correct
    assert sess.record.status == "pending" and sess.record.attempts == 0


# --- predict and run answers --------------------------------------------------------------------

ACCUMULATE = """
format: 1
id: acc
title: Accumulation without authored mistakes
inputs:
  x: {value: 2.0, requires_grad: true}
nodes:
  y: x**2
  z: 3*y
steps:
  - run: [{backward: retain_graph}, backward, {retain_grad: y}]
  - predict: x.grad
  - predict: y.grad
  - predict: x.grad_fn
  - predict: y.grad_fn
  - predict: y.is_leaf
  - predict: x.requires_grad
  - predict: y
  - run: [backward]
    ask: outcome
"""


@pytest.fixture(scope="module")
def behaviour():
    return LessonSession(lesson_text(ACCUMULATE))


@pytest.mark.parametrize(
    "index, answer",
    [
        (1, "24"),
        (1, "24.0"),
        (1, "2*12"),
        (1, "2*6*x"),
        (2, "None"),
        (2, "none"),
        (3, "None"),
        (4, "PowBackward0"),
        (4, "powbackward0"),
        (4, "POWBACKWARD0"),
        (5, "False"),
        (5, "false"),
        (6, "True"),
        (6, "TRUE"),
        (7, "4"),
        (7, "x**2"),
        (8, "error"),
        (8, "Error"),
    ],
)
def test_behaviour_answers_accepted(behaviour, index, answer):
    assert behaviour.question(index).grade(answer).correct


@pytest.mark.parametrize(
    "index, answer, diagnosis",
    [
        (1, "12", "accumulation"),
        (1, "6", None),  # 24 is two backward() calls of 12: 6 is not one of them
        (1, "None", "not_none"),
        (2, "12", "grad_is_none"),
        (2, "0", "grad_is_none"),
        (3, "PowBackward0", "none"),
        (4, "MulBackward0", None),
        (4, "None", "not_none"),
        (5, "True", None),
        (8, "ok", "outcome"),
    ],
)
def test_behaviour_answers_diagnosed(behaviour, index, answer, diagnosis):
    verdict = behaviour.question(index).grade(answer)
    assert verdict.status == "wrong"
    assert verdict.diagnosis == diagnosis
    assert verdict.feedback


@pytest.mark.parametrize("index, answer", [(8, "3"), (8, "maybe"), (1, "x.grad"), (1, "2 x"), (4, "Pow Backward")])
def test_behaviour_answers_invalid(behaviour, index, answer):
    assert behaviour.question(index).grade(answer).status == "invalid"


@pytest.mark.parametrize("answer", ["0/0", "sqrt(-1)", "1e-320"])
def test_non_finite_predict_answers_are_wrong_not_a_crash(answer):
    q = session("square").question(4)  # predict: x.grad, which is 4.0
    verdict = q.grade(answer)
    assert verdict.status == "wrong"


def test_non_leaf_grad_is_none_diagnosis():
    sess = session("non-leaf")
    verdict = sess.question(3).grade("0")
    assert verdict.diagnosis == "grad_is_none"
    assert "retain_grad()" in verdict.feedback
    assert sess.question(3).grade("cos(4)").diagnosis == "authored"


# --- LessonSession ---------------------------------------------------------------------------------

HINTS = """
format: 1
id: hints
title: Hints and reveals
inputs:
  x: {value: 4.0, requires_grad: true}
nodes:
  y: x**2
  z: sin(y)
steps:
  - local: [z, y]
    hint: [Differentiate sin., The derivative of sin is cos., cos(y)]
    explain: The outer factor.
  - local: [y, x]
    hint: Bring the exponent down.
    answer: 2*x
  - gradient: x
  - explain: That is the chain rule.
"""


@pytest.fixture
def hints() -> LessonSession:
    return LessonSession(lesson_text(HINTS))


def test_hints_in_order_then_none(hints):
    assert hints.hint() == "Differentiate sin."
    assert hints.hint() == "The derivative of sin is cos."
    assert hints.hint() == "cos(y)"
    assert hints.hint() is None
    assert hints.hint() is None
    assert hints.record.hints == 3
    hints.advance()
    assert hints.hint() == "Bring the exponent down."
    assert hints.hint() is None
    hints.advance()
    assert len(hints.hints()) >= 1  # the default hints of a gradient step
    assert hints.hint() == hints.hints()[0]


def test_reveal(hints):
    reveal = hints.reveal()
    assert reveal.expected == pytest.approx(-0.9576594803233847)
    assert reveal.text == "-0.9577"
    assert reveal.derivative == "cos(y)"
    assert hints.record.status == "revealed"
    assert hints.submit("cos(y)").correct
    assert hints.record.status == "revealed"  # not solved after a reveal
    hints.advance()
    reveal = hints.reveal()
    assert reveal.answer == "2*x" and reveal.expected == 8.0 and "x" in reveal.derivative
    assert hints.score == (0, 3)


def test_advance_back_restart_and_score(hints):
    assert hints.back() is False
    assert hints.submit("cos(y)").correct
    assert hints.advance() is True
    assert hints.advance() is True  # step 1 left unanswered: skipped
    assert hints.submit("2*x*cos(y)").correct
    assert hints.advance() is True
    assert hints.step.kind == "explain" and not hints.step.takes_answer
    assert hints.advance() is False  # the last step
    assert [r.status for r in hints.records] == ["solved", "skipped", "solved", "shown"]
    assert hints.finished
    assert hints.score == (2, 3)
    assert hints.back() is True and hints.index == 2
    hints.restart()
    assert hints.index == 0 and hints.score == (0, 3)
    assert all(r.status == "pending" for r in hints.records)


def test_to_state_and_resume(hints):
    hints.submit("sin(y)")
    hints.submit("cos(y)")
    hints.hint()
    hints.advance()
    hints.hint()
    hints.reveal()
    hints.advance()
    state = hints.to_state()
    assert json.loads(json.dumps(state)) == state
    resumed = LessonSession(hints.lesson, state)
    assert resumed.index == hints.index == 2
    assert resumed.records == hints.records
    assert resumed.score == hints.score == (1, 3)
    assert resumed.records[0].mistakes[0]["diagnosis"] == "forward_value"
    # a later answer on the resumed session goes on from there
    assert resumed.submit("2*x*cos(y)").correct
    assert resumed.score == (2, 3)


def test_resume_ignores_foreign_states(hints):
    state = hints.to_state()
    other = LessonSession(load_fixture("chain"), state)  # another lesson's id
    assert other.index == 0
    assert LessonSession(hints.lesson, {**state, "version": 99}).index == 0
    clamped = LessonSession(hints.lesson, {**state, "index": 99})
    assert clamped.index == len(hints.steps) - 1


def test_expected_as_json():
    sess = session("mean")
    assert sess.expected(0) == [1.0, 4.0, 9.0]
    assert isinstance(sess.expected(4), list)
    assert session("grad-fn").expected(6) is None
    assert session("grad-fn").expected(0) == "PowBackward0"
