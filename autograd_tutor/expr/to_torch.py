"""Expression tree -> torch operations, so every node gets torch's own grad_fn.

`torch` is passed in by the engine, which is the only place that imports it.
Each function's torch operation comes from the table in `functions.py`.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping
from typing import Any

from .ast import Bin, Call, Expr, Name, Num, Unary
from .evaluate import evaluate
from .functions import FUNCTIONS

_BINARY = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
    "**": operator.pow,
    "@": operator.matmul,
}


def build(expr: Expr, env: Mapping[str, Any], torch: Any, dtype: Any) -> Any:
    """The torch value of `expr`, with names bound to the tensors in `env`."""
    return _tensor(_build(expr, env, torch, dtype), torch, dtype)


def _build(expr: Expr, env: Mapping[str, Any], torch: Any, dtype: Any) -> Any:
    match expr:
        case Num(value=value):
            return value
        case Name(id=name):
            return env[name]
        case Unary(op=op, operand=operand):
            value = _build(operand, env, torch, dtype)
            return -value if op == "-" else value
        case Bin(op=op, left=left, right=right):
            a, b = _build(left, env, torch, dtype), _build(right, env, torch, dtype)
            if isinstance(a, float) and isinstance(b, float):
                a = torch.tensor(a, dtype=dtype)
            return _BINARY[op](a, b)
        case Call(func=func, args=args):
            f = FUNCTIONS[func]
            values = []
            for arg, param in zip(args, f.params):
                if param.kind in ("const", "dim"):
                    constant = float(evaluate(arg, {}))
                    values.append(int(constant) if param.kind == "dim" else constant)
                else:
                    values.append(_tensor(_build(arg, env, torch, dtype), torch, dtype))
            return f.torch(torch, *values)
    raise TypeError(f"not a node expression: {expr!r}")


def _tensor(value: Any, torch: Any, dtype: Any) -> Any:
    return torch.tensor(value, dtype=dtype) if isinstance(value, float) else value
