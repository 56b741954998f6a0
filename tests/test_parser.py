"""The expression language: the whitelist parser, its errors, and our float64 evaluator."""

from __future__ import annotations

import builtins
import contextlib
import math
import os
import subprocess
from pathlib import Path

import pytest

from autograd_tutor.expr.ast import Bin, Call, Name, Num, Unary, Vector, Word
from autograd_tutor.expr.display import to_text
from autograd_tutor.expr.evaluate import EvalError, evaluate
from autograd_tutor.expr.functions import FUNCTIONS, PUBLIC
from autograd_tutor.expr.parser import MAX_LENGTH, MAX_NESTING, ParseError, parse

ONE_ARGUMENT = [f for f in PUBLIC if FUNCTIONS[f].arity == (1, 1)]

NAMES = ["x", "y", "w", "v"]
ENV = {"x": 2.0, "y": 0.25, "w": -1.5, "v": (1.0, 2.0, 3.0)}


def value(text: str, **kw) -> object:
    """The value as plain Python: a float, or tuples of floats."""
    return _plain(evaluate(parse(text, NAMES, **kw), ENV).tolist())


def _plain(v):
    return tuple(_plain(x) for x in v) if isinstance(v, list) else v


def fails(text: str, known=NAMES, **kw) -> ParseError:
    with pytest.raises(ParseError) as info:
        parse(text, known, **kw)
    err = info.value
    assert err.message and str(err) == err.message
    assert 0 <= err.col <= max(len(text), 1), (text, err.col)
    return err


# --- numbers, names, operators ------------------------------------------------------


@pytest.mark.parametrize(
    "text, number",
    [("2", 2.0), ("0.5", 0.5), (".5", 0.5), ("1e-8", 1e-8), ("1E3", 1000.0), ("2.", 2.0), ("  7  ", 7.0)],
)
def test_numbers(text, number):
    expr = parse(text, NAMES)
    assert isinstance(expr, Num)
    assert expr.value == number


def test_pi_is_a_constant_not_a_name():
    expr = parse("pi", [])
    assert isinstance(expr, Num) and expr.value == math.pi
    assert value("2*pi") == pytest.approx(2 * math.pi)


def test_names_are_checked_against_the_lesson():
    assert parse("x", NAMES) == Name("x", 0)
    assert parse("   w", NAMES) == Name("w", 3)
    err = fails("z", ["x", "y"])
    assert "unknown name 'z'" in err.message and "x, y" in err.message


@pytest.mark.parametrize("op", ["+", "-", "*", "/", "**"])
def test_binary_operators(op):
    expr = parse(f"x {op} y", NAMES)
    assert isinstance(expr, Bin) and expr.op == op
    assert value(f"x {op} y") == pytest.approx(eval(f"2.0 {op} 0.25"))  # noqa: S307 - a literal, in a test


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2 + 3*4", 14.0),
        ("(2 + 3)*4", 20.0),
        ("2**3**2", 512.0),
        ("-2**2", -4.0),
        ("(-2)**2", 4.0),
        ("8/2/2", 2.0),
        ("8 - 2 - 1", 5.0),
        ("--x", 2.0),
        ("+x", 2.0),
        ("-x", -2.0),
        ("x - -1", 3.0),
        ("2*x*cos(x**2)", 2 * 2.0 * math.cos(4.0)),
    ],
)
def test_precedence_and_unary(text, expected):
    assert value(text) == pytest.approx(expected)


def test_unary_nodes():
    assert parse("-x", NAMES) == Unary("-", Name("x", 1), 0)
    assert parse("+x", NAMES) == Unary("+", Name("x", 1), 0)


def test_caret_is_power_in_answers_only():
    answer = parse("x^2", NAMES, answer=True)
    assert isinstance(answer, Bin) and answer.op == "**"
    assert to_text(answer) == to_text(parse("x**2", NAMES)) == "x²"
    assert value("x^3", answer=True) == 8.0
    err = fails("x^2", NAMES)  # a node expression
    assert err.col == 1
    assert "**" in err.message


