"""Judging as version 1.1 tightens it: every input moves at the test points, a
diagnosis is named only where it holds there too, authored mistakes first, the
bug library, carried errors, precision from the tolerance, answer forms, and
messages that say how to fix an answer that cannot be read."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import lesson_text, load_fixture, question, session

from autograd_tutor.cli import main
from autograd_tutor.expr.display import format_value
from autograd_tutor.grade.bugs import DIAGNOSES
from autograd_tutor.session import LessonSession
from autograd_tutor.validate import validate


def lesson(nodes: str, inputs: str, steps: str = "", extra: str = "", id: str = "probe"):
    text = f"format: 1\nid: {id}\ntitle: A probe\n{extra}inputs:\n{inputs}nodes:\n{nodes}{steps}"
    return lesson_text(text)


# --- value steps refuse the value they ask for ---------------------------------------------------


@pytest.mark.parametrize(
    "kind, target, answer, message",
    [
        ("forward", "y", "y", "asks for the value of y itself"),
        ("forward", "y", "z", "The value of z is not shown yet"),
        ("forward", "z", "z", "asks for the value of z itself"),
        ("forward", "z", "sin(z)", "asks for the value of z itself"),
    ],
)
def test_a_value_step_refuses_the_value_it_asks_for(kind, target, answer, message):
    verdict = question(session("chain"), kind, target).grade(answer)
    assert verdict.status == "invalid" and message in verdict.feedback


def test_earlier_nodes_shown_on_screen_stay_allowed():
    assert question(session("chain"), "forward", "z").grade("sin(y)").correct


def test_a_predict_step_of_a_value_refuses_the_name_it_asks_about():
    sess = LessonSession(
        lesson(
            "  q: x*3\n  r: q + 1\n",
            "  x: {value: 2.0, requires_grad: true}\n",
            "steps:\n  - predict: q\n  - predict: r\n",
        )
    )
    verdict = sess.question(0).grade("q")
    assert verdict.status == "invalid" and "asks for the value of q itself" in verdict.feedback
    assert sess.question(0).grade("r - 1").status == "invalid"  # r is asked later: not shown yet
    assert sess.question(0).grade("x*3").correct
    assert sess.question(1).grade("q + 1").correct


# --- test points: every input that is not fixed moves ---------------------------------------------


def test_an_input_whose_value_is_1_must_not_be_left_out():
    sess = LessonSession(lesson("  y: x**2 * t\n", "  x: {value: 3.0, requires_grad: true}\n  t: 1.0\n"))
    q = question(sess, "gradient", "x")
    assert q.grade("2*x*t").correct
    assert not q.grade("2*x").correct


def test_a_fixed_input_does_not_move():
    sess = LessonSession(
        lesson("  y: x**2 * t\n", "  x: {value: 3.0, requires_grad: true}\n  t: {value: 1.0, sample: fixed}\n")
    )
    assert question(sess, "gradient", "x").grade("2*x").correct


@pytest.mark.parametrize("answer", ["abs(2*x)", "relu(2*x)", "sqrt(4*x**2)"])
def test_formulas_that_agree_only_for_positive_x_are_wrong(answer):
    sess = LessonSession(lesson("  y: x**2\n", "  x: {value: 4.0, requires_grad: true}\n"))
    verdict = question(sess, "local", ["y", "x"]).grade(answer)
    assert verdict.status == "wrong" and verdict.diagnosis == "coincidence"


def test_sample_in_the_schema_and_validate(tmp_path):
    from autograd_tutor.lesson.model import json_schema

    schema = json.dumps(json_schema())
    assert '"fixed"' in schema and '"low"' in schema and '"step"' in schema
    head = "format: 1\nid: bad-sample\ntitle: T\ninputs:\n"
    shapes = tmp_path / "shapes.yaml"
    shapes.write_text(
        head + "  v: {value: [1.0, 2.0], requires_grad: true, sample: [[1.0, 2.0], [3.0]]}\nnodes:\n  y: sum(v)\n"
    )
    (problem,) = validate([shapes])
    assert (problem.line, problem.col) == (5, 68) and problem.message == "each value in v's sample has its shape (2,)"
    order = tmp_path / "order.yaml"
    order.write_text(head + "  w: {value: 1.0, sample: {low: 2.0, high: 1.0}}\nnodes:\n  y: w*2\n")
    (problem,) = validate([order])
    assert problem.line == 5 and "low (2.0) must not be above high (1.0)" in problem.message
    word = tmp_path / "word.yaml"
    word.write_text(head + "  w: {value: 1.0, sample: fix}\nnodes:\n  y: w*2\n")
    (problem,) = validate([word])
    assert "sample is `fixed`, a list of values or {low: L, high: H}, not 'fix'" in problem.message


# --- diagnoses hold at the test points, or no cause is named --------------------------------------


def test_a_diagnosis_that_holds_only_at_the_lessons_values_is_not_named():
    # two paths at x = 1.5: sin(1.5) ≈ 1, so 2*x + sin(x) ≈ 2*x + 1 = "dropped ∂b/∂x" -- at x = 1.5 only
    verdict = question(session("two-paths"), "gradient", "x").grade("2*x + sin(x)")
    assert verdict.status == "wrong" and verdict.diagnosis is None
    # the number is judged at the lesson's values, where that cause is as good as any
    assert question(session("two-paths"), "gradient", "x").grade("4").diagnosis == "missing_factor"


def test_sign_advice_is_named_only_when_following_it_is_right():
    sess = LessonSession(lesson("  f: sigmoid(z)\n  g: 1 - f\n", "  z: {value: 0.0, requires_grad: true}\n"))
    q = question(sess, "gradient", "z")  # -f*(1-f), -1/4 at z = 0
    assert q.grade("-f*(1 - f)").correct and q.grade("f**2 - f").correct
    assert q.grade("0.25").diagnosis == "sign"  # a number: judged at z = 0
    # f/2 is 1/4 at z = 0, the negated truth there; elsewhere it is not: no sign advice
    verdict = q.grade("f/2")
    assert verdict.status == "wrong" and verdict.diagnosis != "sign"
    assert q.grade("-f/2").diagnosis == "coincidence"  # right at z = 0 only


def test_a_bare_name_is_diagnosed_by_what_it_is():
    sess = LessonSession(lesson("  s: x**2/2\n  y: mean(s)\n", "  x: {value: [1.0, 2.0, 3.0], requires_grad: true}\n"))
    verdict = question(sess, "gradient", "x").grade("x")  # the truth is x/3
    assert verdict.diagnosis == "mean_count"
    assert question(sess, "gradient", "x").grade("[1, 2, 3]").diagnosis == "mean_count"


def test_an_authored_mistake_equal_to_the_truth_here_shows_its_feedback():
    sess = LessonSession(
        lesson(
            "  y: x**2\n",
            "  x: {value: 2.0, requires_grad: true}\n",
            "steps:\n  - local: [y, x]\n    mistakes:\n      - {answer: x**2, feedback: That is y itself.}\n",
        )
    )
    verdict = sess.question(0).grade("x**2")  # 4 = 2x at x = 2
    assert verdict.diagnosis == "authored" and verdict.feedback == "That is y itself."
    assert sess.question(0).grade("4").correct  # a number cannot be told apart: it is right
    assert sess.question(0).grade("2*x").correct


# --- the bug library --------------------------------------------------------------------------------


NEURON2 = """
format: 1
id: two-weights
title: Two weights
inputs:
  x1: {value: 1.5, sample: {low: 0.5, high: 2.0}}
  x2: {value: -0.5, sample: {low: -2.0, high: -0.5}}
  w1: {value: 0.8, requires_grad: true}
  w2: {value: 0.3, requires_grad: true}
