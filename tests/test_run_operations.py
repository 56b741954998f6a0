"""The run operations of the course (sgd, grad_to_none, inplace, set_data,
autograd_grad, hook): each performed on the live state and, separately, its
PyTorch code executed as a notebook would; both must leave torch in the same
state, print the same lines and raise the same error."""

from __future__ import annotations

import contextlib
import io
import warnings

import pytest
import torch
from conftest import lesson_text

from autograd_tutor.engine.live import LiveState
from autograd_tutor.lesson.code import tensor_code
from autograd_tutor.lesson.ops import parse_op
from autograd_tutor.session import LessonSession

NEURON = """
format: 1
id: neuron
title: Neuron
inputs:
  x: 6.7
  y: 0.0
  w: {value: 1.0, requires_grad: true}
  b: {value: 0.0, requires_grad: true}
nodes:
  z: w*x + b
  y_pred: sigmoid(z)
  loss: bce(clamp(y_pred, 1e-8, 1 - 1e-8), y)
"""
CUBE = """
format: 1
id: cube
title: Cube
inputs:
  x: {value: 3.0, requires_grad: true}
nodes:
  y: x**3
"""
SIGMOID = """
format: 1
id: sig
title: Sigmoid
inputs:
  a: {value: [1.0, 2.0, 3.0], requires_grad: true}
nodes:
  out: sigmoid(a)
  s: sum(out)
"""
SQUARE = """
format: 1
id: sq
title: Square
inputs:
  x: {value: 2.0, requires_grad: true}
nodes:
  y: x**2
"""
TWO_PATHS = """
format: 1
id: paths
title: Two paths
inputs:
  x: {value: 1.5, requires_grad: true}
nodes:
  a: x*x
  b: sin(x)
  y: a + b
"""

CASES = {
    "sgd update under no_grad": (NEURON, ["backward", {"sgd": {"lr": 0.1}}, "forward"]),
    "sgd on named params": (NEURON, ["backward", {"sgd": {"lr": 0.5, "params": ["w"]}}]),
    "sgd forgetting zero_grad": (NEURON, ["backward", {"sgd": {"lr": 0.1}}, "forward", "backward"]),
    "sgd outside no_grad raises": (NEURON, ["backward", {"sgd": {"lr": 0.1, "no_grad": False}}]),
    "sgd rebinding under no_grad": (NEURON, ["backward", {"sgd": {"lr": 0.1, "in_place": False}}]),
    "sgd rebinding outside no_grad": (NEURON, ["backward", {"sgd": {"lr": 0.1, "in_place": False, "no_grad": False}}]),
    "sgd before any backward": (NEURON, [{"sgd": {"lr": 0.1}}]),
    "grad_to_none": (NEURON, ["backward", {"grad_to_none": "w"}]),
    "grad_to_none then backward": (NEURON, ["backward", {"grad_to_none": "w"}, "forward", "backward"]),
    "inplace on a leaf raises": (SQUARE, [{"inplace": "x.add_(1)"}]),
    "inplace on a non-leaf": (SQUARE, [{"inplace": "y.mul_(2)"}, "backward"]),
    "inplace on a saved output": (SIGMOID, [{"inplace": "out.mul_(2)"}, "backward"]),
    "inplace through data": (SIGMOID, [{"inplace": "out.data.zero_()"}, "backward"]),
    "inplace through detach": (SIGMOID, [{"inplace": "out.detach().zero_()"}, "backward"]),
    "inplace on the leaf's data": (SQUARE, [{"inplace": "x.data.fill_(5)"}, "backward"]),
    "inplace on the leaf through detach": (SQUARE, [{"inplace": "x.detach().fill_(5)"}, "backward"]),
    "set_data before backward": (SQUARE, [{"set_data": {"x": 5.0}}, "backward"]),
    "autograd_grad with create_graph": (
        CUBE,
        [
            {"autograd_grad": {"of": "y", "wrt": "x", "as": "g", "create_graph": True}},
            {"autograd_grad": {"of": "g", "wrt": "x", "as": "g2"}},
        ],
    ),
    "autograd_grad without create_graph": (
        CUBE,
        [{"autograd_grad": {"of": "y", "wrt": "x", "as": "g"}}, {"autograd_grad": {"of": "g", "wrt": "x", "as": "h"}}],
    ),
    "autograd_grad leaves .grad alone": (CUBE, [{"autograd_grad": {"of": "y", "wrt": "x", "as": "g"}}]),
    "hook on an intermediate": (NEURON, [{"hook": "z"}, {"hook": "y_pred"}, "backward"]),
    "hook on a leaf with two paths": (TWO_PATHS, [{"hook": "x"}, {"hook": "a"}, "backward"]),
    "hook on a vector": (SIGMOID, [{"hook": "out"}, "backward"]),
}