def test_caret_columns_point_into_the_original_text():
    # `^` is rewritten as `**`, which shifts later columns by one: errors must not
    assert fails("x^2 + q", answer=True).col == 6
    assert fails("x ^ 2 ^ q", answer=True).col == 8


# --- functions ---------------------------------------------------------------------


@pytest.mark.parametrize("func", ONE_ARGUMENT)
def test_one_argument_functions(func):
    expr = parse(f"{func}(x)", NAMES)
    assert isinstance(expr, Call) and expr.func == func and expr.args == (Name("x", len(func) + 1),)
    for args in ("x, y", "x, y, w"):
        err = fails(f"{func}({args})")
        assert err.col == 0
        assert f"{func} takes 1 argument" in err.message
    assert fails(f"{func}()").col == 0


def test_every_function_has_the_contract_arity():
    one = ["sin", "cos", "tan", "exp", "log", "sqrt", "tanh", "sigmoid", "relu", "abs", "softplus", "cosh", "sinh"]
    one += ["transpose"]
    two = ["bce", "softmax", "log_softmax", "logsumexp", "maximum", "minimum", "mse", "bce_with_logits"]
    expected = {**{f: (1, 1) for f in one}, **{f: (2, 2) for f in two}, "sum": (1, 2), "mean": (1, 2), "clamp": (3, 3)}
    expected["cross_entropy"] = (2, 2)
    assert expected == {f: FUNCTIONS[f].arity for f in PUBLIC}


@pytest.mark.parametrize("text", ["sum(x, 0)", "mean(x, 1)", "softmax(x, -1)", "x @ y", "transpose(x) @ y"])
def test_the_functions_of_version_1_1_parse(text):
    parse(text, NAMES)


@pytest.mark.parametrize(
    "text, message",
    [
        ("sum(x, y)", "sum's dim must be a constant"),
        ("softmax(x, 0.5)", "softmax's dim must be a whole number"),
        ("softmax(x)", "softmax takes 2 arguments: softmax(a, dim)"),
        ("cross_entropy(x, 2*y)", "cross_entropy's target must be the name of an input"),
        ("sum(x, 0, 1)", "sum takes 1 or 2 arguments: sum(a, [dim])"),
    ],
)
def test_function_arguments_are_checked(text, message):
    assert message in fails(text).message


@pytest.mark.parametrize(
    "text, expected",
    [
        ("sin(x)", math.sin(2.0)),
        ("cos(x)", math.cos(2.0)),
        ("tan(x)", math.tan(2.0)),
        ("exp(x)", math.exp(2.0)),
        ("log(x)", math.log(2.0)),
        ("sqrt(x)", math.sqrt(2.0)),
        ("tanh(x)", math.tanh(2.0)),
        ("sigmoid(x)", 1 / (1 + math.exp(-2.0))),
        ("sigmoid(-800)", 0.0),
        ("relu(w)", 0.0),
        ("relu(x)", 2.0),
        ("abs(w)", 1.5),
        ("sum(v)", 6.0),
        ("mean(v)", 2.0),
        ("clamp(x, 0, 1)", 1.0),
        ("clamp(w, -1, 1)", -1.0),
        ("clamp(y, 0, 1)", 0.25),
        ("bce(y, 1)", -math.log(0.25)),
        ("bce(y, 0)", -math.log(0.75)),
        ("bce(clamp(y, 1e-8, 1 - 1e-8), 0)", -math.log(0.75)),
    ],
)
def test_function_values(text, expected):
    assert value(text) == pytest.approx(expected, abs=1e-12)


def test_clamp_and_bce_arity():
    assert "clamp takes 3 arguments" in fails("clamp(x, 0)").message
    assert "clamp takes 3 arguments" in fails("clamp(x)").message
    assert "bce takes 2 arguments" in fails("bce(x)").message
    assert "bce takes 2 arguments" in fails("bce(x, y, w)").message


