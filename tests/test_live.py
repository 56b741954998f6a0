"""`run` and `predict`: the live torch state, operated on for real."""

from __future__ import annotations

import warnings

import pytest
import torch
from conftest import lesson_text, load_fixture, session

from autograd_tutor.engine.live import LiveState
from autograd_tutor.lesson.ops import Op as RunOp
from autograd_tutor.lesson.ops import parse_op
from autograd_tutor.session import LessonSession

NO_GRAD = "element 0 of tensors does not require grad and does not have a grad_fn"
SECOND_TIME = "Trying to backward through the graph a second time"


def ops(*raw) -> list[RunOp]:
    return [parse_op(r) for r in raw]


def live(name: str = "chain") -> LiveState:
    return LiveState(load_fixture(name).computation)


def value(state: LiveState, target: str):
    return state.observe(target).value


def torch_error(fn) -> str:
    """torch's own message for what `fn` does, as the learner would see it."""
    with pytest.raises(Exception) as info:
        fn()
    return f"{type(info.value).__name__}: {str(info.value).split(' (Triggered internally at')[0].strip()}"


# --- the starting state: one forward pass, as in a notebook --------------------------------


def test_the_live_state_starts_as_a_notebook_forward_pass():
    s = live("chain")
    assert value(s, "x") == 4.0
    assert value(s, "y") == 16.0
    assert value(s, "x.grad") is None
    assert value(s, "x.is_leaf") is True
    assert value(s, "y.is_leaf") is False
    assert value(s, "x.requires_grad") is True
    assert value(s, "y.requires_grad") is True
    assert value(s, "x.grad_fn") is None
    assert value(s, "y.grad_fn") == "PowBackward0"
    assert value(s, "z.grad_fn") == "SinBackward0"
    assert s.tensors["z"].dtype == torch.float32


def test_inputs_without_requires_grad_are_plain_tensors():
    s = live("neuron-1")
    assert value(s, "x.requires_grad") is False
    assert value(s, "w.requires_grad") is True
    assert value(s, "loss.grad_fn") == "NegBackward0"


# --- backward, accumulation, zero_ ------------------------------------------------------------


def test_gradients_accumulate_across_backward_calls_until_zeroed():
    s = live("square")
    assert s.run(ops("backward")).outcome == "ok"
    assert value(s, "x.grad") == 4.0
    assert s.run(ops("forward", "backward")).outcome == "ok"
    assert value(s, "x.grad") == 8.0
    assert s.run(ops("forward", "backward")).outcome == "ok"
    assert value(s, "x.grad") == 12.0
    result = s.run(ops({"zero_grad": "x"}))
    assert result.outcome == "ok" and result.results[0].code == "x.grad.zero_()"
    assert value(s, "x.grad") == 0.0
    assert s.run(ops("forward", "backward")).outcome == "ok"
    assert value(s, "x.grad") == 4.0


def test_a_second_backward_without_retain_graph_raises_torchs_error():
    s = live("chain")
    assert s.run(ops("backward")).outcome == "ok"
    grad = value(s, "x.grad")
    result = s.run(ops("backward"))
    assert result.outcome == "error"
    error = result.results[0].error

    def twice():
        x = torch.tensor(4.0, requires_grad=True)
        z = torch.sin(x**2)
        z.backward()
        z.backward()

    assert error == torch_error(twice)
    assert error.startswith("RuntimeError: ") and SECOND_TIME in error
    # the state stays as torch leaves it: the failed backward added nothing
    assert value(s, "x.grad") == grad
    assert s.run(ops("backward")).outcome == "error"  # the graph is still freed
    assert s.run(ops("forward", "backward")).outcome == "ok"  # a new graph
    assert value(s, "x.grad") == pytest.approx(2 * grad)


def test_backward_with_retain_graph_can_run_again():
    s = live("chain")
    result = s.run(ops({"backward": "retain_graph"}, "backward"))
    assert result.outcome == "ok"
    assert result.results[0].code == "z.backward(retain_graph=True)"
    assert value(s, "x.grad") == pytest.approx(2 * -7.661275863647461)
    assert s.run(ops("backward")).outcome == "error"  # retained once, freed by the plain backward


def test_a_run_stops_at_the_first_error_like_a_notebook_cell():
    s = live("square")
    result = s.run(ops("backward", "backward", {"zero_grad": "x"}))
    assert result.outcome == "error"
    assert [r.error is None for r in result.results] == [True, False]  # zero_grad never ran
    assert value(s, "x.grad") == 4.0


def test_zero_grad_on_a_none_grad_is_an_error():
    s = live("square")
    result = s.run(ops({"zero_grad": "x"}))
    assert result.outcome == "error"
    assert result.results[0].error == "AttributeError: 'NoneType' object has no attribute 'zero_'"
    assert value(s, "x.grad") is None


