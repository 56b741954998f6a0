"""The expression tree shared by node expressions and answers.

Every node records `col`, its 0-based column in the source text, so that errors
can point at the character at fault.
"""

from __future__ import annotations

from dataclasses import dataclass

# How tightly each operator binds, for printing trees back as text (`@` is matmul).
PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2, "@": 2, "**": 4}
UNARY = 3  # unary minus binds tighter than * but looser than **: -x**2 is -(x**2)
ATOM = 5  # numbers, names, calls, lists


def bracket(expr: Bin, left: str, left_prec: int, right: str, right_prec: int) -> tuple[str, str]:
    """The operands of `left op right`, bracketed where the tree needs it."""
    op = expr.op
    prec = PRECEDENCE[op]
    if op == "**":  # right-associative: 2**3**2 is 2**(3**2)
        return (left if left_prec > prec else f"({left})"), (right if right_prec >= prec else f"({right})")
    # left-associative: at equal precedence the right operand keeps its brackets,
    # except a + (b + c) and a * (b * c), which read the same without them
    inner = expr.right.op if isinstance(expr.right, Bin) else None
    right_ok = right_prec > prec or (right_prec == prec and op in "+*" and inner == op)
    return (left if left_prec >= prec else f"({left})"), (right if right_ok else f"({right})")


@dataclass(frozen=True)
class Num:
    value: float
    col: int = 0
    text: str = ""  # as written ("pi", "1e-8"), for display


@dataclass(frozen=True)
class Name:
    id: str
    col: int = 0


@dataclass(frozen=True)
class Unary:
    op: str  # "-" or "+"
    operand: Expr
    col: int = 0


@dataclass(frozen=True)
class Bin:
    op: str  # "+", "-", "*", "/", "**", "@"
    left: Expr
    right: Expr
    col: int = 0


@dataclass(frozen=True)
class Call:
    func: str
    args: tuple[Expr, ...]
    col: int = 0


@dataclass(frozen=True)
class Vector:
    """A list literal `[e1, e2, ...]`; answers only."""

    items: tuple[Expr, ...]
    col: int = 0


@dataclass(frozen=True)
class Word:
    """`None`, `True`, `False`, `error`, `ok` or a grad_fn name; answers only."""

    text: str  # canonical spelling: "None", "True", "False", "error", "ok", "PowBackward0"
    col: int = 0


Expr = Num | Name | Unary | Bin | Call | Vector | Word


def names(expr: Expr) -> list[str]:
    """The lesson names used in `expr`, in order of first appearance."""
    seen: dict[str, None] = {}

    def walk(e: Expr) -> None:
        if isinstance(e, Name):
            seen.setdefault(e.id)
        for child in children(e):
            walk(child)

    walk(expr)
    return list(seen)


def children(expr: Expr) -> tuple[Expr, ...]:
    if isinstance(expr, Unary):
        return (expr.operand,)
    if isinstance(expr, Bin):
        return (expr.left, expr.right)
    if isinstance(expr, Call):
        return expr.args
    if isinstance(expr, Vector):
        return expr.items
    return ()


def walk(expr: Expr):
    """Every subtree of `expr`, `expr` first."""
    yield expr
    for child in children(expr):
        yield from walk(child)