nodes:
  z: w1*x1 + w2*x2
  h: tanh(z)
  s: sin(h)
  L: s**2
"""


@pytest.mark.parametrize(
    "kind, target, answer, diagnosis",
    [
        ("local", ["s", "h"], "-cos(h)", "derivative_table"),
        ("local", ["h", "z"], "sigmoid(z)*(1 - sigmoid(z))", "derivative_table"),
        ("local", ["h", "z"], "1 - tanh(z)", "derivative_table"),
        ("local", ["h", "z"], "tanh(z)", "forward_value"),
        ("local", ["z", "w2"], "x1", "wrong_node"),
        ("local", ["L", "s"], "s", "power_rule"),
        ("local", ["L", "s"], "2*s**2", "power_rule"),
        ("gradient", "w2", "2*s*cos(h)*(1 - h**2)*x1", "wrong_node"),
        ("gradient", "w2", "2*s*(-cos(h))*(1 - h**2)*x2", "derivative_table"),
        ("gradient", "w2", "s*cos(h)*(1 - h**2)*x2", "power_rule"),
        ("gradient", "w2", "2*s*cos(h)*x2", "missing_factor"),
        ("gradient", "w2", "2*s*cos(z)*(1 - h**2)*x2", "outer_argument"),
    ],
)
def test_the_bug_library_names_common_slips(kind, target, answer, diagnosis):
    verdict = question(session(lesson_text(NEURON2)), kind, target).grade(answer)
    assert (verdict.status, verdict.diagnosis) == ("wrong", diagnosis), verdict.feedback


RULES = """
format: 1
id: rules
title: The rules of the table
inputs:
  x: {value: 1.3, requires_grad: true}
  t: {value: 0.0, sample: fixed}
