"""Expression tree -> sympy, for display only: pretty formulas and the symbolic
local derivative shown on reveal. sympy is imported on first use, and no text
is ever handed to sympy's parser: trees are built from its constructors."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from .ast import Bin, Call, Expr, Name, Num, Unary
from .functions import FUNCTIONS, is_elementwise


@cache
def _sympy() -> Any:
    import sympy

    return sympy


@cache
def sigmoid() -> Any:
    """sympy has no sigmoid: a function whose derivative is written with itself."""
    sp = _sympy()

    class sigmoid(sp.Function):  # noqa: N801 - the name torch uses
        def fdiff(self, argindex: int = 1) -> Any:
            s = sigmoid(self.args[0])
            return s * (1 - s)

    return sigmoid


class NoSympyForm(ValueError):
    """A tree with a function sympy cannot show (matmul, softmax, ...)."""


def warm_up() -> None:
    """Import sympy ahead of the first formula (the app does it in a worker)."""
    _sympy()


def to_sympy(expr: Expr, sizes: Mapping[str, int] | None = None) -> Any:
    """`sizes` gives vector lengths: `mean(e)` is shown per element as `e/n`."""
    sp = _sympy()
    sizes = sizes or {}

    def conv(e: Expr) -> Any:
        if isinstance(e, Num):
            if e.text == "pi":
                return sp.pi
            return sp.Integer(int(e.value)) if e.value.is_integer() else sp.Float(e.text or e.value, 6)
        if isinstance(e, Name):
            return sp.Symbol(e.id)
        if isinstance(e, Unary):
            return -conv(e.operand) if e.op == "-" else conv(e.operand)
        if isinstance(e, Bin):
            a, b = conv(e.left), conv(e.right)
            if e.op == "+":
                return a + b
            if e.op == "-":
                return a - b
            if e.op == "*":
                return a * b
            if e.op == "@":
                raise NoSympyForm("@")
            return a / b if e.op == "/" else a**b
        if isinstance(e, Call):
            args = [conv(a) for a in e.args]
            if e.func == "sum":
                return args[0]
            if e.func == "mean":
                n = max((sizes.get(s.name, 1) for s in args[0].free_symbols), default=1)
                return args[0] / n
            form = FUNCTIONS[e.func].sympy
            if form is None:
                raise NoSympyForm(e.func)
            return form(sp, *args)
        raise NoSympyForm(type(e).__name__)

    return conv(expr)


def pretty(expr: Expr) -> str:
    """A multi-line Unicode rendering (fractions stacked, powers raised)."""
    try:
        return _sympy().pretty(to_sympy(expr), use_unicode=True)
    except NoSympyForm:
        from .display import to_text

        return to_text(expr)


def local_derivative(expr: Expr, wrt: str, sizes: Mapping[str, int] | None = None) -> str | None:
    """∂expr/∂wrt as one line of Unicode, or None where it has no per-element form
    (a vector node that mixes a reduction with elementwise terms)."""
    sizes = sizes or {}
    if not is_elementwise(expr) and not (isinstance(expr, Call) and expr.func in ("sum", "mean")):
        return None
    sp = _sympy()
    try:
        derivative = sp.simplify(sp.diff(to_sympy(expr, sizes), sp.Symbol(wrt)))
    except NoSympyForm:
        return None
    text = sp.pretty(derivative, use_unicode=True, wrap_line=False)
    if "\n" in text:  # a stacked fraction: fall back to one line
        text = sp.sstr(derivative).replace("**", "^").replace("*", "·")
    return text
