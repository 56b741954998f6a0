"""The course's math lessons (files 20-29): each is complete and plays right on
several variants, and every number or claim about torch in their prose that
does not come from `{name}` is checked here against torch itself."""

from __future__ import annotations

import math
import re
import warnings
from functools import cache
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from autograd_tutor.check import play
from autograd_tutor.lesson.loader import Lesson, load
from autograd_tutor.session import LessonSession
from autograd_tutor.validate import validate

COURSE = Path(__file__).parent.parent / "lessons"
FILES = sorted(COURSE.glob("2[0-9]-*.yaml"))
NAMES = [f.name for f in FILES]
VARIANTS = (0, 6, 13, 19)
OUTCOME_WORDS = {"ok", "error", "true", "false"}  # steps whose only wrong answer is the other word


@cache
def lesson(name: str) -> Lesson:
    return load(COURSE / name)


def named(prefix: str) -> Lesson:
    (name,) = [n for n in NAMES if n.startswith(prefix)]
    return lesson(name)


def prose(les: Lesson) -> list[str]:
    """Every text a learner reads: intro, prompts, hints, explanations, feedback."""
    texts = [les.spec.intro or ""]
    for step in les.steps:
        texts += [step.prompt or "", step.explain or "", *step.hints, *(m.feedback for m in step.mistakes)]
        if step.kind == "choose":
            texts += [t or "" for option in step.target.options for t in (option.text, option.feedback)]
    return texts


def at_step(les: Lesson, index: int, variant: int) -> LessonSession:
    session = LessonSession(les, variant=variant)
    while session.index < index:
        session.reveal()
        session.advance()
    return session


def observed(les: Lesson, target: str, variant: int = 0):
    """torch's live value at the lesson's (first) predict step of `target`."""
    (index,) = [s.index for s in les.steps if s.kind == "predict" and s.target == target][:1]
    return at_step(les, index, variant).question().expected


# --- every math lesson is complete -------------------------------------------------


