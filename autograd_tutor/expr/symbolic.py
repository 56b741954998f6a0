"""Expression tree -> sympy, for display only: pretty formulas and the symbolic
local derivative shown on reveal. sympy is imported on first use, and no text
is ever handed to sympy's parser: trees are built from its constructors."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from .ast import Bin, Call, Expr, Name, Num, Unary, has_reduction


@cache
def _sympy() -> Any:
    import sympy

    return sympy


@cache
def _sigmoid() -> Any:
    """sympy has no sigmoid: a function whose derivative is written with itself."""
    sp = _sympy()

    class sigmoid(sp.Function):  # noqa: N801 - the name torch uses
        def fdiff(self, argindex: int = 1) -> Any:
            s = sigmoid(self.args[0])
            return s * (1 - s)

    return sigmoid


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
            return a / b if e.op == "/" else a**b
        if isinstance(e, Call):
            args = [conv(a) for a in e.args]
            if e.func == "sum":
                return args[0]
            if e.func == "mean":
                n = max((sizes.get(s.name, 1) for s in args[0].free_symbols), default=1)
                return args[0] / n
            if e.func == "clamp":
                return sp.Min(sp.Max(args[0], args[1]), args[2])
            if e.func == "bce":
                p, t = args
                return -(t * sp.log(p) + (1 - t) * sp.log(1 - p))
            if e.func == "sigmoid":
                return _sigmoid()(args[0])
            if e.func == "relu":
                return sp.Max(0, args[0])
            return getattr(sp, {"abs": "Abs"}.get(e.func, e.func))(args[0])
        raise TypeError(e)

    return conv(expr)


def pretty(expr: Expr) -> str:
    """A multi-line Unicode rendering (fractions stacked, powers raised)."""
    return _sympy().pretty(to_sympy(expr), use_unicode=True)


def local_derivative(expr: Expr, wrt: str, sizes: Mapping[str, int] | None = None) -> str | None:
    """∂expr/∂wrt as one line of Unicode, or None where it has no per-element form
    (a vector node that mixes a reduction with elementwise terms)."""
    sizes = sizes or {}
    if has_reduction(expr) and not isinstance(expr, Call):
        return None
    sp = _sympy()
    derivative = sp.simplify(sp.diff(to_sympy(expr, sizes), sp.Symbol(wrt)))
    text = sp.pretty(derivative, use_unicode=True, wrap_line=False)
    if "\n" in text:  # a stacked fraction: fall back to one line
        text = sp.sstr(derivative).replace("**", "^").replace("*", "·")
    return text
