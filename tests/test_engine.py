"""The torch engine against torch itself: the notebook numbers, grad_fn names,
local factors, multi-path graphs and the float64 twin, for every fixture lesson."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from conftest import LESSONS, TENSORS, lesson_text, load_fixture

from autograd_tutor.engine.graph import analyse, grad_fn_names, local_factor
from autograd_tutor.engine.sampling import POINTS, Engine, TestPoints
from autograd_tutor.expr.evaluate import is_finite
from autograd_tutor.grade import chain

FIXTURES = sorted(p.stem for p in (*LESSONS.glob("*.yaml"), *TENSORS.glob("*.yaml")))


@pytest.fixture(scope="module")
def engines() -> dict[str, Engine]:
    return {name: Engine(load_fixture(name).computation) for name in FIXTURES}


def r4(value):
    """Rounded to 4 decimals, as the notebooks print (a number, or a list)."""
    return np.round(np.asarray(value, dtype=float), 4).tolist()


def test_every_fixture_is_covered():
    assert set(FIXTURES) >= {
        "chain",
        "neuron-1",
        "neuron-2",
        "neuron-3",
        "mean",
        "square",
        "square-fp16",
        "two-paths",
        "grad-fn",
    }


# --- the notebook numbers -------------------------------------------------------------


def test_chain_rule_sin_square(engines):
    e = engines["chain"]
    for analysis in (e.truth, e.native):
        assert r4(analysis.gradients["x"]) == -7.6613
        assert analysis.values["y"] == 16.0
        assert analysis.values["z"] == pytest.approx(math.sin(16.0), rel=1e-6)
    assert e.truth.gradients["x"] == pytest.approx(2 * 4.0 * math.cos(16.0), rel=1e-12)


@pytest.mark.parametrize(
    "name, loss, dw, db",
    [
        ("neuron-1", 6.7012, 6.6918, 0.9988),
        ("neuron-2", 3.4328, 3.2902, 0.9677),
        ("neuron-3", 0.0237, -0.0874, -0.0234),
    ],
)
def test_neurons(engines, name, loss, dw, db):
    e = engines[name]
    for analysis in (e.truth, e.native):
        assert r4(analysis.values["loss"]) == loss
        assert r4(analysis.gradients["w"]) == dw
        assert r4(analysis.gradients["b"]) == db


@pytest.mark.parametrize("name", ["neuron-1", "neuron-2", "neuron-3"])
def test_neuron_local_factors_match_the_notebook_formulas(engines, name):
    comp = load_fixture(name).computation
    a = engines[name].truth
    x, y, yp = a.values["x"], a.values["y"], a.values["y_pred"]
    assert a.local[("loss", "y_pred")] == pytest.approx((yp - y) / (yp * (1 - yp)), rel=1e-9)
    assert a.local[("y_pred", "z")] == pytest.approx(yp * (1 - yp), rel=1e-9)
    assert a.local[("z", "w")] == pytest.approx(x)
    assert a.local[("z", "b")] == 1.0
    assert a.local[("z", "x")] == pytest.approx(a.values["w"])
    assert comp.output == "loss"


def test_mean_of_squares(engines):
    e = engines["mean"]
    for analysis in (e.truth, e.native):
        assert r4(analysis.values["y"]) == 4.6667
        assert r4(analysis.gradients["x"]) == [0.6667, 1.3333, 2.0]


def test_square_at_two_and_three(engines):
    e = engines["square"]
    assert e.truth.gradients["x"] == 4.0
    assert analyse(e.comp, {"x": 3.0}).gradients["x"] == 6.0
    assert analyse(e.comp, {"x": 3.0}, "float32").gradients["x"] == 6.0


def test_square_in_float16(engines):
    e = engines["square-fp16"]
    assert e.comp.dtype == "float16"
    assert e.native.gradients["x"] == 20.0
    assert e.native.values["y"] == 100.0


# --- grad_fn names ---------------------------------------------------------------------


def test_grad_fn_names_are_torchs_own(engines):
    assert engines["grad-fn"].grad_fn == {
        "x": None,
        "w": None,
        "p": "PowBackward0",
        "s": "SinBackward0",
        "a": "AddBackward0",
        "g": "SigmoidBackward0",
        "n": "NegBackward0",
        "m": "MeanBackward0",
    }
    assert engines["chain"].grad_fn == {"x": None, "y": "PowBackward0", "z": "SinBackward0"}
    assert engines["neuron-1"].grad_fn["z"] == "AddBackward0"
    assert engines["neuron-1"].grad_fn["y_pred"] == "SigmoidBackward0"
    assert engines["mean"].grad_fn["y"] == "MeanBackward0"


def test_grad_fn_names_follow_requires_grad_as_authored():
    lesson = lesson_text(
        """
        format: 1
        id: untracked
        title: Nothing requires grad
        inputs:
          x: 2.0
        nodes:
          y: x**2
        """
    )
    comp = lesson.computation
    assert grad_fn_names(comp, comp.inputs, comp.requires_grad) == {"x": None, "y": None}
    # while the mathematics is still there
    assert Engine(comp).truth.gradients["x"] == 4.0


# --- analyse against an independent torch computation, for every fixture ------------------


def _independent(name: str, leaves: dict) -> dict:
    """Each fixture's graph, written by hand with torch."""
    x = leaves.get("x")
    if name in ("chain", "non-leaf"):
        y = x**2
        return {"y": y, "z": torch.sin(y)}
    if name in ("square", "square-fp16", "accumulate", "no-tracking"):
        return {"y": x**2}
    if name.startswith("neuron"):
        z = leaves["w"] * x + leaves["b"]
        y_pred = torch.sigmoid(z)
        p = torch.clamp(y_pred, min=1e-8, max=1 - 1e-8)
        t = leaves["y"]
        return {"z": z, "y_pred": y_pred, "loss": -(t * torch.log(p) + (1 - t) * torch.log(1 - p))}
    if name == "mean":
        s = x**2
        return {"s": s, "y": torch.mean(s)}
    if name == "two-paths":
        a, b = x * x, torch.sin(x)
        return {"a": a, "b": b, "y": a + b}
    if name == "grad-fn":
        p = x**2
        s = torch.sin(p)
        a = leaves["w"] * s + 1
        g = torch.sigmoid(a)
        n = -g
        return {"p": p, "s": s, "a": a, "g": g, "n": n, "m": torch.mean(n)}
    if name == "jacobian":
        v = torch.sum(x) * x
        return {"v": v, "y": torch.sum(v)}
    if name == "backprop-scalar":
        y = x**2
        return {"y": y, "z": torch.sin(y)}
    if name == "linear-layer":
        Z = leaves["X"] @ leaves["W"] + leaves["b"]
        A = torch.tanh(Z)
        return {"Z": Z, "A": A, "L": torch.mean(A**2)}
    if name == "softmax-ce":
        Z = leaves["X"] @ leaves["W"]
        return {"Z": Z, "L": torch.nn.functional.cross_entropy(Z, leaves["y"].long())}
    if name == "vjp":
        return {"y": x**2}
    if name == "variants":
        z = leaves["w"] * x + leaves["b"]
        p = torch.sigmoid(z)
        return {"z": z, "p": p, "loss": (p - leaves["t"]) ** 2}
    raise AssertionError(f"write the independent computation of {name}")


