"""The one table of functions: for each, its parameters and usage, its float64
evaluation (numpy), its torch operation, its PyTorch source, its sympy form (for
display) and, for elementwise functions, its derivative beside it — as in
micrograd, where each op's backward sits next to its forward.

The parser reads arities and usages from here, the evaluator the numpy column,
`to_torch` the torch column, `to_code` the code column, `symbolic` the sympy one,
and `derive` the derivatives and their classic slips.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from .ast import Bin, Call, Expr, Num, Unary

# A parameter's kind: a tensor expression, a constant number, a constant integer
# dimension, or the name of an input holding class indices.
ParamKind = Literal["tensor", "const", "dim", "target"]


@dataclass(frozen=True)
class Param:
    name: str
    kind: ParamKind = "tensor"
    optional: bool = False


@dataclass(frozen=True)
class Slip:
    """A classic wrong version of a derivative: its tree, its tag, what to say."""

    tree: Callable[[Expr], Expr]
    tag: str
    feedback: str


@dataclass(frozen=True)
class Function:
    name: str
    params: tuple[Param, ...]
    numpy: Callable[..., Any]  # float64 arrays (and ints/floats for constants) -> array
    torch: Callable[..., Any]  # (torch, tensors and constants) -> tensor
    code: Callable[[list[str]], str]  # PyTorch source from the arguments' source
    sympy: Callable[..., Any] | None = None  # (sympy, args) -> sympy expression, for display
    kind: Literal["elementwise", "reduction", "other"] = "other"
    derivative: Callable[[Expr], Expr] | None = None  # elementwise: f'(a) as a tree
    slips: tuple[Slip, ...] = ()
    public: bool = True  # False: used in derivatives only, not in lessons or answers

    @property
    def arity(self) -> tuple[int, int]:
        return sum(not p.optional for p in self.params), len(self.params)

    @property
    def usage(self) -> str:
        shown = [f"[{p.name}]" if p.optional else p.name for p in self.params]
        return f"{self.name}({', '.join(shown)})"


# --- small tree builders, for derivatives ------------------------------------


def num(v: float) -> Num:
    return Num(float(v), 0, repr(v) if not float(v).is_integer() else str(int(v)))


def call(f: str, *args: Expr) -> Call:
    return Call(f, args)


def mul(a: Expr, b: Expr) -> Bin:
    return Bin("*", a, b)


def div(a: Expr, b: Expr) -> Bin:
    return Bin("/", a, b)


def sub(a: Expr, b: Expr) -> Bin:
    return Bin("-", a, b)


def add(a: Expr, b: Expr) -> Bin:
    return Bin("+", a, b)


def power(a: Expr, n: float) -> Bin:
    return Bin("**", a, num(n))


def neg(a: Expr) -> Unary:
    return Unary("-", a)


# --- float64 evaluation helpers ------------------------------------------------


def _sigmoid(a):
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1 / (1 + e), e / (1 + e))


def _softplus(a):  # torch's default: beta 1, threshold 20
    return np.where(a > 20, a, np.log1p(np.exp(np.minimum(a, 20))))


def _axis(a, dim: int) -> int:
    if not -max(a.ndim, 1) <= dim < max(a.ndim, 1):
        raise IndexError(f"dim {dim} is out of range for a tensor of shape {tuple(a.shape)}")
    return dim if a.ndim else None


def _log_softmax(a, dim):
    axis = _axis(a, dim)
    m = np.max(a, axis=axis, keepdims=True)
    return a - m - np.log(np.sum(np.exp(a - m), axis=axis, keepdims=True))


def _logsumexp(a, dim):
    axis = _axis(a, dim)
    m = np.max(a, axis=axis, keepdims=True)
    return np.squeeze(m, axis=axis) + np.log(np.sum(np.exp(a - m), axis=axis))


def _reduce(f):
    def reduce(a, dim=None):
        return f(a) if dim is None else f(a, axis=_axis(a, dim))

    return reduce


def _bce(p, t):
    return -(t * np.log(p) + (1 - t) * np.log(1 - p))


def _bce_with_logits(z, t):
    return np.mean(np.maximum(z, 0) - z * t + np.log1p(np.exp(-np.abs(z))))


def _classes(target, rows: int, classes: int):
    idx = np.asarray(target)
    if not np.all(idx == np.round(idx)) or np.any(idx < 0) or np.any(idx >= classes):
        raise IndexError(f"class indices must be integers from 0 to {classes - 1}")
    if idx.shape != ((rows,) if rows else ()):
        raise IndexError(f"cross_entropy needs one class index per row ({rows or 1})")
    return idx.astype(int)


def _cross_entropy(logits, target):
    if logits.ndim not in (1, 2):
        raise IndexError("cross_entropy takes logits of one row (1-D) or a batch of rows (2-D)")
    logp = _log_softmax(logits, -1)
    if logits.ndim == 1:
        return -logp[_classes(target, 0, logits.shape[0])]
    idx = _classes(target, logits.shape[0], logits.shape[1])
    return -np.mean(logp[np.arange(logits.shape[0]), idx])


def _transpose(a):
    a = np.asarray(a)  # a number arrives as a float
    if a.ndim != 2:
        raise IndexError(f"transpose takes a matrix (2-D), not a tensor of shape {tuple(a.shape)}")
    return a.T


# --- torch helpers -------------------------------------------------------------


def _F(torch):  # noqa: N802 - torch.nn.functional, as everyone calls it
    return torch.nn.functional


def _dims(f):
    """A torch reduction with an optional dimension."""
    return lambda torch, a, dim=None: f(torch)(a) if dim is None else f(torch)(a, dim)


def _code_dim(f: str):
    return lambda a: f"torch.{f}({', '.join(a)})"


# --- derivatives and their slips, for elementwise functions ---------------------

_SIGN_SLIP = "Check the sign of the derivative of {f}."


def _reduction(name: str, f) -> Function:
    """sum or mean, of everything or along `dim`: torch's method of the same name."""
    return Function(
        name,
        (Param("a"), Param("dim", "dim", optional=True)),
        _reduce(f),
        _dims(lambda t: getattr(t, name)),
        _code_dim(name),
        kind="reduction",
    )