# --- leaves and non-leaves ----------------------------------------------------------------------


def test_non_leaf_grad_is_none_with_torchs_warning():
    s = live("chain")
    s.run(ops("backward"))
    observation = s.observe("y.grad")
    assert observation.value is None
    x = torch.tensor(4.0, requires_grad=True)
    y = x**2
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert y.grad is None
    assert caught, "torch warns about .grad of a non-leaf"
    expected = str(caught[0].message).split(" (Triggered internally at")[0].strip()
    assert observation.warning == expected
    assert "not a leaf Tensor" in observation.warning
    assert s.observe("x.grad").warning is None


def test_retain_grad_keeps_a_non_leaf_gradient():
    s = live("chain")
    result = s.run(ops({"retain_grad": "y"}, "backward"))
    assert result.outcome == "ok" and result.results[0].code == "y.retain_grad()"
    observation = s.observe("y.grad")
    assert observation.value == pytest.approx(-0.9576594829559326)
    assert observation.warning is None
    assert value(s, "z.grad") is None  # the output did not retain


def test_retain_grad_is_lost_on_a_new_forward():
    s = live("chain")
    s.run(ops({"retain_grad": "y"}, "forward", "backward"))
    assert value(s, "y.grad") is None  # a new y, which did not retain


def test_detach_stops_tracking():
    s = live("chain")
    result = s.run(ops({"detach": "x"}, "forward", "backward"))
    assert result.outcome == "error"
    assert result.results[0].code == "x = x.detach()"
    assert result.results[-1].error == f"RuntimeError: {NO_GRAD}"
    assert value(s, "x.requires_grad") is False
    assert value(s, "z.grad_fn") is None


def test_detach_of_a_node_before_backward():
    s = live("chain")
    result = s.run(ops({"detach": "z"}, "backward"))
    assert result.outcome == "error" and NO_GRAD in result.results[-1].error
    assert value(s, "z.is_leaf") is True


def test_no_grad_stops_tracking():
    s = live("chain")
    result = s.run(ops({"forward": "no_grad"}, "backward"))
    assert result.outcome == "error"
    assert result.results[0].code.splitlines()[0] == "with torch.no_grad():"
    assert result.results[-1].error == f"RuntimeError: {NO_GRAD}"
    assert value(s, "y.requires_grad") is False
    assert value(s, "y.grad_fn") is None
    assert value(s, "x.requires_grad") is True  # the leaf is unchanged
    assert s.run(ops("forward", "backward")).outcome == "ok"


def test_requires_grad_false_then_backward_raises():
    s = live("square")
    result = s.run(ops({"requires_grad": {"x": False}}, "forward", "backward"))
    assert result.outcome == "error"
    assert result.results[0].code == "x.requires_grad_(False)"

    def untracked():
        x = torch.tensor(2.0, requires_grad=True)
        x.requires_grad_(False)
        (x**2).backward()

    assert result.results[-1].error == torch_error(untracked) == f"RuntimeError: {NO_GRAD}"


def test_requires_grad_false_on_a_non_leaf_is_torchs_error():
    s = live("chain")
    result = s.run(ops({"requires_grad": {"y": False}}))

    def non_leaf():
        x = torch.tensor(4.0, requires_grad=True)
        (x**2).requires_grad_(False)

    assert result.outcome == "error"
    assert result.results[0].error == torch_error(non_leaf)


def test_set_replaces_an_input_keeping_requires_grad():
    s = live("square")
    result = s.run(ops({"set": {"x": 3.0}}))
    assert result.outcome == "ok"
    assert value(s, "x") == 3.0 and value(s, "x.requires_grad") is True
    assert value(s, "y") == 4.0  # nodes change only on the next forward
    s.run(ops("forward", "backward"))
    assert value(s, "y") == 9.0 and value(s, "x.grad") == 6.0
    s.run(ops({"requires_grad": {"x": False}}, {"set": {"x": 5.0}}))
    assert value(s, "x.requires_grad") is False
    assert value(s, "x.grad") is None  # a new tensor: the old .grad is gone


def test_set_a_vector_input():
    s = live("mean")
    s.run(ops({"set": {"x": [2.0, 2.0, 2.0]}}, "forward", "backward"))
    assert value(s, "x.grad") == pytest.approx((4 / 3, 4 / 3, 4 / 3))
    assert value(s, "y") == pytest.approx(4.0)


def test_every_property_is_read_from_torch():
    s = live("square")
    s.run(ops("backward"))
    x = {prop: value(s, f"x.{prop}") for prop in ("grad", "requires_grad", "is_leaf", "grad_fn")}
    assert {"value": value(s, "x"), **x} == {
        "value": 2.0,
        "grad": 4.0,
        "requires_grad": True,
        "is_leaf": True,
        "grad_fn": None,
    }
    assert value(s, "y.grad") is None and value(s, "y.grad_fn") == "PowBackward0"