def _torch_truth(name: str, dtype: torch.dtype) -> tuple[dict, dict]:
    comp = load_fixture(name).computation
    leaves = {n: torch.tensor(v, dtype=dtype, requires_grad=n not in comp.targets) for n, v in comp.inputs.items()}
    nodes = _independent(name, leaves)
    for t in nodes.values():
        t.retain_grad()
    grad_output = None if comp.grad_output is None else torch.tensor(comp.grad_output, dtype=dtype)
    nodes[comp.output].backward(grad_output)
    tensors = {**leaves, **nodes}
    values = {n: t.detach().tolist() for n, t in tensors.items()}
    grads = {n: t.grad.tolist() for n, t in tensors.items() if t.grad is not None}
    return values, grads


def _flat(value):
    return np.asarray(value).tolist()


@pytest.mark.parametrize("name", FIXTURES)
def test_analyse_matches_torch_in_float64(name, engines):
    values, grads = _torch_truth(name, torch.float64)
    truth = engines[name].truth
    assert set(truth.values) == set(values)
    for n, v in values.items():
        assert np.asarray(truth.values[n]) == pytest.approx(np.asarray(v), rel=1e-12, abs=1e-15)
    for n, g in grads.items():
        assert np.asarray(truth.gradients[n]) == pytest.approx(np.asarray(g), rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("name", FIXTURES)
def test_native_analysis_is_torch_in_the_lesson_dtype(name, engines):
    comp = load_fixture(name).computation
    values, grads = _torch_truth(name, getattr(torch, comp.dtype))
    native = engines[name].native
    for n, v in values.items():
        assert _flat(native.values[n]) == v  # bit for bit: the same operations in the same dtype
    for n, g in grads.items():
        assert _flat(native.gradients[n]) == g


@pytest.mark.parametrize("name", FIXTURES)
def test_gradient_is_the_sum_over_paths_of_the_products_of_local_factors(name, engines):
    comp = load_fixture(name).computation
    truth = engines[name].truth
    for target in (*comp.inputs, *comp.nodes):
        paths = comp.paths(target)
        if target == comp.output or not paths:
            continue
        total = chain.backward(comp, truth, target)  # vector-Jacobian products where factors are not elementwise
        assert total == pytest.approx(truth.gradients[target], rel=1e-9, abs=1e-12), target
        with_jacobians = chain.backward(comp, truth, target, {e: truth.local[e] for e in comp.edges})
        assert with_jacobians == pytest.approx(truth.gradients[target], rel=1e-9, abs=1e-12), target


@pytest.mark.parametrize("name", FIXTURES)
def test_every_edge_has_a_finite_local_factor(name, engines):
    comp = load_fixture(name).computation
    analysis = engines[name].truth
    edges = set(comp.edges)
    assert edges and set(analysis.local) == edges
    assert all(is_finite(analysis.local[edge]) for edge in edges)
    assert analysis.finite()


def test_gradients_exist_for_inputs_without_requires_grad(engines):
    # forward/local/gradient steps ask about the mathematics, whatever requires_grad says
    a = engines["neuron-1"].truth
    assert a.gradients["x"] == pytest.approx(a.values["w"] * a.gradients["z"])
    assert a.gradients["y"] == pytest.approx(a.local[("loss", "y")])


# --- multi-path graphs ---------------------------------------------------------------------


def test_two_paths_add_up(engines):
    e = engines["two-paths"]
    x = 1.5
    assert e.truth.gradients["x"] == pytest.approx(2 * x + math.cos(x), rel=1e-12)
    assert e.truth.local[("a", "x")] == pytest.approx(2 * x)  # x*x: both occurrences
    assert e.truth.local[("b", "x")] == pytest.approx(math.cos(x))
    assert e.truth.local[("y", "a")] == e.truth.local[("y", "b")] == 1.0
    assert len(e.comp.paths("x")) == 2
    for other in (0.3, -2.0):
        assert analyse(e.comp, {"x": other}).gradients["x"] == pytest.approx(2 * other + math.cos(other))


def test_a_node_reached_twice():
    lesson = lesson_text(
        """
        format: 1
        id: diamond
        title: A diamond
        inputs:
          x: {value: 0.7, requires_grad: true}
        nodes:
          u: exp(x)
          a: u*u
          b: 3*u
          y: a*b
        """
    )
    comp = lesson.computation
    e = Engine(comp)
    x = 0.7
    # y = 3 exp(3x): dy/dx = 9 exp(3x)
    assert e.truth.gradients["x"] == pytest.approx(9 * math.exp(3 * x), rel=1e-12)
    assert len(comp.paths("x")) == 2 and len(comp.paths("u")) == 2


# --- local factors: scalar, elementwise, reductions, Jacobians ----------------------------------


def test_local_factors_of_a_vector_graph(engines):
    truth = engines["mean"].truth
    assert truth.local[("s", "x")].tolist() == [2.0, 4.0, 6.0]  # elementwise: the diagonal
    assert truth.local[("y", "s")] == pytest.approx(np.array([1 / 3, 1 / 3, 1 / 3]))  # a reduction: the partials


def test_vector_node_with_a_scalar_argument(engines):
    truth = engines["grad-fn"].truth
    # a = w*s + 1: ∂a_i/∂w = s_i, ∂a_i/∂s_i = w
    assert truth.local[("a", "w")] == pytest.approx(truth.values["s"])
    assert truth.local[("a", "s")].tolist() == [0.5, 0.5]


@pytest.fixture(scope="module")
def jacobian_lesson():
    return load_fixture("jacobian")


def test_full_jacobian_for_a_node_mixing_a_reduction_and_elementwise_terms(jacobian_lesson):
    comp = jacobian_lesson.computation
    assert not comp.elementwise("v")
    engine = Engine(comp)
    x = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)
    expected = torch.autograd.functional.jacobian(lambda t: t.sum() * t, x)
    assert engine.truth.local[("v", "x")].tolist() == expected.tolist()
    assert engine.truth.local[("v", "x")].tolist() == [[7.0, 1.0, 1.0], [2.0, 8.0, 2.0], [3.0, 3.0, 9.0]]
    # and the chain rule through a Jacobian is a vector-Jacobian product
    assert engine.truth.gradients["x"].tolist() == [12.0, 12.0, 12.0]
    assert chain.backward(comp, engine.truth, "x") == pytest.approx(np.array([12.0, 12.0, 12.0]))