def _unary(
    name: str,
    numpy_f,
    derivative: Callable[[Expr], Expr] | None,
    slips: tuple[Slip, ...] = (),
    *,
    torch_f=None,
    code=None,
    sympy_f=None,
    public: bool = True,
) -> Function:
    return Function(
        name,
        (Param("a"),),
        numpy_f,
        torch_f or (lambda torch, a, _n=name: getattr(torch, _n)(a)),
        code or (lambda a, _n=name: f"torch.{_n}({a[0]})"),
        sympy_f or (lambda sp, a, _n=name: getattr(sp, _n)(a)),
        "elementwise",
        derivative,
        slips,
        public,
    )


def _along(name: str, numpy_f) -> Function:
    """A function of a tensor along one dimension: torch.<name>(a, dim)."""
    return Function(
        name,
        (Param("a"), Param("dim", "dim")),
        numpy_f,
        lambda torch, a, dim, _n=name: getattr(torch, _n)(a, dim),
        _code_dim(name),
    )


def _pair(name: str, numpy_f, sympy_f) -> Function:
    """An elementwise function of two tensors: torch.<name>(a, b)."""
    return Function(
        name,
        (Param("a"), Param("b")),
        numpy_f,
        lambda torch, a, b, _n=name: getattr(torch, _n)(a, b),
        _code_dim(name),
        sympy_f,
        kind="elementwise",
    )


def _sympy_sigmoid(sp, a):
    from .symbolic import sigmoid

    return sigmoid()(a)


