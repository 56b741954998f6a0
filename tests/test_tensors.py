"""Matrices, broadcasting, the new functions, grad_output and backprop steps (format
1.1), each against a computation written by hand with torch."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from conftest import lesson_text, load_fixture, question, session

from autograd_tutor.engine.graph import analyse, grad_fn_names
from autograd_tutor.engine.sampling import Engine
from autograd_tutor.expr.evaluate import evaluate
from autograd_tutor.expr.functions import FUNCTIONS, PUBLIC
from autograd_tutor.expr.parser import ParseError, parse
from autograd_tutor.lesson.problems import LessonInvalid


def t64(value, grad=False):
    return torch.tensor(value, dtype=torch.float64, requires_grad=grad)


# --- every function: float64 value and grad_fn as torch's own ------------------------------------

M = [[0.5, -1.2, 2.0], [1.5, 0.3, -0.7]]
CASES = {
    "sin": ("sin(a)", lambda a: torch.sin(a), "SinBackward0"),
    "cos": ("cos(a)", lambda a: torch.cos(a), "CosBackward0"),
    "tan": ("tan(a)", lambda a: torch.tan(a), "TanBackward0"),
    "exp": ("exp(a)", lambda a: torch.exp(a), "ExpBackward0"),
    "log": ("log(abs(a))", lambda a: torch.log(torch.abs(a)), "LogBackward0"),
    "sqrt": ("sqrt(abs(a))", lambda a: torch.sqrt(torch.abs(a)), "SqrtBackward0"),
    "tanh": ("tanh(a)", lambda a: torch.tanh(a), "TanhBackward0"),
    "sigmoid": ("sigmoid(a)", lambda a: torch.sigmoid(a), "SigmoidBackward0"),
    "relu": ("relu(a)", lambda a: torch.relu(a), "ReluBackward0"),
    "abs": ("abs(a)", lambda a: torch.abs(a), "AbsBackward0"),
    "softplus": ("softplus(a)", lambda a: F.softplus(a), "SoftplusBackward0"),
    "cosh": ("cosh(a)", lambda a: torch.cosh(a), "CoshBackward0"),
    "sinh": ("sinh(a)", lambda a: torch.sinh(a), "SinhBackward0"),
    "sum": ("sum(a, 0)", lambda a: torch.sum(a, 0), "SumBackward1"),
    "mean": ("mean(a, 1)", lambda a: torch.mean(a, 1), "MeanBackward1"),
    "clamp": ("clamp(a, -1, 1)", lambda a: torch.clamp(a, min=-1.0, max=1.0), "ClampBackward1"),
    "bce": (
        "bce(sigmoid(a), 0.25)",
        lambda a: -(0.25 * torch.log(torch.sigmoid(a)) + 0.75 * torch.log(1 - torch.sigmoid(a))),
        "NegBackward0",
    ),
    "transpose": ("transpose(a)", lambda a: a.T, "PermuteBackward0"),
    "softmax": ("softmax(a, 1)", lambda a: torch.softmax(a, 1), "SoftmaxBackward0"),
    "log_softmax": ("log_softmax(a, 0)", lambda a: torch.log_softmax(a, 0), "LogSoftmaxBackward0"),
    "logsumexp": ("logsumexp(a, 1)", lambda a: torch.logsumexp(a, 1), "LogsumexpBackward0"),
    "maximum": ("maximum(a, 0.4*a + 0.3)", lambda a: torch.maximum(a, 0.4 * a + 0.3), "MaximumBackward0"),
    "minimum": ("minimum(a, 0.4*a + 0.3)", lambda a: torch.minimum(a, 0.4 * a + 0.3), "MinimumBackward0"),
    "mse": ("mse(a, 0.5*a + 1)", lambda a: F.mse_loss(a, 0.5 * a + 1), "MseLossBackward0"),
    "bce_with_logits": (
        "bce_with_logits(a, [[0, 1, 1], [1, 0, 0]])",
        lambda a: F.binary_cross_entropy_with_logits(a, t64([[0, 1, 1], [1, 0, 0]])),
        "BinaryCrossEntropyWithLogitsBackward0",
    ),
}


def test_every_public_function_is_tested():
    assert set(CASES) | {"cross_entropy"} == set(PUBLIC)


@pytest.mark.parametrize("name", sorted(CASES))
def test_function_value_gradient_and_grad_fn_match_torch(name):
    text, by_hand, grad_fn = CASES[name]
    if "[" in text:  # a matrix literal: only answers write lists, so make it an input
        text = text.replace("[[0, 1, 1], [1, 0, 0]]", "t")
    lesson = lesson_text(
        f"""
        format: 1
        id: fn-{name.replace("_", "-")}
        title: {name}
        dtype: float64
        inputs:
          a: {{value: {M}, requires_grad: true}}
          t: {[[0.0, 1.0, 1.0], [1.0, 0.0, 0.0]]}
        nodes:
          y: {text}
          s: sum(y)
        """
    )
    comp = lesson.computation
    a = t64(M, True)
    y = by_hand(a)
    y.sum().backward()
    truth = analyse(comp, comp.inputs)
    assert truth.values["y"] == pytest.approx(y.detach().numpy(), rel=1e-12, abs=1e-15)
    assert truth.gradients["a"] == pytest.approx(a.grad.numpy(), rel=1e-10, abs=1e-12)
    assert grad_fn_names(comp, comp.inputs, comp.requires_grad)["y"] == grad_fn
    # our own float64 interpreter agrees with torch too
    assert evaluate(comp.nodes["y"], comp.inputs) == pytest.approx(y.detach().numpy(), rel=1e-12, abs=1e-15)


def test_cross_entropy_with_class_index_targets():
    lesson = load_fixture("softmax-ce")
    comp = lesson.computation
    X, W = t64([[1.0, 0.5], [-1.0, 2.0]]), t64([[0.2, -0.5, 1.0], [0.7, 0.1, -0.3]], True)
    Z = X @ W
    Z.retain_grad()
    L = F.cross_entropy(Z, torch.tensor([2, 0]))
    L.backward()
    e = Engine(comp)
    assert e.grad_fn["Z"] == "MmBackward0" and e.grad_fn["L"] == "NllLossBackward0"
    assert float(e.truth.values["L"]) == pytest.approx(L.item(), rel=1e-12)
    assert e.truth.gradients["W"] == pytest.approx(W.grad.numpy(), rel=1e-12)
    # dZ = (softmax - one-hot) / N, the classic
    onehot = np.array([[0, 0, 1], [1, 0, 0]])
    assert e.truth.gradients["Z"] == pytest.approx((torch.softmax(Z, 1).detach().numpy() - onehot) / 2)
    assert comp.targets == {"y"} and comp.fixed("y")
    assert "y" not in comp.args("L")  # class indices carry no gradient: no step asks about them


@pytest.mark.parametrize(
    "nodes, message",
    [
        ("  L: cross_entropy(Z, X)", "X holds class indices: whole numbers from 0"),
        ("  L: cross_entropy(Z, y) + sum(y)", "y holds class indices: use it only as a target"),
        ("  L: cross_entropy(Z, Z)", "cross_entropy's target 'Z' must be an input holding class indices"),
    ],
)
def test_class_index_targets_are_checked(nodes, message):
    text = f"""
        format: 1
        id: bad-target
        title: A bad target
        inputs:
          X: {{value: [[0.5, 1.5], [1.0, 0.0]]}}
          y: [1, 0]
        nodes:
          Z: X*2
        {nodes}
        """
    with pytest.raises(LessonInvalid) as info:
        lesson_text(text.replace("        \n", ""))
    assert any(message in p.message for p in info.value.problems), info.value.problems


# --- the fixtures of the contract: each against torch by hand -------------------------------------


def test_a_matmul_layer_with_a_broadcast_bias():
    comp = load_fixture("linear-layer").computation
    X = t64([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]])
    W = t64([[0.5, -1.0], [2.0, 0.0], [-0.5, 1.0]], True)
    b = t64([0.1, -0.2], True)
    Z = X @ W + b
    A = torch.tanh(Z)
    L = torch.mean(A**2)
    for t in (Z, A):
        t.retain_grad()
    L.backward()
    e = Engine(comp)
    assert comp.shapes == {"X": (2, 3), "W": (3, 2), "b": (2,), "Z": (2, 2), "A": (2, 2), "L": ()}
    assert e.grad_fn == {
        "X": None,
        "W": None,
        "b": None,
        "Z": "AddBackward0",
        "A": "TanhBackward0",
        "L": "MeanBackward0",
    }
    for name, tensor in {"W": W, "b": b, "Z": Z, "A": A}.items():
        assert e.truth.gradients[name] == pytest.approx(tensor.grad.numpy(), rel=1e-12), name
    # the backprop truths are torch's vector-Jacobian products
    assert e.truth.vjp(("Z", "W"), Z.grad.numpy()) == pytest.approx((X.T @ Z.grad).numpy())
    assert e.truth.vjp(("Z", "b"), Z.grad.numpy()) == pytest.approx(Z.grad.sum(0).numpy())
    assert e.truth.vjp(("Z", "X"), Z.grad.numpy()) == pytest.approx((Z.grad @ W.T).detach().numpy())


def test_a_non_scalar_output_with_grad_output():
    comp = load_fixture("vjp").computation
    x = t64([1.0, 2.0, 3.0], True)
    y = x**2
    y.backward(t64([1.0, 0.5, -1.0]))
    assert Engine(comp).truth.gradients["x"] == pytest.approx(x.grad.numpy())


def test_a_non_scalar_output_without_grad_output_is_a_located_error():
    with pytest.raises(LessonInvalid) as info:
        lesson_text(
            """
            format: 1
            id: vector-out
            title: A vector output
            inputs:
              x: {value: [1.0, 2.0], requires_grad: true}
            nodes:
              y: x*3
            """
        )
    (problem,) = info.value.problems
    assert (problem.line, problem.col) == (1, 1) or "grad_output" in problem.message
    assert "backward() needs a scalar" in problem.message and "grad_output" in problem.message


def test_grad_output_must_have_the_outputs_shape():
    with pytest.raises(LessonInvalid) as info:
        lesson_text(
            """
            format: 1
            id: vector-out
            title: A vector output
            inputs:
              x: {value: [1.0, 2.0], requires_grad: true}
            nodes:
              y: x*3
            grad_output: [1.0, 2.0, 3.0]
            """
        )
    (problem,) = info.value.problems
    assert problem.message == "grad_output has shape (3,); the output y has (2,)" and problem.line == 8


def test_shape_errors_in_a_lesson_are_located():
    with pytest.raises(LessonInvalid) as info:
        lesson_text(
            """
            format: 1
            id: bad-matmul
            title: Shapes that do not fit
            inputs:
              A: [[1.0, 2.0], [3.0, 4.0]]
              v: [1.0, 2.0, 3.0]
            nodes:
              y: sum(A @ v)
            """
        )
    (problem,) = info.value.problems
    assert "@ needs the inner sizes to agree: shapes (2, 2) @ (3,)" in problem.message
    assert (problem.line, problem.col) == (8, 10)  # at the product A @ v


# --- backprop steps ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def layer():
    return session("linear-layer")


@pytest.mark.parametrize(
    "target, answer, status, diagnosis",
    [
        (["Z", "W"], "transpose(X) @ grad_Z", "correct", None),
        (["Z", "W"], "grad_Z @ transpose(X)", "wrong", "shape"),
        (["Z", "W"], "transpose(grad_Z) @ X", "wrong", "transposed"),
        (["Z", "X"], "grad_Z @ transpose(W)", "correct", None),
        (["Z", "X"], "transpose(grad_Z @ transpose(W))", "wrong", "transposed"),
        (["Z", "b"], "sum(grad_Z, 0)", "correct", None),
        (["Z", "b"], "grad_Z", "wrong", "broadcast_sum"),
        (["A", "Z"], "grad_A*(1 - A**2)", "correct", None),
        (["A", "Z"], "grad_A*(1 - tanh(Z)**2)", "correct", None),
        (["A", "Z"], "1 - A**2", "wrong", "missing_upstream"),
        (["A", "Z"], "grad_A*sigmoid(Z)*(1 - sigmoid(Z))", "wrong", "derivative_table"),
        (["L", "A"], "grad_L*2*A/4", "correct", None),
        (["L", "A"], "grad_L*2*A", "wrong", "mean_count"),
        (["Z", "W"], "grad_Z", "wrong", "shape"),
    ],
)
def test_backprop_answers(layer, target, answer, status, diagnosis):
    verdict = question(layer, "backprop", target).grade(answer)
    assert (verdict.status, verdict.diagnosis) == (status, diagnosis), verdict.feedback


def test_a_backprop_formula_is_checked_with_random_upstream_gradients(layer):
    q = question(layer, "backprop", ["Z", "W"])
    # the true upstream gradient at the lesson's values makes this number right...
    truth = q.expected
    assert q.grade(repr(truth.tolist())).correct
    # ...but a formula that hard-codes it instead of grad_Z fails at the test points
    upstream = layer.engine.truth.gradients["Z"]
    literal = repr(np.round(upstream, 12).tolist())
    verdict = q.grade(f"transpose(X) @ {literal}")
    assert verdict.status == "wrong" and verdict.diagnosis == "coincidence"


def test_shape_messages_name_both_shapes(layer):
    verdict = question(layer, "backprop", ["Z", "W"]).grade("[[1, 2], [3, 4]]")
    assert verdict.feedback == "Your answer has shape (2, 2); the gradient flowing into W has shape (3, 2)."
    verdict = question(layer, "gradient", "W").grade("3")
    assert verdict.feedback == "Your answer is a single number; dL/dW has shape (3, 2)."


def test_backprop_on_scalars():
    sess = session("backprop-scalar")
    assert sess.question(0).grade("grad_z*cos(y)").correct
    assert sess.question(0).grade("cos(y)").diagnosis == "missing_upstream"
    assert sess.question(0).grade("-grad_z*cos(y)").diagnosis == "derivative_table"
    assert sess.question(1).grade("grad_y*2*x").correct
    assert sess.question(1).grade("grad_y*x").diagnosis == "power_rule"
    # grad_y is the true upstream gradient at the lesson's values, so numbers work too
    assert sess.question(1).grade(repr(float(sess.question(1).expected))).correct


def test_softmax_cross_entropy_backprop():
    sess = session("softmax-ce")
    q = question(sess, "backprop", ["L", "Z"])
    assert q.grade("grad_L*(softmax(Z, 1) - [[0, 0, 1], [1, 0, 0]])/2").correct
    assert q.grade("grad_L*(softmax(Z, 1) - [[0, 0, 1], [1, 0, 0]])").diagnosis == "mean_count"
    assert q.grade("(softmax(Z, 1) - [[0, 0, 1], [1, 0, 0]])/2").diagnosis == "missing_upstream"


def test_steps_json_gives_backprop_targets(cli):
    result = cli("steps", "tests/tensors/linear-layer.yaml", "--json")
    steps = __import__("json").loads(result.stdout)
    assert {"index": 6, "kind": "backprop", "target": ["Z", "W"]}.items() <= steps[6].items()
    assert "grad_Z" in steps[6]["prompt"] and "(3, 2)" in steps[6]["prompt"]


def test_functions_table_is_the_one_source_of_usages():
    constants = {"dim": "0", "lo": "0", "hi": "1"}
    for name in PUBLIC:
        f = FUNCTIONS[name]
        assert f.usage == f"{name}({', '.join(f'[{p.name}]' if p.optional else p.name for p in f.params)})"
        args = ", ".join(constants.get(p.name, p.name) for p in f.params)
        parse(f"{name}({args})", ["a", "b", "p", "t", "z", "logits", "target"])
        with pytest.raises(ParseError, match=re.escape(f.usage)):
            parse(f"{name}({', '.join(['a'] * (f.arity[1] + 1))})", ["a"])
