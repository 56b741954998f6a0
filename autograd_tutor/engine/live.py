"""The live torch state of a lesson, for `run` and `predict` steps.

It starts as one forward pass over the inputs as authored, exactly as in a
notebook: leaves created with `torch.tensor(..., requires_grad=...)`, nodes
computed from them, non-leaves not retaining their gradient. Operations are
performed on real tensors; whatever torch raises or warns is reported as is.
"""

from __future__ import annotations

import contextlib
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..expr.evaluate import Value
from ..expr.to_torch import build
from ..lesson.computation import Computation
from ..lesson.ops import (
    AutogradGrad,
    Backward,
    Detach,
    Forward,
    GradToNone,
    Hook,
    InPlace,
    Op,
    RequiresGrad,
    RetainGrad,
    Set,
    SetData,
    Sgd,
    ZeroGrad,
)
from .torch_import import dtype as torch_dtype
from .torch_import import to_value, torch

Truth = None | bool | str | Value  # what a predict step can be asked


@dataclass(frozen=True)
class OpResult:
    code: str
    error: str | None = None  # "RuntimeError: element 0 of tensors does not require grad ..."
    warning: str | None = None
    output: tuple[str, ...] = ()  # what it printed (hooks print the gradients they see)


@dataclass(frozen=True)
class RunResult:
    results: tuple[OpResult, ...]

    @property
    def outcome(self) -> str:
        return "error" if any(r.error for r in self.results) else "ok"


@dataclass(frozen=True)
class Observation:
    value: Truth
    warning: str | None = None
    values: dict[str, Value] = field(default_factory=dict)  # every tensor's value at that moment
    backwards: int = 0  # for N.grad: the backward() calls summed in it since it was created or zeroed


@dataclass(frozen=True)
class TensorFacts:
    """What torch says about one tensor of the live state, read without changing it."""

    value: Value
    requires_grad: bool
    is_leaf: bool
    grad_fn: str | None  # its name, e.g. PowBackward0
    grad: Value | None  # .grad as torch holds it (None on a non-leaf that does not retain it)