FUNCTIONS: dict[str, Function] = {
    f.name: f
    for f in (
        _unary(
            "sin",
            np.sin,
            lambda a: call("cos", a),
            (Slip(lambda a: neg(call("cos", a)), "derivative_table", "The derivative of sin is cos, not −cos."),),
        ),
        _unary(
            "cos",
            np.cos,
            lambda a: neg(call("sin", a)),
            (Slip(lambda a: call("sin", a), "derivative_table", "The derivative of cos is −sin: check the sign."),),
        ),
        _unary(
            "tan",
            np.tan,
            lambda a: div(num(1), power(call("cos", a), 2)),
            (Slip(lambda a: div(num(1), call("cos", a)), "derivative_table", "tan′ is 1/cos², not 1/cos."),),
        ),
        _unary("exp", np.exp, lambda a: call("exp", a)),
        _unary(
            "log",
            np.log,
            lambda a: div(num(1), a),
            (Slip(lambda a: neg(div(num(1), a)), "derivative_table", "The derivative of log is 1/a: check the sign."),),
        ),
        _unary(
            "sqrt",
            np.sqrt,
            lambda a: div(num(1), mul(num(2), call("sqrt", a))),
            (
                Slip(
                    lambda a: div(num(1), call("sqrt", a)),
                    "power_rule",
                    "sqrt(a) is a**(1/2): its derivative has a factor 1/2 in front.",
                ),
            ),
        ),
        _unary(
            "tanh",
            np.tanh,
            lambda a: sub(num(1), power(call("tanh", a), 2)),
            (
                Slip(
                    lambda a: mul(call("sigmoid", a), sub(num(1), call("sigmoid", a))),
                    "derivative_table",
                    "That is the derivative of sigmoid; tanh′ is written with tanh itself.",
                ),
                Slip(
                    lambda a: sub(num(1), call("tanh", a)),
                    "derivative_table",
                    "Close: tanh′ is 1 minus tanh *squared*.",
                ),
            ),
        ),
        _unary(
            "sigmoid",
            _sigmoid,
            lambda a: mul(call("sigmoid", a), sub(num(1), call("sigmoid", a))),
            (
                Slip(
                    lambda a: sub(num(1), power(call("sigmoid", a), 2)),
                    "derivative_table",
                    "That is the shape of tanh′; sigmoid′ is σ·(1 − σ).",
                ),
                Slip(
                    lambda a: sub(num(1), call("sigmoid", a)),
                    "derivative_table",
                    "Half of it: sigmoid′ has two factors, σ and (1 − σ).",
                ),
            ),
            sympy_f=_sympy_sigmoid,
        ),
        _unary(
            "relu",
            lambda a: np.where(np.isnan(a), a, np.maximum(a, 0.0)),
            lambda a: call("positive", a),
            sympy_f=lambda sp, a: sp.Max(0, a),
        ),
        _unary(
            "abs",
            np.abs,
            lambda a: call("sign", a),
            sympy_f=lambda sp, a: sp.Abs(a),
        ),
        _unary(
            "softplus",
            _softplus,
            lambda a: call("sigmoid", a),
            torch_f=lambda torch, a: _F(torch).softplus(a),
            code=lambda a: f"torch.nn.functional.softplus({a[0]})",
            sympy_f=lambda sp, a: sp.log(1 + sp.exp(a)),
        ),
        _unary(
            "cosh",
            np.cosh,
            lambda a: call("sinh", a),
            (Slip(lambda a: neg(call("sinh", a)), "derivative_table", "cosh′ is sinh, with no minus sign."),),
        ),
        _unary("sinh", np.sinh, lambda a: call("cosh", a)),
        # derivatives only (relu′ and abs′, as torch takes them: 0 at 0)
        _unary(
            "positive", lambda a: (a > 0).astype(float), None, public=False, sympy_f=lambda sp, a: sp.Heaviside(a, 0)
        ),
        _unary("sign", np.sign, None, public=False),
        _reduction("sum", np.sum),
        _reduction("mean", np.mean),
        Function(
            "clamp",
            (Param("a"), Param("lo", "const"), Param("hi", "const")),
            lambda a, lo, hi: np.where(np.isnan(a), a, np.minimum(np.maximum(a, lo), hi)),
            lambda torch, a, lo, hi: torch.clamp(a, min=lo, max=hi),
            lambda a: f"torch.clamp({a[0]}, min={a[1]}, max={a[2]})",
            lambda sp, a, lo, hi: sp.Min(sp.Max(a, lo), hi),
            kind="elementwise",
        ),
        Function(
            "bce",
            (Param("p"), Param("t")),
            _bce,
            lambda torch, p, t: -(t * torch.log(p) + (1 - t) * torch.log(1 - p)),
            lambda a: f"-({a[1]}*torch.log({a[0]}) + (1 - {a[1]})*torch.log(1 - {a[0]}))",
            lambda sp, p, t: -(t * sp.log(p) + (1 - t) * sp.log(1 - p)),
            kind="elementwise",
        ),
        Function(
            "transpose",
            (Param("a"),),
            _transpose,
            lambda torch, a: a.T,
            lambda a: f"{a[0]}.T",
        ),
        _along("softmax", lambda a, dim: np.exp(_log_softmax(a, dim))),
        _along("log_softmax", _log_softmax),
        _along("logsumexp", _logsumexp),
        _pair("maximum", np.maximum, lambda sp, a, b: sp.Max(a, b)),
        _pair("minimum", np.minimum, lambda sp, a, b: sp.Min(a, b)),
        Function(
            "mse",
            (Param("p"), Param("t")),
            lambda p, t: np.mean((p - t) ** 2),
            lambda torch, p, t: _F(torch).mse_loss(p, t),
            lambda a: f"torch.nn.functional.mse_loss({a[0]}, {a[1]})",
        ),
        Function(
            "bce_with_logits",
            (Param("z"), Param("t")),
            _bce_with_logits,
            lambda torch, z, t: _F(torch).binary_cross_entropy_with_logits(z, t),
            lambda a: f"torch.nn.functional.binary_cross_entropy_with_logits({a[0]}, {a[1]})",
        ),
        Function(
            "cross_entropy",
            (Param("logits"), Param("target", "target")),
            _cross_entropy,
            lambda torch, logits, target: _F(torch).cross_entropy(logits, target.long()),
            lambda a: f"torch.nn.functional.cross_entropy({a[0]}, {a[1]})",
        ),
    )
}

PUBLIC = tuple(name for name, f in FUNCTIONS.items() if f.public)
RESERVED = frozenset(PUBLIC) | {"pi"}


def is_elementwise(expr: Expr) -> bool:
    """Computed element by element: no reduction, matmul or other mixing function inside."""
    from .ast import walk

    for e in walk(expr):
        if isinstance(e, Call) and FUNCTIONS[e.func].kind != "elementwise":
            return False
        if isinstance(e, Bin) and e.op == "@":
            return False
    return True
