"""Our own interpreter of expression trees, in float64 (Python floats).

A value is a float, a tuple of floats (a vector) or a tuple of vectors (a
matrix, answers only). Domain errors give nan and overflows give inf, as in torch.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Mapping

from .ast import Bin, Call, Expr, Name, Num, Unary, Vector, Word

Value = float | tuple


class EvalError(ValueError):
    def __init__(self, message: str, col: int = 0):
        super().__init__(message)
        self.message = message
        self.col = col


def evaluate(expr: Expr, env: Mapping[str, Value]) -> Value:
    if isinstance(expr, Num):
        return expr.value
    if isinstance(expr, Name):
        return env[expr.id]
    if isinstance(expr, Unary):
        operand = evaluate(expr.operand, env)
        return _map1(operator.neg, operand) if expr.op == "-" else operand
    if isinstance(expr, Bin):
        return _map2(_BINARY[expr.op], evaluate(expr.left, env), evaluate(expr.right, env), expr.col)
    if isinstance(expr, Call):
        args = [evaluate(a, env) for a in expr.args]
        if expr.func == "sum":
            return _reduce(args[0], sum)
        if expr.func == "mean":
            return _reduce(args[0], lambda v: sum(v) / len(v))
        if expr.func == "clamp":
            lo, hi = args[1], args[2]
            if isinstance(lo, tuple) or isinstance(hi, tuple):
                raise EvalError("clamp's bounds must be numbers", expr.col)
            return _map1(lambda a: min(max(a, lo), hi), args[0])
        if expr.func == "bce":
            return _map2(_BCE, args[0], args[1], expr.col)
        return _map1(_UNARY[expr.func], args[0])
    if isinstance(expr, Vector):
        return tuple(evaluate(i, env) for i in expr.items)
    if isinstance(expr, Word):
        raise EvalError(f"{expr.text} is a word, not a number", expr.col)
    raise TypeError(expr)


def _guard(f: Callable[..., float]) -> Callable[..., float]:
    def safe(*args: float) -> float:
        try:
            return f(*args)
        except OverflowError:
            return math.inf
        except (ValueError, ZeroDivisionError):
            return math.nan

    return safe


def _div(a: float, b: float) -> float:
    if b == 0.0:
        if a == 0.0 or math.isnan(a):
            return math.nan
        return math.copysign(math.inf, a) * math.copysign(1.0, b)
    return a / b


def _pow(a: float, b: float) -> float:
    if a < 0 and not float(b).is_integer():
        return math.nan
    if a == 0.0 and b < 0:
        return math.inf
    result = a**b
    return result if isinstance(result, float) else float(result)


def _log(a: float) -> float:
    if a == 0.0:
        return -math.inf
    return math.log(a)


def _sigmoid(a: float) -> float:
    if a >= 0:
        return 1.0 / (1.0 + math.exp(-a))
    e = math.exp(a)
    return e / (1.0 + e)


def _bce(p: float, t: float) -> float:
    return -(t * _log(p) + (1 - t) * _log(1 - p))


_BINARY: dict[str, Callable[[float, float], float]] = {
    "+": _guard(lambda a, b: a + b),
    "-": _guard(lambda a, b: a - b),
    "*": _guard(lambda a, b: a * b),
    "/": _guard(_div),
    "**": _guard(_pow),
}
_UNARY: dict[str, Callable[[float], float]] = {
    "sin": _guard(math.sin),
    "cos": _guard(math.cos),
    "tan": _guard(math.tan),
    "exp": _guard(math.exp),
    "log": _guard(_log),
    "sqrt": _guard(math.sqrt),
    "tanh": _guard(math.tanh),
    "sigmoid": _guard(_sigmoid),
    "relu": lambda a: max(a, 0.0) if not math.isnan(a) else a,
    "abs": abs,
}
_BCE = _guard(_bce)


def _map1(f: Callable[[float], float], a: Value) -> Value:
    if isinstance(a, tuple):
        return tuple(_map1(f, x) for x in a)
    return f(a)


def _map2(f: Callable[[float, float], float], a: Value, b: Value, col: int) -> Value:
    if isinstance(a, tuple) and isinstance(b, tuple):
        if len(a) != len(b):
            raise EvalError(f"vectors of different lengths ({len(a)} and {len(b)})", col)
        return tuple(_map2(f, x, y, col) for x, y in zip(a, b))
    if isinstance(a, tuple):
        return tuple(_map2(f, x, b, col) for x in a)
    if isinstance(b, tuple):
        return tuple(_map2(f, a, y, col) for y in b)
    return f(a, b)


def _reduce(a: Value, f: Callable[[tuple], float]) -> float:
    if not isinstance(a, tuple):
        return a
    if any(isinstance(x, tuple) for x in a):
        raise EvalError("sum and mean take a vector")
    return _guard(f)(a)


def is_finite(value: Value) -> bool:
    if isinstance(value, tuple):
        return all(is_finite(v) for v in value)
    return math.isfinite(value)


def shape(value: Value) -> tuple[int, ...]:
    if isinstance(value, tuple):
        return (len(value), *shape(value[0]))
    return ()
