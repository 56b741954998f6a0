"""Property-based tests: whatever the text, the parser answers ParseError or a tree,
and the grader answers a Verdict; nothing else escapes, nothing hangs."""

from __future__ import annotations

from functools import cache

import pytest
from conftest import session
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from autograd_tutor.expr.evaluate import EvalError, evaluate
from autograd_tutor.expr.functions import PUBLIC as ARITY
from autograd_tutor.expr.parser import MAX_LENGTH, MAX_NESTING, ParseError, parse
from autograd_tutor.grade.grader import Verdict

NAMES = ["x", "y", "z"]  # chain.yaml
ENV = {"x": 4.0, "y": 16.0, "z": -0.2879}
SETTINGS = settings(deadline=None, max_examples=300, suppress_health_check=[HealthCheck.too_slow])


@cache
def chain_questions():
    sess = session("chain")
    return [sess.question(i) for i in range(len(sess.steps))]


@cache
def vector_questions():
    sess = session("mean")
    return [sess.question(i) for i in range(len(sess.steps))]


@cache
def behaviour_questions():
    sess = session("square")
    return [sess.question(i) for i, s in enumerate(sess.steps) if s.kind in ("predict", "run") and s.takes_answer]


# --- arbitrary text -------------------------------------------------------------------------------

ANY_TEXT = st.text(
    alphabet=st.characters(codec=None, exclude_categories=("Cs",)),  # every code point but surrogates
    max_size=80,
)
TOKENS = st.sampled_from(
    list(ARITY)
    + NAMES
    + ["pi", "None", "True", "ok", "error", "PowBackward0", "nan", "inf", "e", "lambda", "import", "__class__"]
    + ["0", "1", "2.5", ".5", "1e-8", "1e400", "9", "0x1", "1_0", "1j"]
    + ["+", "-", "*", "/", "**", "^", "//", "%", "@", "(", ")", "[", "]", ",", ".", ":", "=", "'", '"', " ", "\t"]
    + ["\n", "\x00", "\x1b", "²", "٣", "２", "ｘ", "π", "−", "·", "\u202e", "\ufeff", "ß"]
)
TOKEN_SOUP = st.lists(TOKENS, max_size=40).map("".join)


def parse_only(text: str, **kw) -> None:
    try:
        parse(text, NAMES, **kw)
    except ParseError as err:
        assert isinstance(err.message, str) and err.message
        assert isinstance(err.col, int) and 0 <= err.col <= max(len(text), 1)


@SETTINGS
@given(text=ANY_TEXT)
@example(text="\x00")
@example(text="x\r\n+1")
@example(text="\\")
@example(text="#")
@example(text="x # comment")
def test_arbitrary_text_only_ever_raises_parse_error(text):
    for kw in ({}, {"answer": True}, {"answer": True, "words": True}, {"answer": True, "words": False}):
        parse_only(text, **kw)


@SETTINGS
@given(text=TOKEN_SOUP)
def test_token_soup_only_ever_raises_parse_error(text):
    for kw in ({}, {"answer": True, "words": True}):
        parse_only(text, **kw)


# --- grammar-shaped expressions -------------------------------------------------------------------

NUMBERS = st.one_of(
    st.integers(0, 1000).map(str),
    st.floats(0, 1e6, allow_nan=False, allow_infinity=False).map(repr),
    st.sampled_from(["0.5", ".5", "1e-8", "2.", "1E3", "0", "pi"]),
)
LEAVES = st.one_of(NUMBERS, st.sampled_from(NAMES))
SPACE = st.sampled_from(["", " "])


def _extend(inner):
    binop = st.tuples(inner, SPACE, st.sampled_from(["+", "-", "*", "/", "**", "^"]), SPACE, inner).map("".join)
    unary = st.tuples(st.sampled_from(["-", "+"]), inner).map("".join)
    paren = inner.map(lambda e: f"({e})")
    one = st.tuples(st.sampled_from(list(ARITY)), st.lists(inner, min_size=0, max_size=3)).map(
        lambda t: f"{t[0]}({', '.join(t[1])})"
    )
    clamp = st.tuples(inner, NUMBERS, NUMBERS).map(lambda t: f"clamp({t[0]}, -{t[1]}, {t[2]})")
    bce = st.tuples(inner, inner).map(lambda t: f"bce({t[0]}, {t[1]})")
    vector = st.lists(inner, min_size=1, max_size=3).map(lambda items: "[" + ", ".join(items) + "]")
    return st.one_of(binop, unary, paren, one, clamp, bce, vector)


EXPRESSIONS = st.recursive(LEAVES, _extend, max_leaves=16)


@SETTINGS
@given(text=EXPRESSIONS)
@example(text="x**x**x**x")
@example(text="exp(exp(exp(x)))")
@example(text="1/(x - 4)")
@example(text="log(0)*0")
@example(text="[x, [y, z]]")
@example(text="sum([1, 2])**64")
@example(text="clamp(x, -0, 0)")
@example(text="mean([[1, 2], [3]])")
def test_grammar_shaped_expressions_parse_evaluate_and_grade(text):
    try:
        expr = parse(text, NAMES, answer=True)
    except ParseError:
        expr = None
    if expr is not None:
        try:
            evaluate(expr, ENV)
        except EvalError as err:
            assert err.message
    for q in chain_questions():
        verdict = q.grade(text)
        assert isinstance(verdict, Verdict)
        assert verdict.status in ("correct", "wrong", "invalid")


@settings(deadline=None, max_examples=150)
@given(text=st.one_of(EXPRESSIONS.map(lambda t: t.replace("y", "s").replace("z", "x")), TOKEN_SOUP))
def test_vector_lessons_always_give_a_verdict(text):
    for q in vector_questions():
        assert isinstance(q.grade(text), Verdict)


@pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisWarning")
@settings(deadline=None, max_examples=150)
@given(text=st.one_of(EXPRESSIONS, TOKEN_SOUP, ANY_TEXT))
@example(text="0/0")
def test_predict_and_run_answers_always_give_a_verdict(text):
    for q in behaviour_questions():
        verdict = q.grade(text)
        assert isinstance(verdict, Verdict)
        assert verdict.status in ("correct", "wrong", "invalid")


# --- the bounds keep everything small ---------------------------------------------------------------


@settings(deadline=None, max_examples=60)
@given(
    depth=st.integers(0, 3 * MAX_NESTING),
    opener=st.sampled_from(["(", "sin(", "[", "-(", "exp("]),
)
def test_nesting_at_and_beyond_the_limit(depth, opener):
    closer = "]" if opener == "[" else ")"
    text = opener * depth + "x" + closer * depth
    try:
        parse(text, NAMES, answer=True)
    except ParseError as err:
        assert depth > MAX_NESTING or len(text) > MAX_LENGTH or err.message
        return
    assert depth <= MAX_NESTING


@settings(deadline=None, max_examples=40)
@given(length=st.integers(MAX_LENGTH - 5, 20 * MAX_LENGTH), filler=st.sampled_from(["1", "x+", "(", "-", " ", "ab"]))
def test_length_at_and_beyond_the_limit(length, filler):
    text = (filler * length)[:length]
    try:
        parse(text, NAMES, answer=True)
    except ParseError as err:
        if length > MAX_LENGTH:
            assert "too long" in err.message
        return
    assert length <= MAX_LENGTH


@settings(deadline=None, max_examples=60)
@given(exponents=st.lists(st.integers(0, 99), min_size=1, max_size=6))
def test_power_towers_are_bounded(exponents):
    text = "**".join(["x", *map(str, exponents)])
    for q in chain_questions():
        assert isinstance(q.grade(text), Verdict)