# --- through LessonSession: the fixture lessons ------------------------------------------------


def play_behaviour(name: str) -> list[tuple]:
    """Every step of a run/predict lesson: (kind, target, truth, message)."""
    sess = session(name)
    rows = []
    while True:
        step = sess.step
        reveal = sess.truth()
        rows.append((step.kind, step.target_json(), reveal.expected, reveal.message))
        if not sess.advance():
            return rows


def test_accumulate_lesson():
    rows = play_behaviour("accumulate")
    assert [r[2] for r in rows] == ["ok", 4.0, "ok", 8.0, "ok", 0.0, "error"]
    assert SECOND_TIME in rows[-1][3]


def test_no_tracking_lesson():
    rows = play_behaviour("no-tracking")
    assert [r[2] for r in rows] == ["error", None, "error", False, "error", False, "ok"]
    for kind, _, truth, message in rows:
        if kind == "run" and truth == "error":
            assert message == f"RuntimeError: {NO_GRAD}"


def test_non_leaf_lesson():
    rows = play_behaviour("non-leaf")
    truths = [r[2] for r in rows]
    assert truths[:3] == [True, False, "ok"]
    assert truths[3] is None and "not a leaf Tensor" in rows[3][3]
    assert truths[4] == pytest.approx(2 * 2 * -0.6536436208636119, rel=1e-6)
    assert truths[6] == pytest.approx(-0.6536436208636119, rel=1e-6)
    assert truths[7] == "SinBackward0"


def test_grad_fn_lesson():
    rows = play_behaviour("grad-fn")
    assert [r[2] for r in rows] == [
        "PowBackward0",
        "SinBackward0",
        "AddBackward0",
        "SigmoidBackward0",
        "NegBackward0",
        "MeanBackward0",
        None,
    ]


def test_square_lesson_behaviour():
    rows = play_behaviour("square")
    assert [r[2] for r in rows[3:]] == ["ok", 4.0, "ok", 6.0, "PowBackward0"]


def test_square_fp16_grad_is_float16():
    sess = session("square-fp16")
    sess.advance()
    sess.advance()
    sess.advance()
    assert sess.step.kind == "predict" and sess.expected() == 20.0
    assert sess.live.tensors["x"].grad.dtype == torch.float16


def test_run_steps_are_performed_whatever_the_prediction():
    sess = session("accumulate")
    while sess.step.index < 6:
        sess.advance()
    assert sess.step.kind == "run" and sess.step.takes_answer
    verdict = sess.submit("ok")
    assert verdict.status == "wrong" and verdict.diagnosis == "outcome"
    assert sess.run_result().outcome == "error"


def test_predict_reads_the_state_at_its_own_step():
    sess = session("accumulate")
    sess.advance()  # past run [backward]
    assert sess.expected() == 4.0
    sess.advance()
    sess.advance()
    assert sess.expected() == 8.0
    sess.back()
    sess.back()
    assert sess.expected() == 4.0  # what torch said then, not what it says now
    assert sess.live.tensors["x"].grad.item() == 8.0


def test_run_step_with_unanswered_outcome_and_the_resumed_session_share_the_state():
    first = session("accumulate")
    for _ in range(3):
        first.advance()
    resumed = LessonSession(load_fixture("accumulate"), first.to_state())
    assert resumed.index == 3
    assert resumed.live.tensors["x"].grad.item() == first.live.tensors["x"].grad.item() == 8.0


def test_restart_gives_a_fresh_live_state():
    sess = session("accumulate")
    for _ in range(3):
        sess.advance()
    assert sess.live.tensors["x"].grad.item() == 8.0
    sess.restart()
    assert sess.index == 0
    assert sess.live.tensors["x"].grad.item() == 4.0  # only step 0 (run: backward) performed, on a new state


def test_error_outcome_is_reported_in_the_reveal():
    lesson = lesson_text(
        """
        format: 1
        id: zero-none
        title: zero_ on a None grad
        inputs:
          x: {value: 2.0, requires_grad: true}
        nodes:
          y: x**2
        steps:
          - run: [{zero_grad: x}]
            ask: outcome
            answer: error
          - predict: x.grad
            answer: None
        """
    )
    sess = session(lesson)
    reveal = sess.reveal()
    assert reveal.expected == "error" and "NoneType" in reveal.message
    assert sess.submit("error").correct  # judged, but a revealed step is not solved afterwards
    assert sess.records[0].status == "revealed"
    sess.advance()
    assert sess.expected() is None
