"""Expression tree -> torch operations, so every node gets torch's own grad_fn.

`torch` is passed in by the engine, which is the only place that imports it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .ast import ELEMENTWISE, REDUCTIONS, Bin, Call, Expr, Name, Num, Unary
from .evaluate import evaluate


def build(expr: Expr, env: Mapping[str, Any], torch: Any, dtype: Any) -> Any:
    """The torch value of `expr`, with names bound to the tensors in `env`."""
    result = _build(expr, env, torch, dtype)
    if isinstance(result, float):
        return torch.tensor(result, dtype=dtype)
    return result


def _build(expr: Expr, env: Mapping[str, Any], torch: Any, dtype: Any) -> Any:
    if isinstance(expr, Num):
        return expr.value
    if isinstance(expr, Name):
        return env[expr.id]
    if isinstance(expr, Unary):
        operand = _build(expr.operand, env, torch, dtype)
        return -operand if expr.op == "-" else operand
    if isinstance(expr, Bin):
        a = _build(expr.left, env, torch, dtype)
        b = _build(expr.right, env, torch, dtype)
        if expr.op == "+":
            return a + b
        if expr.op == "-":
            return a - b
        if expr.op == "*":
            return a * b
        if expr.op == "/":
            return a / b
        if isinstance(a, float) and isinstance(b, float):
            return torch.tensor(a, dtype=dtype) ** b
        return a**b
    if isinstance(expr, Call):
        if expr.func == "clamp":
            lo, hi = (evaluate(e, {}) for e in expr.args[1:])
            return torch.clamp(_tensor(_build(expr.args[0], env, torch, dtype), torch, dtype), min=lo, max=hi)
        if expr.func == "bce":
            p = _tensor(_build(expr.args[0], env, torch, dtype), torch, dtype)
            t = _build(expr.args[1], env, torch, dtype)
            return -(t * torch.log(p) + (1 - t) * torch.log(1 - p))
        assert expr.func in ELEMENTWISE + REDUCTIONS  # each is torch.<name>
        arg = _tensor(_build(expr.args[0], env, torch, dtype), torch, dtype)
        return getattr(torch, expr.func)(arg)
    raise TypeError(f"not a node expression: {expr!r}")


def _tensor(value: Any, torch: Any, dtype: Any) -> Any:
    return torch.tensor(value, dtype=dtype) if isinstance(value, float) else value