def test_the_math_lessons_are_files_20_to_29():
    assert len(FILES) >= 9
    assert len({lesson(n).id for n in NAMES}) == len(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_lesson_validates_silently_on_all_variants(name):
    assert [str(p) for p in validate([COURSE / name])] == []


@pytest.mark.parametrize("name", NAMES)
def test_lesson_is_complete(name):
    les = lesson(name)
    spec = les.spec
    assert spec.variants is True
    assert spec.intro and spec.summary and spec.level and spec.tags and spec.skills
    assert "notebook" not in " ".join(prose(les)).lower()
    assert any(s.kind == "predict" for s in les.steps), "a predict-before-you-see step"
    assert sum(bool(s.explain) for s in les.steps) >= 2
    chooses = [s for s in les.steps if s.kind == "choose"]
    assert chooses, "a choose step"
    for step in chooses:  # explaining a result just seen: right after a step that showed one
        assert les.steps[step.index - 1].takes_answer, f"step {step.index}"
        options = step.target.options
        assert len(options) >= 3 and len(step.target.correct) == 1
    for step in les.steps:
        if not step.takes_answer or step.kind == "choose":
            continue
        assert len(step.hints) >= 2, f"step {step.index}: hints from gentle to strong"
        if str(step.answer).lower() not in OUTCOME_WORDS:
            assert len(step.mistakes) >= 3, f"step {step.index}: at least 3 authored mistakes"


@pytest.mark.parametrize("name", NAMES)
def test_variants_give_other_numbers(name):
    les = lesson(name)
    authored = LessonSession(les, variant=0).comp.inputs
    moved = [LessonSession(les, variant=k).comp.inputs for k in range(1, 20)]
    assert any(any(not np.array_equal(v[n], authored[n]) for n in authored) for v in moved)


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("name", NAMES)
def test_model_answers_play_correct(name, variant):
    les = lesson(name)
    answers = [s.answer if s.takes_answer else None for s in les.steps]
    report = play(les, answers, variant=variant)
    assert report["variant"] == variant
    assert report["correct"] == report["total"], [r for r in report["steps"] if r["verdict"] != "correct"]


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("name", NAMES)
def test_every_mistake_gets_its_own_feedback(name, variant):
    les = lesson(name)
    session = LessonSession(les, variant=variant)
    for step in les.steps:
        for mistake in step.mistakes:
            verdict = session.check(mistake.answer)
            assert verdict.status == "wrong", (step.index, mistake.answer)
            assert (verdict.diagnosis, verdict.feedback) == ("authored", mistake.feedback), (step.index, mistake.answer)
        if step.kind == "choose":
            for number, option in enumerate(step.target.options, 1):
                verdict = session.check(str(number))
                assert verdict.correct == option.correct, (step.index, number)
                if not option.correct:
                    assert (verdict.diagnosis, verdict.feedback) == ("authored", option.feedback), (step.index, number)
        session.reveal()
        session.advance()


# --- 20: checking a gradient numerically --------------------------------------------


def central(x: torch.Tensor, h: float) -> float:
    h_t = torch.tensor(h, dtype=x.dtype)
    return ((torch.sin((x + h_t) ** 2) - torch.sin((x - h_t) ** 2)) / (2 * h_t)).item()


def test_central_differences_at_4_in_float64_and_float32():
    x64, x32 = torch.tensor(4.0, dtype=torch.float64), torch.tensor(4.0)
    assert round(central(x64, 1e-4), 6) == -7.661275
    assert round((2 * x64 * torch.cos(x64**2)).item(), 6) == -7.661276
    assert round(central(x32, 1e-6), 4) == -7.3016
    assert central(x32, 1e-7) == 0.0


def test_the_lesson_shows_torchs_float32_estimates():
    les = named("20")
    assert round(float(observed(les, "fd6")), 4) == -7.3016
    for variant in range(20):
        x = float(LessonSession(les, variant=variant).comp.inputs["x"])
        truth = 2 * x * math.cos(x * x)
        fd = central(torch.tensor(x, dtype=torch.float64), 0.01)
        assert abs(fd / truth - 1) < 5e-3  # h = 0.01: about three significant figures
        assert abs(central(torch.tensor(x), 1e-6) / truth - 1) > 0.02  # h = 1e-6 in float32: several percent off
        assert float(observed(les, "step6", variant)) == 2.0**-20
        x32 = torch.tensor(x)
        assert (x32 - (x32 - 1e-6)).item() == 2.0**-20  # the step down is 2^-20 too
        assert float(observed(les, "fd7", variant)) == 0.0


def test_float32_spacing_near_x():
    assert np.spacing(np.float32(3.0)) == np.float32(2.0**-22)
    assert np.spacing(np.float32(5.0)) == np.float32(2.0**-21)
    assert (torch.tensor(4.0) + 1e-6 - torch.tensor(4.0)).item() == 2.0**-20
    assert (torch.tensor(3.0) + 1e-6 - torch.tensor(3.0)).item() == 2.0**-20


def test_gradcheck_passes_in_float64_and_fails_in_float32_with_the_fd6_number():
    import inspect
    import sys

    GradcheckError = sys.modules["torch.autograd.gradcheck"].GradcheckError  # the module, not the function
    assert inspect.signature(torch.autograd.gradcheck).parameters["eps"].default == 1e-6
    f = lambda x: torch.sin(x**2)  # noqa: E731 - the lesson's own lambda
    assert torch.autograd.gradcheck(f, (torch.tensor(4.0, dtype=torch.float64, requires_grad=True),))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(GradcheckError) as err:
            torch.autograd.gradcheck(f, (torch.tensor(4.0, requires_grad=True),))
    assert any("is not a double precision floating point" in str(w.message) for w in caught)
    message = str(err.value)
    assert "Jacobian mismatch" in message
    assert "numerical:tensor([[-7.3016]])" in message.replace(" ", "").replace("\n", "")
    assert "analytical:tensor([[-7.6613]])" in message.replace(" ", "").replace("\n", "")


# --- 21 and 22: kinks and a dead ReLU -------------------------------------------------


def grad_at(f, value: float) -> float:
    x = torch.tensor(value, requires_grad=True)
    f(x).backward()
    return x.grad.item()


def test_torchs_conventions_at_the_kinks():
    assert grad_at(torch.relu, 0.0) == 0.0
    assert grad_at(torch.abs, 0.0) == 0.0
    assert grad_at(lambda x: torch.clamp(x, 0, 1), 0.0) == 1.0
    assert grad_at(lambda x: torch.clamp(x, 0, 1), 1.0) == 1.0
    assert grad_at(lambda x: torch.maximum(x, torch.tensor(0.0)), 0.0) == 0.5
    assert grad_at(lambda x: torch.minimum(x, torch.tensor(0.0)), 0.0) == 0.5


def test_a_central_difference_at_relus_corner_is_one_half():
    for h in (1e-1, 1e-3):
        x = torch.tensor(0.0)
        assert ((torch.relu(x + h) - torch.relu(x - h)) / (2 * h)).item() == pytest.approx(0.5)


def test_every_variant_of_the_dead_relu_is_dead():
    les = named("22")
    for variant in range(20):
        z = LessonSession(les, variant=variant).engine.native.values["z"]
        assert np.all(z < 0)


def test_leaky_relu_is_max_of_z_and_a_hundredth_of_z():
    z = torch.tensor([-2.0, -0.5, 0.0, 0.5, 3.0], requires_grad=True)
    assert torch.equal(F.leaky_relu(z, 0.01), torch.maximum(z, 0.01 * z))
    F.leaky_relu(z, 0.01).sum().backward()
    assert z.grad[0].item() == pytest.approx(0.01)


# --- 23 and 24: saturation, and a stable BCE -------------------------------------------


def test_neuron_example_1_under_bce_and_mse():
    les = named("23")
    grads = LessonSession(les, variant=0).engine.native.gradients
    assert round(float(grads["w_bce"]), 4) == 6.6918
    assert round(float(grads["w_mse"]), 6) == 0.016434


def test_the_sigmoids_slope_is_at_most_a_quarter():
    z = torch.linspace(-20, 20, 4001, requires_grad=True)
    torch.sigmoid(z).sum().backward()
    assert z.grad.max().item() == pytest.approx(0.25)
    assert z.grad.argmax().item() == 2000  # at z = 0


def test_the_clamped_bce_breaks_at_17_in_float32():
    assert torch.sigmoid(torch.tensor(17.0)).item() == 1.0
    assert torch.tensor(1 - 1e-8).item() == 1.0
    z, y = torch.tensor(17.0, requires_grad=True), torch.tensor(0.0)
    p = torch.clamp(torch.sigmoid(z), 1e-8, 1 - 1e-8)
    assert (1 - p).item() == 0.0
    loss = -(y * torch.log(p) + (1 - y) * torch.log(1 - p))
    assert math.isinf(loss.item())
    loss.backward()
    assert math.isnan(z.grad.item())


def test_bce_with_logits_stays_finite():
    z, y = torch.tensor(17.0, requires_grad=True), torch.tensor(0.0)
    loss = F.binary_cross_entropy_with_logits(z, y)
    loss.backward()
    assert loss.item() == 17.0
    assert z.grad.item() == 1.0
    big = torch.tensor(1000.0)
    assert math.isinf(torch.log(1 + torch.exp(big)).item())
    assert F.binary_cross_entropy_with_logits(big, y).item() == 1000.0
    assert torch.nn.BCEWithLogitsLoss()(big, y).item() == 1000.0


# --- 26: non-scalar outputs -------------------------------------------------------------


def test_backward_of_a_vector_needs_grad_output_and_is_a_vector_jacobian_product():
    les = named("26")
    first = LessonSession(les, variant=0).truth(0)  # torch.autograd.grad(y, x), live
    assert first.message == "RuntimeError: grad can be implicitly created only for scalar outputs"
    x = torch.tensor(les.computation.inputs["x"], dtype=torch.float32, requires_grad=True)
    W = torch.tensor(les.computation.inputs["W"], dtype=torch.float32)
    y = W @ x**2
    with pytest.raises(RuntimeError, match="^grad can be implicitly created only for scalar outputs$"):
        y.backward(retain_graph=True)
    v = torch.tensor(les.computation.grad_output, dtype=torch.float32)
    y.backward(v, retain_graph=True)
    via_v = x.grad.clone()
    x.grad = None
    (v * y).sum().backward(retain_graph=True)
    assert torch.allclose(via_v, x.grad)
    x.grad = None
    y.backward(torch.ones(2), retain_graph=True)
    ones = x.grad.clone()
    x.grad = None
    y.sum().backward()
    assert torch.allclose(ones, x.grad)


# --- 27 and 28: grad_fn names, and softmax at a logit of 1000 --------------------------


def grad_fn_names() -> dict[str, str]:
    X, W = torch.randn(4, 3), torch.randn(3, 2, requires_grad=True)
    Z = torch.randn(2, 3, requires_grad=True)
    loss = F.cross_entropy(Z, torch.tensor([2, 0]))
    return {
        "X @ W": (X @ W).grad_fn.name(),
        "X * X@W": (X[:, :2] * (X @ W)).grad_fn.name(),
        "linear": torch.nn.Linear(3, 2)(X).grad_fn.name(),
        "cross_entropy": loss.grad_fn.name(),
        "cross_entropy's input": loss.grad_fn.next_functions[0][0].name(),
        "relu": torch.relu(Z).grad_fn.name(),
        "maximum": torch.maximum(Z, torch.tensor(0.0)).grad_fn.name(),
    }


def test_grad_fn_names_the_lessons_use():
    assert grad_fn_names() == {
        "X @ W": "MmBackward0",
        "X * X@W": "MulBackward0",
        "linear": "AddmmBackward0",
        "cross_entropy": "NllLossBackward0",
        "cross_entropy's input": "LogSoftmaxBackward0",
        "relu": "ReluBackward0",
        "maximum": "MaximumBackward0",
    }


def test_every_grad_fn_name_in_the_prose_is_torchs():
    real = set(grad_fn_names().values())
    for name in NAMES:
        for text in prose(lesson(name)):
            for quoted in re.findall(r"\b\w+Backward\d\b", text):
                assert quoted in real, (name, quoted)


def test_the_textbook_softmax_of_1000_is_nan_and_torchs_is_not():
    assert torch.finfo(torch.float32).max == pytest.approx(3.4e38, rel=0.01)
    Z = torch.tensor([[1000.0, 0.0, 0.0], [0.0, 1000.0, 0.0]], requires_grad=True)
    e = torch.exp(Z.detach())
    naive = e / e.sum(1, keepdim=True)
    assert math.isnan(naive[0, 0].item()) and math.isnan(naive[1, 1].item())
    assert torch.equal(torch.softmax(Z, 1), torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]))
    loss = F.cross_entropy(Z, torch.tensor([2, 0]))
    loss.backward()
    assert loss.item() == 1000.0
    assert torch.equal(Z.grad, torch.tensor([[0.5, 0.0, -0.5], [-0.5, 0.5, 0.0]]))