def test_clamp_bounds_must_be_constants():
    assert isinstance(parse("clamp(x, -1e-8, 1 - 1e-8)", NAMES), Call)
    assert isinstance(parse("clamp(x, -pi, pi)", NAMES), Call)
    err = fails("clamp(x, x, 1)")
    assert err.col == 9 and "constant" in err.message
    err = fails("clamp(x, 0, 2*y)")
    assert err.col == 12 and "constant" in err.message


def test_not_a_function():
    err = fails("foo(x)")
    assert err.col == 0 and "'foo' is not a function" in err.message
    err = fails("x(2)")
    assert err.col == 0 and "not a function" in err.message
    err = fails("sin")
    assert "sin is a function" in err.message
    assert fails("sin(x=1)").col == 5


# --- lists and words (answers only) ---------------------------------------------------


def test_lists_in_answers_only():
    expr = parse("[1, 2*x, 3]", NAMES, answer=True)
    assert isinstance(expr, Vector) and len(expr.items) == 3
    assert value("[1, 2*x, 3]", answer=True) == (1.0, 4.0, 3.0)
    assert value("[[1, 0], [0, 1]]", answer=True) == ((1.0, 0.0), (0.0, 1.0))
    err = fails("[1, 2]")
    assert err.col == 0 and "only allowed in an answer" in err.message
    assert "empty" in fails("[]", answer=True).message
    assert fails("[[[1]]]", answer=True).col == 2


WORDS = [
    ("None", "None"),
    ("none", "None"),
    ("NONE", "None"),
    ("True", "True"),
    ("true", "True"),
    ("False", "False"),
    ("false", "False"),
    ("error", "error"),
    ("Error", "error"),
    ("ok", "ok"),
    ("OK", "ok"),
    ("PowBackward0", "powbackward0"),
    ("powbackward0", "powbackward0"),
    ("SigmoidBackward0", "sigmoidbackward0"),
    ("  MeanBackward0 ", "meanbackward0"),
]


@pytest.mark.parametrize("text, canonical", WORDS)
def test_words_only_when_allowed(text, canonical):
    word = parse(text, NAMES, answer=True, words=True)
    assert isinstance(word, Word)
    if canonical in ("None", "True", "False", "error", "ok"):
        assert word.text == canonical
    else:
        assert word.text.lower() == canonical
    for kw in ({}, {"answer": True}):
        err = fails(text, **kw)
        assert "not a number" in err.message or "not allowed" in err.message


def test_words_are_not_names_inside_expressions():
    for text in ("None + 1", "2*True", "ok*x"):
        fails(text, answer=True, words=True)


def test_a_word_does_not_evaluate():
    with pytest.raises(EvalError):
        evaluate(parse("ok", NAMES, answer=True, words=True), ENV)


# --- errors: a message and the column at fault ----------------------------------------


@pytest.mark.parametrize(
    "text, kw, col, fragment",
    [
        ("2 x", {}, 2, "missing operator"),
        ("2x", {}, 1, "missing operator"),
        ("x y", {}, 2, "write x*y"),
        ("2 (x)", {}, 2, "missing operator"),
        ("sin(x)x", {}, 6, "missing operator"),
        ("x.grad", {}, 1, "attribute"),
        ("x**2 + y.grad", {}, 8, "attribute"),
        ("x +", {}, 2, "incomplete"),
        ("x + ", {}, 2, "incomplete"),
        ("(x", {}, 0, "unclosed"),
        ("sin(x", {}, 3, "unclosed"),
        ("x)", {}, 1, "unmatched"),
        ("x % 2", {}, 2, "'%'"),
        ("x; y", {}, 1, "';'"),
        ("1 +* 2", {}, 3, "*"),
        ("x + q", {}, 4, "unknown name 'q'"),
        ("x // 2", {}, 0, "operator"),
        ("x[0]", {}, 0, "indexing"),
        ("lambda: 1", {}, 0, "lambda"),
        ("x if y else w", {}, 2, "not allowed"),
        ("x ** 65", {}, 5, "exponent"),
        ("1e400", {}, 0, "too large"),
        ("x − 1", {}, 2, "write -"),
        ("2×x", {}, 1, "write *"),
        ("2π", {}, 1, "pi"),
        ("2²", {}, 1, "**2"),
        ("x + ٣", {}, 4, "ASCII"),
        ("x^2", {}, 1, "**"),
    ],
)
def test_error_messages_and_columns(text, kw, col, fragment):
    err = fails(text, **kw)
    assert err.col == col, err.message
    assert fragment in err.message


