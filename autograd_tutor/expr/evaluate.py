"""Our own interpreter of expression trees, in float64 with numpy.

A value is a numpy float64 array: 0-d for a number, 1-d for a vector, 2-d for a
matrix. Operators broadcast as torch does (numpy's rules are torch's); `@` is
matmul. Domain errors give nan and overflows give inf, as in torch; shapes that
do not fit together raise EvalError at the operator's column.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .ast import Bin, Call, Expr, Name, Num, Unary, Vector, Word
from .functions import FUNCTIONS, Param

Value = np.ndarray

_BINARY = {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide, "**": np.power, "@": np.matmul}


class EvalError(ValueError):
    def __init__(self, message: str, col: int = 0):
        super().__init__(message)
        self.message = message
        self.col = col


def evaluate(expr: Expr, env: Mapping[str, Value]) -> Value:
    with np.errstate(all="ignore"):
        return np.asarray(_eval(expr, env), dtype=float)


def _eval(expr: Expr, env: Mapping[str, Value]) -> Value:
    match expr:
        case Num(value=value):
            return np.float64(value)
        case Name(id=name):
            return env[name]
        case Unary(op=op, operand=operand):
            value = _eval(operand, env)
            return -value if op == "-" else value
        case Bin(op=op, left=left, right=right, col=col):
            a, b = _eval(left, env), _eval(right, env)
            if op == "@":
                _check_matmul(a, b, col)
            elif op == "**":
                a = np.asarray(a, dtype=float)  # negative integer powers of floats, not ints
            try:
                return _BINARY[op](a, b)
            except ValueError:
                raise EvalError(_shape_message(op, a, b), col) from None
        case Call(func=func, args=args, col=col):
            f = FUNCTIONS[func]
            values = [
                _constant(a, func, p, env) if p.kind in ("const", "dim") else _eval(a, env)
                for a, p in zip(args, f.params)
            ]
            try:
                return f.numpy(*values)
            except (ValueError, IndexError) as err:
                raise EvalError(f"{func}: {_plain(err)}", col) from None
        case Vector(items=items, col=col):
            rows = [np.asarray(_eval(i, env), dtype=float) for i in items]
            if len({r.shape for r in rows}) > 1:
                raise EvalError("the rows of a matrix must all have the same length", col)
            return np.stack(rows)
        case Word(text=text, col=col):
            raise EvalError(f"{text} is a word, not a number", col)
    raise TypeError(expr)


def _constant(expr: Expr, func: str, param: Param, env: Mapping[str, Value]) -> float | int:
    value = np.asarray(_eval(expr, env), dtype=float)
    if value.ndim:  # clamp(x, 0, [1, 2]): a bound or dim is one number
        raise EvalError(f"{func}'s {param.name} must be a single number, not a list", expr.col)
    return int(value) if param.kind == "dim" else float(value)


def _check_matmul(a: Value, b: Value, col: int) -> None:
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        raise EvalError(f"@ multiplies vectors and matrices, not a number: shapes {_shape(a)} and {_shape(b)}", col)
    inner_a, inner_b = np.shape(a)[-1], np.shape(b)[0]
    if inner_a != inner_b:
        raise EvalError(
            f"@ needs the inner sizes to agree: shapes {_shape(a)} @ {_shape(b)} ({inner_a} ≠ {inner_b})", col
        )


def _shape_message(op: str, a: Value, b: Value) -> str:
    return f"shapes {_shape(a)} and {_shape(b)} do not broadcast together for {op}"


def _shape(value: Value) -> str:
    return shape_text(np.shape(value))


def shape_text(shape: tuple[int, ...]) -> str:
    """A shape as torch prints it: (2, 3), (3,), or () for a number."""
    return "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"


def _plain(err: Exception) -> str:
    return str(err).strip("'\"")


def is_finite(value: Value) -> bool:
    return bool(np.all(np.isfinite(value)))


def shape(value: Value) -> tuple[int, ...]:
    return tuple(np.shape(value))