# --- 29: the capstone, against a network written in plain torch ------------------------


@pytest.mark.parametrize("variant", (0, 9))
def test_capstone_formulas_match_a_plain_torch_network(variant):
    inputs = LessonSession(named("29"), variant=variant).comp.inputs
    t = {n: torch.tensor(v, dtype=torch.float64) for n, v in inputs.items()}
    params = {n: t[n].requires_grad_() for n in ("W1", "b1", "W2", "b2")}
    H = torch.tanh(t["X"] @ params["W1"] + params["b1"])
    Z2 = H @ params["W2"] + params["b2"]
    F.cross_entropy(Z2, torch.tensor(inputs["y"], dtype=torch.long)).backward()
    with torch.no_grad():
        dZ2 = (torch.softmax(Z2, 1) - t["Y"]) / 4
        dZ1 = (dZ2 @ params["W2"].T) * (1 - H**2)
        assert torch.allclose(params["W2"].grad, H.T @ dZ2)
        assert torch.allclose(params["b2"].grad, dZ2.sum(0))
        assert torch.allclose(params["W1"].grad, t["X"].T @ dZ1)
        assert torch.allclose(params["b1"].grad, dZ1.sum(0))
    assert torch.equal(t["Y"].argmax(1), torch.tensor(inputs["y"], dtype=torch.long))