def test_forward_references_get_their_own_message():
    err = fails("x + z", ["x"], later=["z"])
    assert err.col == 4 and "defined later" in err.message


def test_empty_and_non_text():
    assert "empty" in fails("").message
    assert "empty" in fails("   ").message
    with pytest.raises(ParseError):
        parse(None, NAMES)  # type: ignore[arg-type]
    with pytest.raises(ParseError):
        parse(42, NAMES)  # type: ignore[arg-type]


# --- hostile input -------------------------------------------------------------------

HOSTILE = [
    "__import__('os').system('id')",
    "__import__('os').system('touch {canary}')",
    "().__class__",
    "().__class__.__bases__[0].__subclasses__()",
    "x.grad",
    "lambda: 1",
    "9**9**9**9",
    "2**2**2**2**2",
    "10**400",
    "(" * 500 + "1" + ")" * 500,
    "1" * 10_000,
    "x+" * 5_000 + "x",
    "nan",
    "inf",
    "NaN",
    "Infinity",
    "-inf",
    "1e999",
    "٣",
    "２",
    "x + ２",
    "2 x",
    "exec('1')",
    "eval('1')",
    "open('/etc/passwd')",
    "import os",
    "[x for x in v]",
    "{1: 2}",
    "x := 1",
    "f'{x}'",
    "b'x'",
    "'x'",
    "1j",
    "0x10",
    "1_000",
    "...",
    "*x",
    "x\n+1",
    "x\x00",
    "\x1b[31m",
    "sin(x)\u202e",
    "x if x else x",
    "not x",
    "x and y",
    "x < y",
    "globals()",
    "getattr(x, 'grad')",
    "sum(x for x in v)",
]


@contextlib.contextmanager
def nothing_runs(canary: Path):
    """Fail if anything tries to run a command, import a module or eval code meanwhile."""
    calls: list[str] = []

    def forbidden(name):
        def trap(*args, **kwargs):
            calls.append(name)
            raise AssertionError(f"{name} called while parsing")

        return trap

    real_import = builtins.__import__

    def guarded_import(name, globals=None, locals=None, fromlist=(), level=0):
        # the parser may import its own modules (relative imports); nothing else
        if level == 0 and not name.startswith("autograd_tutor"):
            calls.append(f"import {name}")
            raise AssertionError(f"import {name} while parsing")
        return real_import(name, globals, locals, fromlist, level)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(os, "system", forbidden("os.system"))
        mp.setattr(os, "popen", forbidden("os.popen"))
        mp.setattr(subprocess, "Popen", forbidden("subprocess.Popen"))
        mp.setattr(builtins, "eval", forbidden("eval"))
        mp.setattr(builtins, "exec", forbidden("exec"))
        mp.setattr(builtins, "open", forbidden("open"))
        mp.setattr(builtins, "__import__", guarded_import)
        yield
    assert calls == []
    assert not canary.exists()


@pytest.mark.parametrize("text", HOSTILE, ids=lambda t: repr(t[:30]))
@pytest.mark.parametrize("kw", [{}, {"answer": True}, {"answer": True, "words": True}], ids=["node", "answer", "words"])
def test_hostile_input_is_rejected_without_running_anything(text, kw, tmp_path):
    canary = tmp_path / "canary"
    text = text.replace("{canary}", str(canary))
    with nothing_runs(canary):
        try:
            parse(text, NAMES, **kw)
        except ParseError as err:
            error = err
        else:
            error = None
    assert error is not None and error.message


