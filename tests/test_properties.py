"""Property-based tests: whatever the text, the parser answers ParseError or a tree,
the grader answers a Verdict, and a lesson file (or an answers file) is read or
answered with located problems; nothing else escapes, nothing hangs."""

from __future__ import annotations

import json
from functools import cache

import numpy as np
import pytest
import yaml
from conftest import session
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from autograd_tutor.check import read_answers
from autograd_tutor.expr.evaluate import EvalError, evaluate
from autograd_tutor.expr.functions import PUBLIC as ARITY
from autograd_tutor.expr.parser import MAX_LENGTH, MAX_NESTING, ParseError, parse
from autograd_tutor.grade.grader import Verdict
from autograd_tutor.lesson.loader import loads
from autograd_tutor.lesson.problems import LessonInvalid
from autograd_tutor.lesson.source import SourceError

NAMES = ["x", "y", "z"]  # chain.yaml
ENV = {"x": np.asarray(4.0), "y": np.asarray(16.0), "z": np.asarray(-0.2879)}  # values are arrays, as in a lesson
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
        if len(text) > MAX_LENGTH:
            assert "too long" in err.message
        elif depth > MAX_NESTING:
            assert err.message == f"too deeply nested (at most {MAX_NESTING} brackets)"
        else:  # within the bracket limit: only a list may be refused, for nesting more than two deep
            assert opener == "[" and depth > 2 and err.message == "lists nest at most two deep", (text, err.message)
        return
    assert depth <= MAX_NESTING and len(text) <= MAX_LENGTH


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


# --- lesson YAML: whatever a file holds, a lesson or located problems ----------------------------------

PYDANTIC_WORDING = ("Input should", "should have at least", "validation error", "Field required", "Value error")
LESSON = {
    "format": 1,
    "id": "fuzzed",
    "title": "Fuzzed",
    "inputs": {"x": {"value": 2.0, "requires_grad": True}, "t": 0.5},
    "nodes": {"y": "x**2", "z": "sin(y)*t"},
    "steps": [{"forward": "y", "answer": "4"}, {"local": ["z", "y"]}, {"gradient": "x", "hint": ["a", "b"]}],
}
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=10**300, max_value=10**400),
    st.floats(),
    st.text(max_size=30),
    st.sampled_from(["x", "y", "x**2", "", "-", "2001-13-45", "1e-3", "yes", "no", "~", "<<", "[", "{", "!!int x"]),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)),
    max_leaves=12,
)
RAW_SCALARS = st.one_of(  # written into the file as they are, not dumped: YAML's own syntax
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40),
    st.sampled_from(
        [
            "2001-13-45",
            "2001-12-14 21:59:43.10 -5",
            "!!int x",
            "!!float y",
            "!!binary AAAA",
            "!!set {a}",
            "!foo bar",
            "!!python/object/apply:os.system ['true']",
            "<<",
            "*undefined",
            "&a [*a]",
            "&a {k: *a}",
            "1" * 5000,
            "0x" + "f" * 200,
            ":".join(["59"] * 50),
            ".inf",
            "-.inf",
            ".nan",
            "1e400",
            "1_000",
            "0o17",
            "0b101",
            "[1, 2",
            "{a: 1",
            "'unclosed",
            '"\\x"',
            "|",
            ">",
            "@x",
            "`x`",
            "%TAG",
            "? a",
            "- - -",
            "\t1",
            "x: y: z",
            "[" * 40 + "]" * 40,
            "\ufeff",
            "\x00",
            "\x1b[31m",
        ]
    ),
)
FIELDS = st.sampled_from(
    [
        "format",
        "id",
        "title",
        "summary",
        "level",
        "tags",
        "dtype",
        "tolerance",
        "inputs",
        "nodes",
        "output",
        "steps",
        "hnit",
        "nodse",
        "α",
    ]
)


def assert_located(text: str) -> None:
    """`text` as a lesson file: a lesson, or problems each at a real line:col with a message in the format's words."""
    try:
        loads(text, "fuzzed.yaml")
    except LessonInvalid as err:
        assert err.problems
        lines = text.count("\n") + 2
        for problem in err.problems:
            assert problem.file == "fuzzed.yaml" and problem.message
            assert 1 <= problem.line <= lines and problem.col >= 1, str(problem)
            assert not any(w in problem.message for w in PYDANTIC_WORDING), problem.message


@SETTINGS
@given(data=VALUES)
def test_any_yaml_data_is_a_lesson_or_located_problems(data):
    assert_located(yaml.safe_dump(data, allow_unicode=True))


@SETTINGS
@given(
    path=st.lists(
        st.one_of(FIELDS, st.integers(0, 3), st.sampled_from(["x", "y", "value", "local"])), min_size=1, max_size=4
    ),
    value=VALUES,
)
def test_a_lesson_with_any_field_replaced_is_a_lesson_or_located_problems(path, value):
    lesson = json.loads(json.dumps(LESSON))
    here = lesson
    for part in path[:-1]:
        child = (
            here.get(part)
            if isinstance(here, dict)
            else here[part]
            if isinstance(part, int) and part < len(here)
            else None
        )
        if not isinstance(child, dict | list):
            break
        here = child
    else:
        if isinstance(here, dict) or isinstance(path[-1], int) and path[-1] < len(here):
            here[path[-1]] = value
    assert_located(yaml.safe_dump(lesson, allow_unicode=True, sort_keys=False))


@SETTINGS
@given(field=FIELDS, scalar=RAW_SCALARS, where=st.sampled_from(["value", "key", "item", "node"]))
@example(field="title", scalar="2001-13-45", where="value")
@example(field="level", scalar="1" * 5000, where="value")
@example(field="summary", scalar="!!int x", where="value")
@example(field="tags", scalar="&a [*a]", where="value")
@example(field="inputs", scalar="<<", where="key")
def test_any_raw_scalar_anywhere_in_a_lesson_is_a_lesson_or_located_problems(field, scalar, where):
    base = yaml.safe_dump(LESSON, allow_unicode=True, sort_keys=False)
    if where == "value":
        text = base + f"{field}: {scalar}\n"
    elif where == "key":
        text = base + f"{scalar}: 1\n"
    elif where == "item":
        text = base.replace("steps:\n", f"steps:\n- {scalar}\n")
    else:
        text = base.replace("nodes:\n", f"nodes:\n  w: {scalar}\n")
    assert_located(text)


@SETTINGS
@given(text=ANY_TEXT)
def test_any_text_is_a_lesson_or_located_problems(text):
    assert_located(text)


@SETTINGS
@given(data=VALUES, raw=RAW_SCALARS)
def test_any_answers_file_gives_answers_or_a_located_problem(tmp_path_factory, data, raw):
    folder = tmp_path_factory.mktemp("answers", numbered=True)
    for content in (yaml.safe_dump(data, allow_unicode=True), f"- {raw}\n- x\n"):
        file = folder / "answers.yaml"
        file.write_text(content, encoding="utf-8")
        try:
            answers = read_answers(file, 5)
        except SourceError as err:
            assert err.problem.message and err.problem.line >= 1 and err.problem.col >= 1
        else:
            assert len(answers) == 5 and all(a is None or isinstance(a, str) for a in answers)
