"""A lesson as the PyTorch code it stands for: what `run` steps show and the
notebook snippet a learner can paste and run."""

from __future__ import annotations

from ..expr.to_code import to_code
from .computation import Computation
from .model import RunOp


def tensor_code(comp: Computation, name: str, value: object = None, requires_grad: bool | None = None) -> str:
    value = comp.inputs[name] if value is None else value
    literal = repr(list(value)) if isinstance(value, tuple | list) else repr(float(value))
    flag = comp.requires_grad[name] if requires_grad is None else requires_grad
    dtype = "" if comp.dtype == "float32" else f", dtype=torch.{comp.dtype}"
    return f"{name} = torch.tensor({literal}{dtype}{', requires_grad=True' if flag else ''})"


def forward_code(comp: Computation) -> list[str]:
    return [f"{name} = {to_code(expr)}" for name, expr in comp.nodes.items()]


def op_code(op: RunOp, comp: Computation) -> list[str]:
    """The lines of PyTorch that one `run` operation is."""
    if op.op == "forward":
        lines = forward_code(comp)
        return ["with torch.no_grad():", *("    " + line for line in lines)] if op.arg else lines
    if op.op == "backward":
        return [f"{comp.output}.backward({'retain_graph=True' if op.arg else ''})"]
    if op.op == "zero_grad":
        return [f"{op.arg}.grad.zero_()"]
    if op.op == "requires_grad":
        return [f"{n}.requires_grad_({v})" for n, v in op.arg.items()]
    if op.op == "detach":
        return [f"{op.arg} = {op.arg}.detach()"]
    if op.op == "retain_grad":
        return [f"{op.arg}.retain_grad()"]
    assert op.op == "set"
    dtype = "" if comp.dtype == "float32" else f", dtype=torch.{comp.dtype}"
    return [f"{n} = torch.tensor({v!r}{dtype}, requires_grad={n}.requires_grad)" for n, v in op.arg.items()]


def notebook(comp: Computation) -> str:
    """The whole lesson as a runnable snippet that prints every leaf's .grad."""
    forward = forward_code(comp)
    lines = ["import math", ""] if any("math." in line for line in forward) else []
    lines += ["import torch", ""]
    lines += [tensor_code(comp, n) for n in comp.inputs]
    lines += forward
    lines += [f"{comp.output}.backward()", f"print({comp.output}.item())"]
    lines += [f"print({n}.grad)  # d{comp.output}/d{n}" for n, rg in comp.requires_grad.items() if rg]
    return "\n".join(lines) + "\n"
