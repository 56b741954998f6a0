"""A lesson as the PyTorch code it stands for: what `run` steps show and the
notebook snippet a learner can paste and run."""

from __future__ import annotations

from typing import Any

import numpy as np

from .computation import Computation
from .ops import Op
from .values import tensor_literal


def tensor_code(comp: Computation, name: str, value: Any = None, requires_grad: bool | None = None) -> str:
    value = comp.inputs[name] if value is None else value
    flag = comp.requires_grad[name] if requires_grad is None else requires_grad
    if name in comp.targets:
        return f"{name} = torch.tensor({np.asarray(value).astype(int).tolist()!r})"
    dtype = "" if comp.dtype == "float32" else f", dtype=torch.{comp.dtype}"
    literal = tensor_literal(value)
    return f"{name} = torch.tensor({literal}{dtype}{', requires_grad=True' if flag else ''})"


def op_code(op: Op, comp: Computation) -> list[str]:
    """The lines of PyTorch that one `run` operation is."""
    return op.code(comp)


def notebook(comp: Computation) -> str:
    """The whole lesson as a runnable snippet that prints every leaf's .grad."""
    forward = comp.forward_code()
    lines = ["import math", ""] if any("math." in line for line in forward) else []
    lines += ["import torch", ""]
    lines += [tensor_code(comp, n) for n in comp.inputs]
    lines += forward
    grad_output = f"torch.tensor({tensor_literal(comp.grad_output)})" if comp.grad_output is not None else ""
    lines += [f"{comp.output}.backward({grad_output})"]
    lines += [f"print({comp.output}.item())" if not comp.shapes[comp.output] else f"print({comp.output})"]
    lines += [f"print({n}.grad)  # d{comp.output}/d{n}" for n, rg in comp.requires_grad.items() if rg]
    return "\n".join(lines) + "\n"