def test_bounds_length_and_nesting():
    terms = (MAX_LENGTH + 1) // 10
    longest = "+".join(["123456789"] * terms)
    assert len(longest) <= MAX_LENGTH
    assert evaluate(parse(longest, []), {}) == 123456789 * terms
    assert "too long" in fails("1" * (MAX_LENGTH + 1)).message
    deep = "(" * MAX_NESTING + "x" + ")" * MAX_NESTING
    assert parse(deep, NAMES) == Name("x", MAX_NESTING)
    err = fails("(" * (MAX_NESTING + 1) + "x" + ")" * (MAX_NESTING + 1))
    assert err.col == MAX_NESTING and "nested" in err.message
    err = fails("sin(" * (MAX_NESTING + 1) + "x" + ")" * (MAX_NESTING + 1))
    assert "nested" in err.message
    err = fails("-" * (MAX_LENGTH - 1) + "x")  # deep unary chain, within the length
    assert err.message


@pytest.mark.parametrize(
    "text, known",
    [("p\uff49", []), ("x\uff58", ["xx"]), ("x\ufb01", ["xfi"]), ("x_\u2090", ["x_a"]), ("x\u00b2", ["x"])],
    ids=["fullwidth-i-in-pi", "fullwidth-x", "fi-ligature", "subscript-a", "superscript-2"],
)
def test_non_ascii_inside_a_name_is_rejected(text, known):
    # the contract: names are [A-Za-z_][A-Za-z0-9_]*; Python's parser would NFKC-normalise
    # identifiers (`p\uff49` read as pi, `x\uff58` as xx), so the screen refuses them first
    err = fails(text, known)
    first_foreign = next(i for i, ch in enumerate(text) if not ch.isascii())
    assert err.col == first_foreign and "unexpected character" in err.message
    if text.endswith("\u00b2"):
        assert "**2" in err.message  # the lookalike hint, as for `2\u00b2`


def test_exponents_are_bounded_but_ordinary_powers_pass():
    assert value("2**64") == 2.0**64
    assert value("x**-2") == 0.25
    assert value("2**(1/2)") == pytest.approx(math.sqrt(2))
    assert "exponent" in fails("2**-65").message
    assert "exponent" in fails("9**9**9**9").message


# --- the evaluator -------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, check",
    [
        ("log(0)", lambda r: r == -math.inf),
        ("1/0", lambda r: r == math.inf),
        ("-1/0", lambda r: r == -math.inf),
        ("0/0", math.isnan),
        ("sqrt(-1)", math.isnan),
        ("log(-1)", math.isnan),
        ("exp(1000)", lambda r: r == math.inf),
        ("(-8)**(1/3)", math.isnan),
        ("0**-1", lambda r: r == math.inf),
    ],
)
def test_domain_errors_give_nan_or_inf_like_torch(text, check):
    assert check(value(text))


def test_vectors_broadcast_elementwise():
    assert value("v**2") == (1.0, 4.0, 9.0)
    assert value("x*v") == (2.0, 4.0, 6.0)
    assert value("v + [1, 1, 1]", answer=True) == (2.0, 3.0, 4.0)
    assert value("mean(v**2)") == pytest.approx(14 / 3)
    assert value("sin(v)") == tuple(math.sin(a) for a in (1.0, 2.0, 3.0))
    with pytest.raises(EvalError) as info:
        value("v + [1, 2]", answer=True)
    assert "shapes (3,) and (2,) do not broadcast" in info.value.message


def test_display_is_unicode_math():
    assert to_text(parse("2*x*cos(x**2)", NAMES)) == "2·x·cos(x²)"
    assert to_text(parse("x - (y - w)", NAMES)) == "x − (y − w)"
    assert to_text(parse("-(x + y)", NAMES)) == "−(x + y)"