def notebook(lesson, ops):
    """The lesson's PyTorch code and each operation's code, executed for real."""
    comp = lesson.computation
    scope: dict = {"torch": torch}
    setup = [tensor_code(comp, n) for n in comp.inputs] + comp.forward_code()
    exec("\n".join(setup), scope)  # noqa: S102 - our own generated code, in a test
    results = []
    for op in ops:
        printed = io.StringIO()
        error = None
        with contextlib.redirect_stdout(printed), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                exec("\n".join(op.code(comp)), scope)  # noqa: S102
            except Exception as err:  # noqa: BLE001 - whatever torch raises is the expectation
                error = f"{type(err).__name__}: {str(err).split(' (Triggered internally at')[0].strip()}"
        results.append((tuple(printed.getvalue().splitlines()), error))
        if error:
            break
    return scope, results


def facts(tensor):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        grad = None if tensor.grad is None else tensor.grad.tolist()
        return (
            tensor.tolist(),
            tensor.requires_grad,
            tensor.is_leaf,
            None if tensor.grad_fn is None else tensor.grad_fn.name(),
            grad,
            tensor._version,
        )


@pytest.mark.parametrize("case", list(CASES))
def test_an_operation_does_what_its_pytorch_code_does(case):
    text, raw = CASES[case]
    lesson = lesson_text(text)
    ops = [parse_op(r) for r in raw]
    state = LiveState(lesson.computation)
    result = state.run(ops)
    scope, expected = notebook(lesson, ops)
    assert [(r.output, r.error) for r in result.results] == expected
    for name, tensor in state.tensors.items():
        assert facts(tensor) == facts(scope[name]), name


def observe(text: str, raw: list, target: str):
    state = LiveState(lesson_text(text).computation)
    result = state.run([parse_op(r) for r in raw])
    return result, state.observe(target).value


def test_the_training_step_of_the_neuron_notebook():
    """w 1 -> 0.33082 with lr 0.1; the loss 6.7012 -> 2.2304; 12.6716 without zeroing, 5.9798 with."""
    _, w = observe(NEURON, ["backward", {"sgd": {"lr": 0.1}}], "w")
    assert float(w) == pytest.approx(0.33082, abs=5e-6)
    _, loss = observe(NEURON, ["backward", {"sgd": {"lr": 0.1}}, "forward"], "loss")
    assert float(loss) == pytest.approx(2.2304, abs=5e-5)
    _, piled = observe(NEURON, ["backward", {"sgd": {"lr": 0.1}}, "forward", "backward"], "w.grad")
    assert float(piled) == pytest.approx(12.6716, abs=5e-5)
    ops = ["backward", {"sgd": {"lr": 0.1}}, {"grad_to_none": "w"}, "forward", "backward"]
    _, fresh = observe(NEURON, ops, "w.grad")
    assert float(fresh) == pytest.approx(5.9798, abs=5e-5)


def test_updates_outside_no_grad_raise_or_make_a_non_leaf():
    result, _ = observe(NEURON, ["backward", {"sgd": {"lr": 0.1, "no_grad": False}}], "w")
    assert result.outcome == "error"
    assert result.results[-1].error == (
        "RuntimeError: a leaf Variable that requires grad is being used in an in-place operation."
    )
    ops = ["backward", {"sgd": {"lr": 0.1, "in_place": False, "no_grad": False}}]
    assert observe(NEURON, ops, "w.is_leaf")[1] is False
    assert observe(NEURON, ops, "w.grad_fn")[1] == "SubBackward0"
    ops = ["backward", {"sgd": {"lr": 0.1, "in_place": False}}]
    assert observe(NEURON, ops, "w.requires_grad")[1] is False


def test_a_second_derivative_with_create_graph():
    ops = [
        {"autograd_grad": {"of": "y", "wrt": "x", "as": "g", "create_graph": True}},
        {"autograd_grad": {"of": "g", "wrt": "x", "as": "g2"}},
    ]
    assert float(observe(CUBE, ops[:1], "g")[1]) == 27.0
    assert observe(CUBE, ops[:1], "g.grad_fn")[1] == "MulBackward0"
    assert observe(CUBE, ops[:1], "x.grad")[1] is None
    assert float(observe(CUBE, ops, "g2")[1]) == 18.0
    plain = [
        {"autograd_grad": {"of": "y", "wrt": "x", "as": "g"}},
        {"autograd_grad": {"of": "g", "wrt": "x", "as": "h"}},
    ]
    result, h = observe(CUBE, plain, "h")
    assert "does not require grad and does not have a grad_fn" in result.results[-1].error
    assert h == "error"  # the run that makes h raised: in a notebook, h is not defined


