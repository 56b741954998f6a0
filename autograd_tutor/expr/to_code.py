"""Expression tree -> the PyTorch source a learner would write in a notebook."""

from __future__ import annotations

from .ast import ATOM, PRECEDENCE, UNARY, Bin, Call, Expr, Name, Num, Unary, Vector, Word, bracket
from .functions import FUNCTIONS


def to_code(expr: Expr) -> str:
    return _code(expr)[0]


def _code(expr: Expr) -> tuple[str, int]:
    if isinstance(expr, Num):
        return ("math.pi" if expr.text == "pi" else expr.text or repr(expr.value)), ATOM
    if isinstance(expr, Name):
        return expr.id, ATOM
    if isinstance(expr, Word):
        return expr.text, ATOM
    if isinstance(expr, Vector):
        return "[" + ", ".join(to_code(i) for i in expr.items) + "]", ATOM
    if isinstance(expr, Call):
        f = FUNCTIONS[expr.func]
        if expr.func in ("bce", "transpose"):  # the code spells out an operator: bracket operands
            return f.code([_wrap(a) for a in expr.args]), 3 if expr.func == "bce" else ATOM
        return f.code([to_code(a) for a in expr.args]), ATOM
    if isinstance(expr, Unary):
        inner, prec = _code(expr.operand)
        return expr.op + (inner if prec >= UNARY else f"({inner})"), UNARY
    assert isinstance(expr, Bin)
    left, right = bracket(expr, *_code(expr.left), *_code(expr.right))
    spaced = expr.op in "+-@"
    return f"{left} {expr.op} {right}" if spaced else f"{left}{expr.op}{right}", PRECEDENCE[expr.op]


def _wrap(expr: Expr) -> str:
    text, prec = _code(expr)
    return text if prec >= ATOM else f"({text})"