nodes:
  a: x*sin(x)
  b: x/(x + 1)
  p: sigmoid(x)
  c: bce(p, t)
  y: a + b + c
steps:
  - local: [a, x]
  - local: [b, x]
  - local: [c, p]
"""


@pytest.mark.parametrize(
    "index, answer, diagnosis",
    [
        (0, "sin(x)", "product_rule"),
        (0, "x*cos(x)", "product_rule"),
        (0, "cos(x)", "product_rule"),
        (1, "1/(x + 1)", "quotient_rule"),
        (1, "(x + 1 + x)/(x + 1)**2", "sign"),
        (2, "-t/p", "missing_term"),
    ],
)
def test_product_quotient_and_bce_slips(index, answer, diagnosis):
    verdict = session(lesson_text(RULES)).question(index).grade(answer)
    assert (verdict.status, verdict.diagnosis) == ("wrong", diagnosis), verdict.feedback


def test_answers_that_start_with_a_minus_reach_try(capsys):
    assert main(["try", "tests/lessons/chain.yaml", "4", "-7.7", "-2*x*cos(y)", "--variant", "0"]) == 0
    out = capsys.readouterr().out
    assert "[precision] -7.7" in out and "[derivative_table] -2*x*cos(y)" in out


def test_the_outer_derivative_at_the_wrong_argument_as_a_number():
    # dz/dx = 2x cos(x²) at x = 4; 2*4*cos(4) took cos at x instead of at x²
    verdict = question(session("chain"), "gradient", "x").grade("2*4*cos(4)")
    assert verdict.diagnosis == "outer_argument"


def test_errors_carried_forward_from_the_learners_own_factors():
    sess = session("chain")  # forward y, forward z, local [z, y], local [y, x], gradient x
    sess.index = 2
    sess.submit("cos(y)")
    sess.advance()
    sess.submit("x")  # wrong: ∂y/∂x is 2x
    sess.advance()
    verdict = sess.check("cos(y)*x")
    assert verdict.diagnosis == "carried"
    assert "∂y/∂x from step 4 was off" in verdict.feedback and "chaining is right" in verdict.feedback
    assert sess.check("2*x*cos(y)").correct


def test_automatic_feedback_never_states_the_answer():
    for name in ("chain", "two-paths", "mean", "neuron-1", "linear-layer", "softmax-ce"):
        sess = session(name)
        for step in sess.steps:
            if step.kind not in ("forward", "local", "gradient", "backprop"):
                continue
            q = sess.question(step.index)
            truth = format_value(q.expected)
            for answer in ("0", "1", "-1", "2", "x", "[1, 2, 3]", "7.6613", "-0.2879", "16"):
                try:
                    verdict = q.grade(answer)
                except Exception as err:  # noqa: BLE001 - any crash is a failure, reported with its answer
                    raise AssertionError((name, step.index, answer)) from err
                if verdict.status == "wrong" and len(truth) >= 4:
                    assert truth not in verdict.feedback, (name, step.index, answer, verdict.feedback)


def test_every_diagnosis_is_documented():
    from pathlib import Path

    doc = (Path(__file__).parent.parent / "docs" / "lesson-format.md").read_text()
    for tag in DIAGNOSES:
        assert f"`{tag}`" in doc, tag


# --- precision, from the tolerance -------------------------------------------------------------------


def test_precision_is_claimed_only_when_the_tolerance_rejects_the_rounding():
    q = question(session("chain"), "gradient", "x")  # -7.661275...
    verdict = q.grade("-7.7")
    assert verdict.diagnosis == "precision" and "at least 3 significant figures" in verdict.feedback
    assert q.grade("-7.66").correct and q.grade("-7.661").correct


def test_precision_for_lists_and_predict_steps():
    q = question(session("mean"), "gradient", "x")  # [0.6667, 1.3333, 2]
    verdict = q.grade("[0.7, 1.3, 2]")
    assert verdict.diagnosis == "precision"
    assert q.grade("[0.667, 1.333, 2]").correct
    sess = LessonSession(
        lesson(
            "  y: x**3\n",
            "  x: {value: 1.3, requires_grad: true}\n",
            "steps:\n  - run: [backward]\n  - predict: x.grad\n",
        )
    )
    verdict = sess.question(1).grade("5")  # 5.07
    assert verdict.diagnosis == "precision" and "significant figures" in verdict.feedback


def test_a_tiny_gradient_is_judged_as_carefully_as_a_large_one():
    sess = LessonSession(lesson("  y: x**3/3\n", "  x: {value: 0.006738, requires_grad: true}\n"))
    q = question(sess, "gradient", "x")  # 4.54e-5
    assert q.grade("4.54e-5").correct and q.grade("x**2").correct
    for wrong in ("0", "0.00009", "0.00004"):
        assert not q.grade(wrong).correct, wrong
    assert q.grade("4.5e-5").diagnosis == "precision"


# --- answers that cannot be read get a message that says the fix --------------------------------------


@pytest.mark.parametrize(
    "answer, message",
    [
        ("-7,6613", "use a dot for decimals: -7.6613"),
        ("tensor(4.)", "write the value itself, 4., not tensor(4.)"),
        ("[0.6667 1.3333 2.0]", "separate the entries of a list with commas"),
        ("e^x", "exp(x) for e^x"),
        ("e**2", "write exp(1) for the number e"),
    ],
)
def test_malformed_numbers_say_how_to_fix_them(answer, message):
    verdict = question(session("mean"), "gradient", "x").grade(answer)
    assert verdict.status == "invalid" and message in verdict.feedback, verdict.feedback


@pytest.mark.parametrize("answer", ["yes", "okay", "no", "fine", "True"])
def test_an_outcome_step_lists_the_words_it_accepts(answer):
    sess = session("no-tracking")
    step = next(s for s in sess.steps if s.kind == "run" and s.takes_answer)
    verdict = sess.question(step.index).grade(answer)
    assert verdict.status == "invalid" and verdict.feedback == "Answer ok (it runs) or error (it raises)."


def test_grad_fn_names_without_their_number_and_booleans():
    sess = session("grad-fn")
    grad_fn = next(s for s in sess.steps if s.kind == "predict" and s.target.endswith(".grad_fn"))
    verdict = sess.question(grad_fn.index).grade("SinBackward")
    assert verdict.status == "invalid" and "SinBackward0" in verdict.feedback
    verdict = sess.question(grad_fn.index).grade("sine")
    assert verdict.status == "invalid" and "grad_fn name" in verdict.feedback


def test_a_list_of_the_wrong_length_says_so():
    verdict = question(session("mean"), "gradient", "x").grade("[1, 2]")
    assert verdict.diagnosis == "shape" and verdict.feedback == "Your answer has 2 entries; dy/dx has 3."


# --- form: formula | number | any -------------------------------------------------------------------------


def test_a_step_may_ask_for_a_formula_or_a_number():
    sess = LessonSession(
        lesson(
            "  y: x**2\n",
            "  x: {value: 3.0, requires_grad: true}\n",
            "steps:\n  - local: [y, x]\n    form: formula\n  - gradient: x\n    form: number\n",
        )
    )
    verdict = sess.question(0).grade("6")
    assert verdict.status == "invalid" and "asks for a formula" in verdict.feedback and "x" in verdict.feedback
    assert sess.question(0).grade("2*x").correct
    verdict = sess.question(1).grade("2*x")
    assert verdict.status == "invalid" and "asks for a number" in verdict.feedback
    assert sess.question(1).grade("6").correct


# --- for authors: lesson tests, try, check --json --------------------------------------------------------

TESTED = """\
format: 1
id: tested
title: A lesson with tests
inputs:
  x: {value: 4.0, requires_grad: true}
