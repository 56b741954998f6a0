"""One-line Unicode rendering of expression trees: `2·x·cos(x²)`."""

from __future__ import annotations

import numpy as np

from .ast import ATOM, PRECEDENCE, UNARY, Bin, Call, Expr, Name, Num, Unary, Vector, Word, bracket

_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def to_text(expr: Expr) -> str:
    return _show(expr)[0]


def _show(expr: Expr) -> tuple[str, int]:
    """The text of `expr` and the precedence of its outermost operator."""
    if isinstance(expr, Num):
        text = "π" if expr.text == "pi" else (expr.text or format_number(expr.value))
        return text, ATOM
    if isinstance(expr, Name):
        return expr.id, ATOM
    if isinstance(expr, Word):
        return expr.text, ATOM
    if isinstance(expr, Vector):
        return "[" + ", ".join(to_text(i) for i in expr.items) + "]", ATOM
    if isinstance(expr, Call):
        if expr.func == "transpose":
            inner, prec = _show(expr.args[0])
            return (inner if prec >= ATOM else f"({inner})") + "ᵀ", ATOM
        return f"{expr.func}({', '.join(to_text(a) for a in expr.args)})", ATOM
    if isinstance(expr, Unary):
        inner, prec = _show(expr.operand)
        sign = "−" if expr.op == "-" else "+"
        return sign + (inner if prec >= UNARY else f"({inner})"), UNARY
    assert isinstance(expr, Bin)
    left, right = bracket(expr, *_show(expr.left), *_show(expr.right))
    exponent = expr.right
    if expr.op == "**" and isinstance(exponent, Num) and exponent.value.is_integer() and 0 <= exponent.value < 100:
        return left + str(int(exponent.value)).translate(_SUPERSCRIPT), PRECEDENCE["**"]
    symbol = {"+": " + ", "-": " − ", "*": "·", "/": "/", "**": "^", "@": " @ "}[expr.op]
    return left + symbol + right, PRECEDENCE[expr.op]


def format_value(value: object, limit: int | None = None) -> str:
    """A value as the tutor shows it: numbers by format_number, vectors and matrices
    in brackets (only the first `limit` entries of each, when given, then `…N`
    saying how many there are), words and None as they are."""
    if isinstance(value, np.ndarray | np.floating | float | int) and not isinstance(value, bool):
        array = np.asarray(value, dtype=float)
        if array.ndim == 0:
            return format_number(float(array))
        shown = array if limit is None else array[:limit]
        more = f", …{len(array)}" if len(array) > len(shown) else ""
        return "[" + ", ".join(format_value(v, limit) for v in shown) + more + "]"
    if isinstance(value, tuple | list):
        return format_value(np.asarray(value, dtype=float), limit)
    return str(value)


def code_value(value: object) -> str:
    """A value as Python source, as the tutor shows it but with whole numbers as floats
    (`2.0`): `torch.tensor(2, requires_grad=True)` is an integer tensor, which raises."""
    array = np.asarray(value, dtype=float)
    if array.ndim == 0:
        text = format_number(float(array))
        return text if any(c in text for c in ".en") else text + ".0"  # 1e-05, nan and inf as they are
    return "[" + ", ".join(code_value(v) for v in array) + "]"


def format_number(value: float) -> str:
    """A number as the tutor shows it: 4 decimals, like torch's printing, or
    4 significant figures when that would hide the digits."""
    if value != value:
        return "nan"
    if value in (float("inf"), float("-inf")):
        return "inf" if value > 0 else "-inf"
    if value == 0:
        return "0"
    if float(value).is_integer() and abs(value) < 1e9:
        return str(int(value))
    if 0.01 <= abs(value) < 1e6:
        return f"{value:.4f}".rstrip("0").rstrip(".")
    return f"{value:.4g}"
