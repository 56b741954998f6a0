"""Expression tree -> the PyTorch source a learner would write in a notebook."""

from __future__ import annotations

from .ast import PRECEDENCE, UNARY, Bin, Call, Expr, Name, Num, Unary, Vector, Word, bracket


def to_code(expr: Expr) -> str:
    return _code(expr)[0]


def _code(expr: Expr) -> tuple[str, int]:
    if isinstance(expr, Num):
        return ("math.pi" if expr.text == "pi" else expr.text or repr(expr.value)), 5
    if isinstance(expr, Name):
        return expr.id, 5
    if isinstance(expr, Word):
        return expr.text, 5
    if isinstance(expr, Vector):
        return "[" + ", ".join(to_code(i) for i in expr.items) + "]", 5
    if isinstance(expr, Call):
        args = [to_code(a) for a in expr.args]
        if expr.func == "clamp":
            return f"torch.clamp({args[0]}, min={args[1]}, max={args[2]})", 5
        if expr.func == "bce":
            p, t = (_wrap(a) for a in expr.args)
            return f"-({t}*torch.log({args[0]}) + (1 - {t})*torch.log(1 - {p}))", 3
        return f"torch.{expr.func}({args[0]})", 5
    if isinstance(expr, Unary):
        inner, prec = _code(expr.operand)
        return expr.op + (inner if prec >= UNARY else f"({inner})"), UNARY
    assert isinstance(expr, Bin)
    left, right = bracket(expr.op, *_code(expr.left), *_code(expr.right))
    spaced = expr.op in "+-"
    return f"{left} {expr.op} {right}" if spaced else f"{left}{expr.op}{right}", PRECEDENCE[expr.op]


def _wrap(expr: Expr) -> str:
    text, prec = _code(expr)
    return text if prec >= 5 else f"({text})"