def test_local_factor_holds_the_other_arguments_fixed(engines):
    comp = load_fixture("neuron-1").computation
    values = dict(engines["neuron-1"].truth.values)
    values["w"] = 2.5
    assert local_factor(comp, ("z", "x"), values) == 2.5
    assert local_factor(comp, ("z", "w"), values) == pytest.approx(6.7)


# --- the float64 twin and the lesson's dtype --------------------------------------------------


def test_float64_twin_and_float32_native_differ_as_torch_does(engines):
    e = engines["chain"]
    assert e.truth.values["z"] != e.native.values["z"]
    z32 = torch.sin(torch.tensor(4.0, dtype=torch.float32) ** 2).item()
    z64 = math.sin(16.0)
    assert e.native.values["z"] == z32
    assert e.truth.values["z"] == pytest.approx(z64, rel=1e-15)


def test_float16_native_is_computed_in_float16():
    lesson = lesson_text(
        """
        format: 1
        id: half
        title: A tenth in float16
        dtype: float16
        inputs:
          x: {value: 0.1, requires_grad: true}
        nodes:
          y: x**2
        """
    )
    e = Engine(lesson.computation)
    x16 = torch.tensor(0.1, dtype=torch.float16, requires_grad=True)
    y16 = x16**2
    y16.backward()
    assert e.native.values["y"] == y16.item()
    assert e.native.gradients["x"] == x16.grad.item()
    assert e.truth.values["y"] == pytest.approx(0.01, rel=1e-12)
    assert e.native.values["y"] != e.truth.values["y"]