nodes:
  y: x**2
  z: sin(y)
tests:
  - {step: 4, answer: "2*x*cos(x**2)", expect: correct}
  - {step: 4, answer: "cos(x**2)", expect: wrong, diagnosis: missing_factor}
  - {step: 4, answer: "2*x*cos(x)", expect: wrong, diagnosis: sign}
  - {step: 3, answer: "2 x", expect: invalid}
  - {step: 3, answer: "x + 4", expect: correct}
"""


def test_lesson_tests_are_run_by_validate_and_failures_located(tmp_path):
    file = tmp_path / "tested.yaml"
    file.write_text(TESTED)
    problems = validate([file])
    assert [(p.line, p.severity) for p in problems] == [(12, "error"), (14, "error")]
    assert "gets diagnosis outer_argument, not sign" in problems[0].message
    assert "judged wrong (coincidence), not correct" in problems[1].message


def test_try_judges_many_answers_for_one_step(capsys):
    code = main(["try", "tests/lessons/chain.yaml", "4", "2*x*cos(x**2)", "cos(x**2)", "2 x", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0 and report["step"] == 4 and report["variant"] == 0
    assert [(a["verdict"], a["diagnosis"]) for a in report["answers"]] == [
        ("correct", None),
        ("wrong", "missing_factor"),
        ("invalid", None),
    ]
    assert main(["try", "tests/lessons/chain.yaml", "4", "cos(y)"]) == 0
    out = capsys.readouterr().out
    assert "wrong    [missing_factor] cos(y)" in out and "You dropped the factor" in out
    assert main(["try", "tests/lessons/accumulate.yaml", "0", "ok"]) == 2
    assert "takes no answer" in capsys.readouterr().err


def test_check_json_gives_each_steps_diagnosis_and_torchs_message(tmp_path, capsys):
    answers = tmp_path / "a.yaml"
    answers.write_text("- '4'\n- 'x'\n- '4'\n- null\n- null\n- null\n- null\n- null\n")
    main(["check", "tests/lessons/square.yaml", "--answers", str(answers), "--json"])
    report = json.loads(capsys.readouterr().out)
    assert [s["diagnosis"] for s in report["steps"][:3]] == [None, "power_rule", None]
    lesson = load_fixture("no-tracking")
    answers.write_text("".join("- error\n" if s.takes_answer else "- null\n" for s in lesson.steps))
    main(["check", lesson.file, "--answers", str(answers), "--json"])
    report = json.loads(capsys.readouterr().out)
    raised = [s for s in report["steps"] if s["kind"] == "run" and s["expected"] == "error"]
    assert raised and all("element 0 of tensors does not require grad" in s["feedback"] for s in raised)


# --- the hypothesis property: a formula off by an input-dependent term is never correct ----------------


def test_random_formulas_off_by_an_input_dependent_term_are_never_correct():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    sess = LessonSession(
        lesson(
            "  u: w*x + b\n  h: tanh(u)\n  L: h**2 * t\n",
            "  x: 1.2\n  t: 1.0\n  w: {value: 0.7, requires_grad: true}\n  b: {value: -0.3, requires_grad: true}\n",
        )
    )
    truths = {"w": "2*h*t*(1 - h**2)*x", "b": "2*h*t*(1 - h**2)"}
    terms = st.sampled_from(["x", "t", "w", "b", "x*w", "t - 1", "sin(w)", "b**2", "exp(x) - exp(1.2)", "(t - 1)*w"])

    @settings(max_examples=150, deadline=None)
    @given(target=st.sampled_from(["w", "b"]), term=terms, scale=st.sampled_from(["1", "0.01", "-3", "1e-3"]))
    def never_correct(target, term, scale):
        q = question(sess, "gradient", target)
        assert q.grade(truths[target]).correct
        verdict = q.grade(f"{truths[target]} + {scale}*({term})")
        assert not verdict.correct, (target, term, scale)

    never_correct()


def test_the_documented_tags_match_what_the_grader_can_give():
    from pathlib import Path

    import autograd_tutor.grade as grade_package

    source = "\n".join(p.read_text() for p in Path(grade_package.__file__).parent.glob("*.py"))
    source += (Path(grade_package.__file__).parent.parent / "expr" / "functions.py").read_text()
    source += (Path(grade_package.__file__).parent.parent / "expr" / "derive.py").read_text()
    used = set(re.findall(r'"([a-z_]+)"', source)) & set(DIAGNOSES)
    assert used == set(DIAGNOSES)


# --- found by the course's authors ---------------------------------------------------------------------


def test_lesson_tests_run_on_variant_0(tmp_path):
    file = tmp_path / "v.yaml"
    file.write_text(
        "format: 1\nid: v\ntitle: T\nvariants: true\ninputs:\n  x: {value: 3.0, requires_grad: true}\n"
        "nodes:\n  y: x**2\ntests:\n  - {step: 2, answer: '6', expect: correct}\n"
    )
    assert validate([file]) == []


def test_test_points_cover_every_listed_value():
    sess = LessonSession(
        lesson(
            "  loss: bce_with_logits(z, y)\n",
            "  z: {value: 1.5, requires_grad: true, sample: {low: -2.0, high: 2.0}}\n"
            "  y: {value: 0.0, sample: [0.0, 1.0]}\n",
        )
    )
    q = question(sess, "forward", "loss")
    assert q.grade("log(1 + exp(z)) - y*z").correct
    assert q.grade("log(1 + exp(z))").diagnosis == "coincidence"  # right for y = 0 only


def test_an_input_the_output_does_not_use_names_no_cause():
    sess = LessonSession(
        lesson(
            "  r: relu(x)\n  L: sum(r)\n",
            "  x: {value: [-1.0, -2.0, 3.0], requires_grad: true}\n  Y: {value: [1.0, 2.0, 3.0]}\n",
        )
    )
    verdict = question(sess, "local", ["r", "x"]).grade("0")
    assert verdict.status == "wrong" and verdict.diagnosis is None


@pytest.mark.parametrize("answer", ["[0, 0, 1]", "[0, 1, 1]"])
def test_whole_numbers_for_a_half_are_not_a_precision_error(answer):
    sess = LessonSession(
        lesson("  m: maximum(x, 0*x)\n  L: sum(m)\n", "  x: {value: [-1.0, 0.0, 2.0], requires_grad: true}\n")
    )
    verdict = question(sess, "local", ["m", "x"]).grade(answer)  # torch: [0, 0.5, 1]
    assert verdict.status == "wrong" and verdict.diagnosis != "precision"


def test_zero_for_a_tiny_number_is_not_a_precision_error():
    sess = LessonSession(lesson("  y: x**3/3\n", "  x: {value: 0.000977, requires_grad: true}\n"))
    verdict = question(sess, "gradient", "x").grade("0")  # 9.5e-7
    assert verdict.status == "wrong" and verdict.diagnosis != "precision"


def test_a_node_shown_earlier_may_be_named_when_a_later_step_predicts_it():
    sess = LessonSession(
        lesson(
            "  P: x*3\n  Q: P + 1\n",
            "  x: {value: 2.0, requires_grad: true}\n",
            "steps:\n  - forward: P\n    ask: false\n  - forward: Q\n"
            "  - run: [{set: {x: 1.0}}, forward]\n  - predict: P\n",
        )
    )
    assert sess.question(1).grade("P + 1").correct


def test_a_gradient_not_summed_over_its_broadcast_copies_is_named_in_a_predict_step():
    sess = LessonSession(
        lesson(
            "  Z: X*2 + b\n  L: sum(Z)\n",
            "  X: [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]\n  b: {value: [0.5, -0.5], requires_grad: true}\n",
            "steps:\n  - run: [backward]\n  - predict: b.grad\n",
        )
    )
    verdict = sess.question(1).grade("[[1, 1], [1, 1], [1, 1]]")
    assert verdict.diagnosis == "broadcast_sum"
    assert sess.question(1).grade("[3, 3]").correct


@pytest.mark.parametrize(
    "answer, message",
    [
        ("X.T @ grad_Z", "write transpose(X) for X.T"),
        ("grad_Z.sum(0)", "rather than grad_Z.sum(...)"),
        ("torch.sum(grad_Z, 0)", "write sum(...) without torch."),
        ("sum(grad_Z, dim=0)", "write arguments by position, as in sum(a, 0)"),
    ],
)
def test_pytorch_spellings_say_how_to_write_them_here(answer, message):
    verdict = question(session("linear-layer"), "backprop", ["Z", "W"]).grade(answer)
    assert verdict.status == "invalid" and message in verdict.feedback, verdict.feedback


def test_authored_feedback_gets_the_variants_numbers():
    sess = LessonSession(
        lesson(
            "  y: x**2\n",
            "  x: {value: 3.0, requires_grad: true}\n",
            "steps:\n  - local: [y, x]\n    mistakes:\n"
            "      - {answer: x, feedback: 'At x = {x} that is {x}, not twice it.'}\n",
        )
    )
    assert sess.check("x").feedback == "At x = 3 that is 3, not twice it."


def test_an_authored_mistake_whose_shapes_do_not_fit_still_shows_its_feedback():
    sess = LessonSession(
        lesson_text(
            Path(load_fixture("linear-layer").file).read_text() + "steps:\n  - backprop: [Z, W]\n    mistakes:\n"
            "      - {answer: grad_Z @ transpose(X), feedback: The order matters.}\n"
        )
    )
    verdict = sess.question(0).grade("grad_Z @ transpose(X)")
    assert verdict.diagnosis == "authored" and verdict.feedback == "The order matters."