class LiveState:
    def __init__(self, comp: Computation):
        self.comp = comp
        t = torch()
        self.dtype = torch_dtype(comp.dtype)
        self.tensors: dict[str, Any] = {
            n: t.tensor(v, dtype=self.dtype, requires_grad=comp.requires_grad[n] and n not in comp.targets)
            for n, v in comp.inputs.items()
        }
        self._backwards: dict[str, int] = {}  # name -> backward() calls accumulated in its .grad
        self._printed: list[str] = []  # every line hooks have printed, in order
        self._forward(no_grad=False)

    def _forward(self, no_grad: bool) -> None:
        t = torch()
        with t.no_grad() if no_grad else contextlib.nullcontext():
            for name, expr in self.comp.nodes.items():
                self.tensors[name] = build(expr, self.tensors, t, self.dtype)
                self._backwards.pop(name, None)

    def run(self, ops: list[Op]) -> RunResult:
        """Perform `ops` in order; like a notebook cell, stop at the first error."""
        results = []
        for op in ops:
            result = self.apply(op)
            results.append(result)
            if result.error:
                break
        return RunResult(tuple(results))

    def apply(self, op: Op) -> OpResult:
        code = "\n".join(op.code(self.comp))
        printed = len(self._printed)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                self._apply(op)
            except (RuntimeError, AttributeError, TypeError, ValueError) as err:
                error = f"{type(err).__name__}: {_clean(str(err))}"
                return OpResult(code, error, _warning(caught), tuple(self._printed[printed:]))
        return OpResult(code, None, _warning(caught), tuple(self._printed[printed:]))

    def _apply(self, op: Op) -> None:
        t = torch()
        match op:
            case Forward(forward=mode):
                self._forward(no_grad=mode == "no_grad")
            case Backward(backward=mode):
                grad_output = self.comp.grad_output
                gradient = None if grad_output is None else t.tensor(grad_output, dtype=self.dtype)
                self.tensors[self.comp.output].backward(gradient, retain_graph=mode == "retain_graph")
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # reading a non-leaf's .grad warns
                    for name, tensor in self.tensors.items():
                        if tensor.grad is not None:
                            self._backwards[name] = self._backwards.get(name, 0) + 1
            case ZeroGrad(zero_grad=name):
                self.tensors[name].grad.zero_()  # AttributeError on a None grad, as in a notebook
                self._backwards[name] = 0
            case RequiresGrad(requires_grad=flags):
                for name, flag in flags.items():
                    self.tensors[name].requires_grad_(flag)
            case Detach(detach=name):
                self.tensors[name] = self.tensors[name].detach()
                self._backwards.pop(name, None)
            case RetainGrad(retain_grad=name):
                self.tensors[name].retain_grad()
            case Set(set=values):
                for name, value in values.items():
                    flag = self.tensors[name].requires_grad
                    self.tensors[name] = t.tensor(value, dtype=self.dtype, requires_grad=flag)
                    self._backwards.pop(name, None)
            case GradToNone(grad_to_none=name):
                self.tensors[name].grad = None
                self._backwards[name] = 0
            case Sgd(sgd=args):
                with t.no_grad() if args.no_grad else contextlib.nullcontext():
                    for name in op.params(self.comp):
                        if args.in_place:
                            self.tensors[name] -= args.lr * self.tensors[name].grad
                        else:
                            self.tensors[name] = self.tensors[name] - args.lr * self.tensors[name].grad
                            self._backwards.pop(name, None)
            case InPlace():
                name, via, method, arg = op.parts
                tensor = self.tensors[name]
                reached = {"": tensor, ".data": tensor.data, ".detach()": tensor.detach()}[via]
                getattr(reached, method)(*(() if arg is None else (arg,)))  # a method of INPLACE_METHODS
            case SetData(set_data=values):
                for name, value in values.items():
                    self.tensors[name].data = t.tensor(value, dtype=self.dtype)
            case AutogradGrad(autograd_grad=args):
                of, wrt = self.tensors[args.of], self.tensors[args.wrt]
                self.tensors[args.into] = t.autograd.grad(of, wrt, create_graph=args.create_graph)[0]
                self._backwards.pop(args.into, None)
            case Hook(hook=name):
                self.tensors[name].register_hook(lambda grad, name=name: self._print(f"grad of {name}:", grad))
            case _:
                raise TypeError(f"unknown operation {op!r}")

    def facts(self) -> dict[str, TensorFacts]:
        """Every tensor's live facts, read-only (a non-leaf's .grad is read without its warning)."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return {
                name: TensorFacts(
                    to_value(tensor),
                    bool(tensor.requires_grad),
                    bool(tensor.is_leaf),
                    None if tensor.grad_fn is None else tensor.grad_fn.name(),
                    None if tensor.grad is None else to_value(tensor.grad),
                )
                for name, tensor in self.tensors.items()
            }

    def _print(self, *parts: Any) -> None:
        """What `print(*parts)` would print, kept for the run's output."""
        self._printed.append(" ".join(map(str, parts)))

    def observe(self, target: str) -> Observation:
        """`N.grad`, `N.requires_grad`, `N.is_leaf`, `N.grad_fn` or `N`, read from torch."""
        name, _, prop = target.partition(".")
        if name not in self.tensors:  # made by a run that raised: as in a notebook, the name is undefined
            return Observation("error", f"NameError: name {name!r} is not defined")
        tensor = self.tensors[name]
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            if prop == "grad":
                grad = tensor.grad
                value: Truth = None if grad is None else to_value(grad)
            elif prop == "grad_fn":
                value = None if tensor.grad_fn is None else tensor.grad_fn.name()
            elif prop in ("requires_grad", "is_leaf"):
                value = bool(getattr(tensor, prop))
            elif prop == "_version":
                value = np.asarray(float(tensor._version))  # the version counter
            else:
                value = to_value(tensor)
        values = {n: to_value(x) for n, x in self.tensors.items()}
        backwards = self._backwards.get(name, 0) if prop == "grad" else 0
        return Observation(value, _warning(caught), values, backwards)


def _warning(caught: list) -> str | None:
    return _clean(str(caught[0].message)) if caught else None


def _clean(message: str) -> str:
    """torch's message without its C++ source location."""
    return message.split(" (Triggered internally at")[0].strip()