def test_data_hides_a_change_that_detach_reveals():
    result, grad = observe(SQUARE, [{"inplace": "x.data.fill_(5)"}, "backward"], "x.grad")
    assert result.outcome == "ok" and float(grad) == 10.0  # y was 4 = 2², its gradient computed at 5
    result, version = observe(SQUARE, [{"inplace": "x.detach().fill_(5)"}, "backward"], "x._version")
    assert result.outcome == "error" and "modified by an inplace operation" in result.results[-1].error
    assert float(version) == 1.0
    assert float(observe(SQUARE, [{"inplace": "x.data.fill_(5)"}], "x._version")[1]) == 0.0


def test_a_hook_prints_what_flows_through_once_per_backward():
    result, _ = observe(TWO_PATHS, [{"hook": "x"}, "backward"], "x.grad")
    assert result.results[-1].output == ("grad of x: tensor(3.0707)",)  # the paths are summed first


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"inplace": "x.add_()"}, "inplace is written"),
        ({"inplace": "x.pow_(2)"}, "inplace is written"),
        ({"inplace": "x.add_(__import__('os'))"}, "inplace is written"),
        ({"inplace": "x.zero_(1)"}, "inplace is written"),
        ({"sgd": {"lr": -1}}, "sgd is written"),
        ({"sgd": {"rate": 0.1}}, "sgd is written"),
        ({"autograd_grad": {"of": "y", "wrt": "x"}}, "autograd_grad is written"),
        ("sgd", "sgd needs a value"),
    ],
)
def test_badly_written_operations_say_how_to_write_them(raw, message):
    with pytest.raises(ValueError, match=message):
        parse_op(raw)


@pytest.mark.parametrize(
    ("ops", "message"),
    [
        ("[{sgd: {lr: 0.1, params: [z]}}]", "sgd: 'z' is not an input"),
        ("[{inplace: 'q.add_(1)'}]", "inplace: 'q' is not an input or node"),
        ("[{set_data: {x: [1.0, 2.0]}}]", "set_data: x must keep its shape"),
        ("[{autograd_grad: {of: y, wrt: x, as: y}}]", "'y' is already an input or node"),
        ("[{hook: nothing}]", "hook: 'nothing' is not an input or node"),
    ],
)
def test_operations_on_unknown_names_are_located_errors(ops, message):
    from autograd_tutor.lesson.problems import LessonInvalid

    with pytest.raises(LessonInvalid) as info:
        lesson_text(SQUARE + f"steps:\n  - run: {ops}\n")
    assert message in str(info.value)
    assert info.value.problems[0].line == 9


def test_a_tensor_made_by_a_run_can_be_predicted_later_but_not_before():
    from autograd_tutor.lesson.problems import LessonInvalid

    later = CUBE + "steps:\n  - run: [{autograd_grad: {of: y, wrt: x, as: g}}]\n  - predict: g\n"
    session = LessonSession(lesson_text(later))
    session.advance()
    assert session.submit("27").correct
    before = CUBE + "steps:\n  - predict: g\n  - run: [{autograd_grad: {of: y, wrt: x, as: g}}]\n"
    with pytest.raises(LessonInvalid, match="'g' is not an input, a node or a tensor made by a run"):
        lesson_text(before)


def test_run_steps_show_the_code_and_check_reports_the_hook_output(tmp_path):
    from autograd_tutor.check import play

    lesson = lesson_text(TWO_PATHS + "steps:\n  - run: [{hook: a}, backward]\n")
    assert lesson.steps[0].prompt.startswith('```python\na.register_hook(lambda grad: print("grad of a:", grad))')
    report = play(lesson, [None])
    assert report["steps"][0]["feedback"] == "grad of a: tensor(1.)"
    assert lesson.steps[0].target_json() == [{"hook": "a"}, "backward"]


def test_operations_round_trip_through_steps_json():
    lesson = lesson_text(
        NEURON + "steps:\n  - run: [{sgd: {lr: 0.1, in_place: false}}, {inplace: 'z.data.mul_(2)'},"
        " {autograd_grad: {of: loss, wrt: w, as: g, create_graph: true}}]\n"
    )
    assert lesson.steps[0].target_json() == [
        {"sgd": {"lr": 0.1, "in_place": False}},
        {"inplace": "z.data.mul_(2)"},
        {"autograd_grad": {"of": "loss", "wrt": "w", "as": "g", "create_graph": True}},
    ]
