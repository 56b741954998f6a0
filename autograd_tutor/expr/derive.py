"""Symbolic derivatives of expression trees, with the classic slips learners make.

`derivative(expr, wrt)` gives ∂expr/∂wrt as a tree (in the elementwise form the
tutor asks for) and a list of wrong versions: each the derivative with one rule
misapplied — a derivative-table slip (sin′ = −cos), the power rule without its
factor, the inner derivative dropped, the outer derivative taken at the wrong
argument, one term of the product rule, 1/n of a mean forgotten. The grader
evaluates them at the test points to recognise an answer's cause. These trees
are never the truth (torch is): they only name mistakes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .ast import Bin, Call, Expr, Name, Num, Unary, names
from .display import to_text
from .evaluate import EvalError, evaluate
from .functions import FUNCTIONS, add, call, div, mul, neg, num, power, sub

ZERO, ONE = num(0), num(1)


class NoDerivative(ValueError):
    """An expression outside what `derivative` knows (matmul, softmax, ...)."""


@dataclass(frozen=True)
class Slip:
    tree: Expr
    tag: str
    feedback: str


def derivative(expr: Expr, wrt: str, size: Callable[[Expr], int]) -> tuple[Expr, list[Slip]]:
    """∂expr/∂wrt and its slips; `size(e)` is how many elements `e` has (for mean)."""
    return _Deriver(wrt, size).d(expr)


def substitute(e: Expr, name: str, by: Expr) -> Expr:
    """`e` with every `name` replaced by `by`."""
    match e:
        case Name(id=n):
            return by if n == name else e
        case Unary(op=op, operand=a):
            return Unary(op, substitute(a, name, by))
        case Bin(op=op, left=a, right=b):
            return Bin(op, substitute(a, name, by), substitute(b, name, by))
        case Call(func=f, args=args):
            return Call(f, tuple(substitute(a, name, by) for a in args))
    return e


def _is(e: Expr, v: float) -> bool:
    return isinstance(e, Num) and e.value == v


def _mul(a: Expr, b: Expr) -> Expr:
    if _is(a, 0) or _is(b, 0):
        return ZERO
    if _is(a, 1):
        return b
    if _is(b, 1):
        return a
    return mul(a, b)


def _add(a: Expr, b: Expr) -> Expr:
    if _is(a, 0):
        return b
    if _is(b, 0):
        return a
    return add(a, b)


def _sub(a: Expr, b: Expr) -> Expr:
    if _is(b, 0):
        return a
    if _is(a, 0):
        return neg(b)
    return sub(a, b)


def _div(a: Expr, b: Expr) -> Expr:
    if _is(a, 0):
        return ZERO
    if _is(b, 1):
        return a
    return div(a, b)


def _neg(a: Expr) -> Expr:
    return ZERO if _is(a, 0) else neg(a)


class _Deriver:
    def __init__(self, wrt: str, size: Callable[[Expr], int]):
        self.wrt = wrt
        self.size = size

    def d(self, e: Expr) -> tuple[Expr, list[Slip]]:
        if self.wrt not in names(e):
            return ZERO, []
        match e:
            case Name():
                return ONE, []
            case Unary(op=op, operand=a):
                da, slips = self.d(a)
                return (_neg(da), self.each(slips, _neg)) if op == "-" else (da, slips)
            case Bin(op="+" | "-", left=a, right=b):
                return self.sum(e.op, a, b)
            case Bin(op="*", left=a, right=b):
                return self.product(a, b)
            case Bin(op="/", left=a, right=b):
                return self.quotient(a, b)
            case Bin(op="**", left=a, right=b):
                return self.power(a, b)
            case Call(func=func, args=args):
                return self.call(func, args)
        raise NoDerivative(to_text(e))

    @staticmethod
    def each(slips: list[Slip], f: Callable[[Expr], Expr]) -> list[Slip]:
        return [Slip(f(s.tree), s.tag, s.feedback) for s in slips]

    def sum(self, op: str, a: Expr, b: Expr) -> tuple[Expr, list[Slip]]:
        (da, sa), (db, sb) = self.d(a), self.d(b)
        join = _add if op == "+" else _sub
        slips = self.each(sa, lambda s: join(s, db)) + self.each(sb, lambda s: join(da, s))
        if op == "-" and not _is(da, 0) and not _is(db, 0):
            slips.append(Slip(_add(da, db), "sign", "A difference subtracts the derivative of its second term."))
        return join(da, db), slips

    def product(self, a: Expr, b: Expr) -> tuple[Expr, list[Slip]]:
        (da, sa), (db, sb) = self.d(a), self.d(b)
        left, right = _mul(da, b), _mul(a, db)
        slips = self.each(sa, lambda s: _add(_mul(s, b), right)) + self.each(sb, lambda s: _add(left, _mul(a, s)))
        if not _is(da, 0) and not _is(db, 0):
            rule = f"{to_text(a)} and {to_text(b)} both depend on {self.wrt}: the product rule adds two terms."
            slips += [Slip(left, "product_rule", rule), Slip(right, "product_rule", rule)]
            slips.append(
                Slip(_mul(da, db), "product_rule", "The derivative of a product is not the product of the derivatives.")
            )
        return _add(left, right), slips

    def quotient(self, a: Expr, b: Expr) -> tuple[Expr, list[Slip]]:
        (da, sa), (db, sb) = self.d(a), self.d(b)
        if _is(db, 0):
            return _div(da, b), self.each(sa, lambda s: _div(s, b))
        square = power(b, 2)
        true = _div(_sub(_mul(da, b), _mul(a, db)), square)
        slips = [
            Slip(_div(_add(_mul(da, b), _mul(a, db)), square), "sign", "The quotient rule subtracts: (a′b − ab′)/b².")
        ]
        if not _is(da, 0):
            slips.append(Slip(_div(da, b), "quotient_rule", f"The denominator {to_text(b)} depends on {self.wrt} too."))
        slips += self.each(sb, lambda s: _div(_sub(_mul(da, b), _mul(a, s)), square))
        return true, slips

    def power(self, a: Expr, b: Expr) -> tuple[Expr, list[Slip]]:
        if self.wrt in names(b):
            if self.wrt in names(a):
                raise NoDerivative("a power with the variable in both base and exponent")
            db, _ = self.d(b)
            return _mul(_mul(Bin("**", a, b), call("log", a)), db), []
        try:
            n = float(evaluate(b, {}))
        except (EvalError, KeyError):  # an exponent that names an input
            raise NoDerivative("a power with a non-constant exponent") from None
        da, sa = self.d(a)
        outer = _mul(num(n), power(a, n - 1)) if n != 2 else _mul(num(2), a)
        slips = [
            Slip(
                _mul(power(a, n - 1), da), "power_rule", f"The power rule brings the exponent {_n(n)} down as a factor."
            ),
            Slip(_mul(_mul(num(n), Bin("**", a, b)), da), "power_rule", "The power rule lowers the exponent by one."),
        ]
        if not _is(da, 1):
            slips.append(
                Slip(outer, "missing_factor", f"You dropped the inner derivative, the derivative of {to_text(a)}.")
            )
        slips += self.each(sa, lambda s: _mul(outer, s))
        return _mul(outer, da), slips

    def call(self, func: str, args: tuple[Expr, ...]) -> tuple[Expr, list[Slip]]:
        f = FUNCTIONS[func]
        if f.derivative is not None:
            (g,) = args
            dg, sg = self.d(g)
            outer = f.derivative(g)
            slips = [Slip(_mul(s.tree(g), dg), s.tag, s.feedback) for s in f.slips]
            if not _is(dg, 1):
                slips.append(
                    Slip(outer, "missing_factor", f"You dropped the inner derivative, the derivative of {to_text(g)}.")
                )
            if not isinstance(g, Name) and names(g) == [self.wrt]:
                slips.append(
                    Slip(
                        _mul(f.derivative(Name(self.wrt)), dg),
                        "outer_argument",
                        f"Take {func}′ at the inner value {to_text(g)}, not at {self.wrt}.",
                    )
                )
            slips += self.each(sg, lambda s: _mul(outer, s))
            return _mul(outer, dg), slips
        if func == "sum" and len(args) == 1:
            return self.d(args[0])
        if func == "mean" and len(args) == 1:
            da, sa = self.d(args[0])
            n = num(self.size(args[0]))
            slips = [Slip(da, "mean_count", "mean divides by the number of elements: the derivative has 1/n in it.")]
            return _div(da, n), slips + self.each(sa, lambda s: _div(s, n))
        if func == "clamp":
            a, lo, hi = args
            da, sa = self.d(a)
            inside = _mul(call("positive", _sub(a, lo)), call("positive", _sub(hi, a)))
            return _mul(inside, da), self.each(sa, lambda s: _mul(inside, s))
        if func == "bce":
            p, t = args
            (dp, sp), (dt, st) = self.d(p), self.d(t)
            dl_dp = _div(_sub(p, t), _mul(p, _sub(ONE, p)))
            dl_dt = _sub(call("log", _sub(ONE, p)), call("log", p))
            slips = []
            if not _is(dp, 0):
                slips.append(
                    Slip(
                        _mul(_neg(_div(t, p)), dp),
                        "missing_term",
                        "bce has two terms, −t·log(p) and −(1 − t)·log(1 − p): both depend on p.",
                    )
                )
                slips += self.each(sp, lambda s: _add(_mul(dl_dp, s), _mul(dl_dt, dt)))
            slips += self.each(st, lambda s: _add(_mul(dl_dp, dp), _mul(dl_dt, s)))
            return _add(_mul(dl_dp, dp), _mul(dl_dt, dt)), slips
        if func in ("maximum", "minimum"):
            a, b = args
            (da, _), (db, _) = self.d(a), self.d(b)
            first = call("positive", _sub(a, b) if func == "maximum" else _sub(b, a))
            return _add(_mul(first, da), _mul(_sub(ONE, first), db)), []
        raise NoDerivative(func)


def _n(n: float) -> str:
    return str(int(n)) if n.is_integer() else repr(n)