def test_float64_lessons_share_the_twin():
    lesson = lesson_text(
        """
        format: 1
        id: double
        title: float64
        dtype: float64
        inputs:
          x: {value: 0.1, requires_grad: true}
        nodes:
          y: x**3
        """
    )
    e = Engine(lesson.computation)
    assert e.native is e.truth


# --- sampled points, for judging formulas ---------------------------------------------------------


def test_test_points_move_every_input_that_is_not_fixed_and_are_reproducible():
    comp = load_fixture("neuron-1").computation
    first = TestPoints(comp, "neuron-1").points
    again = TestPoints(comp, "neuron-1").points
    assert len(first) == POINTS
    assert [{n: v.tolist() for n, v in a.values.items()} for a in first] == [
        {n: v.tolist() for n, v in a.values.items()} for a in again
    ]
    for a in first:
        for name in ("x", "y", "w", "b"):  # every input moves, whether or not an answer names it
            assert a.values[name] != comp.inputs[name]
        assert a.finite()
        assert a.gradients["b"] == pytest.approx(a.values["y_pred"] - a.values["y"], rel=1e-6)


def test_the_default_domain_has_either_sign_and_reaches_twice_the_value():
    lesson = lesson_text(
        """
        format: 1
        id: wide
        title: The default domain
        inputs:
          x: {value: 4.0, requires_grad: true}
          t: {value: 1.0, sample: fixed}
          u: {value: 2.0, sample: [2.0, 5.0]}
          v: {value: 0.5, sample: {low: 1.0, high: 2.0, step: 0.5}}
        nodes:
          y: x**2 * t * u * v
        """
    )
    comp = lesson.computation
    xs = []
    for k in range(40):
        points = TestPoints(comp, f"wide-{k}").points
        for a in points:
            xs.append(float(a.values["x"]))
            assert a.values["t"] == 1.0
            assert float(a.values["u"]) in (2.0, 5.0)
            assert float(a.values["v"]) in (1.0, 1.5, 2.0)
    assert min(xs) < -4 and max(xs) > 4  # either sign, beyond the authored value
    assert all(-9 <= x <= 9 for x in xs)  # within [-2|v|-1, 2|v|+1]


def test_samples_keep_only_finite_points():
    lesson = lesson_text(
        """
        format: 1
        id: near-a-pole
        title: log near zero
        inputs:
          x: {value: 0.05, requires_grad: true}
        nodes:
          y: log(x)
        """
    )
    for a in TestPoints(lesson.computation, "near-a-pole").points:
        assert a.values["x"] > 0 and a.finite()
