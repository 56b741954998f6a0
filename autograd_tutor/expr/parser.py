"""The whitelist parser: text -> expression tree, without executing anything.

Text is first screened character by character (length, alphabet, nesting, two
operands in a row), then parsed by Python's `ast` and translated node by node;
any node type that is not part of the language is refused. Nothing is ever
passed to `eval`, `exec` or `sympify`.
"""

from __future__ import annotations

import ast as pyast
import keyword
import math
import re
from collections.abc import Collection

import numpy as np

from .ast import Bin, Call, Expr, Name, Num, Unary, Vector, Word, names
from .functions import FUNCTIONS, PUBLIC, RESERVED

MAX_LENGTH = 400
MAX_NESTING = 30
MAX_NODES = 250
MAX_EXPONENT = 64

WORDS = {"none": "None", "true": "True", "false": "False", "error": "error", "ok": "ok"}
GRAD_FN = re.compile(r"[A-Za-z]+Backward\d+", re.IGNORECASE)
_GRAD_FN_NO_DIGIT = re.compile(r"[A-Za-z]+Backward", re.IGNORECASE)
_DECIMAL_COMMA = re.compile(r"\s*[-+]?\d+,\d+\s*")
_TOKEN = re.compile(
    r"(?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)|(?P<name>[A-Za-z_]\w*)|(?P<op>\*\*|[-+*/^@(),\[\]])|(?P<space>\s+)",
    re.ASCII,
)
_LOOKALIKES = {
    "−": "-",
    "–": "-",
    "×": "*",
    "·": "*",
    "⋅": "*",
    "÷": "/",
    "π": "pi",
    "²": "**2",
    "³": "**3",
    "√": "sqrt(...)",
    "∂": "the number or formula itself",
}
_NODE_NAMES = {
    pyast.Attribute: "an attribute (like .grad)",
    pyast.Subscript: "indexing",
    pyast.Lambda: "lambda",
    pyast.Compare: "a comparison",
    pyast.BoolOp: "and/or",
    pyast.Tuple: "a tuple (use [ ] for a list)",
    pyast.IfExp: "if/else",
    pyast.Dict: "a dict",
    pyast.Set: "a set",
    pyast.Starred: "*unpacking",
    pyast.ListComp: "a comprehension",
    pyast.GeneratorExp: "a generator",
    pyast.NamedExpr: ":=",
}


class ParseError(ValueError):
    """Text that is not in the language; `col` is the 0-based column at fault."""

    def __init__(self, message: str, col: int = 0):
        super().__init__(message)
        self.message = message
        self.col = col


def parse(
    text: str,
    known: Collection[str],
    *,
    answer: bool = False,
    words: bool = False,
    later: Collection[str] = (),
) -> Expr:
    """Parse `text` using only the names in `known`.

    `answer` admits what only answers may write (`^`, lists); `words` admits the
    words of `run`/`predict` answers. `later` names are defined after this point
    (for a clearer message about forward references).
    """
    if not isinstance(text, str):
        raise ParseError("expected text")
    if len(text) > MAX_LENGTH:
        raise ParseError(f"too long: {len(text)} characters (at most {MAX_LENGTH})")
    if not text.strip():
        raise ParseError("empty")
    if answer and _DECIMAL_COMMA.fullmatch(text):
        raise ParseError(f"use a dot for decimals: {text.strip().replace(',', '.')}", text.index(","))
    if words and _GRAD_FN_NO_DIGIT.fullmatch(text.strip()):
        stripped = text.strip()
        raise ParseError(f"grad_fn names end in a number, as torch prints them: {stripped}0", text.index(stripped))
    _screen(text, answer)
    if words:
        word = _word(text)
        if word is not None:
            return word
    source, cols = _caret_to_power(text) if answer else (text, None)
    try:
        tree = pyast.parse(source.strip(), mode="eval")
    except SyntaxError as err:
        col = (err.offset or 1) - 1 + (len(source) - len(source.lstrip()))
        raise ParseError(_syntax_message(text, _map(cols, col)), _map(cols, col)) from None
    except (RecursionError, MemoryError, ValueError):
        raise ParseError("too deeply nested") from None
    offset = len(source) - len(source.lstrip())
    expr = _Translator(known, later, answer, cols, offset).expr(tree.body)
    return expr


def _screen(text: str, answer: bool) -> None:
    """Refuse foreign characters, bad nesting and two operands in a row."""
    depth = 0
    opens: list[int] = []
    prev: tuple[str, str, int] | None = None
    pos = 0
    while pos < len(text):
        ch = text[pos]
        if not ch.isascii():
            hint = _LOOKALIKES.get(ch)
            tip = f"; write {hint}" if hint else "; use plain ASCII: digits, names, + - * / ** ( )"
            raise ParseError(f"unexpected character {ch!r}{tip}", pos)
        m = _TOKEN.match(text, pos)
        if m is None:
            if ch == "." and _ATTRIBUTE.match(text, pos):
                raise ParseError(_attribute_message(text, pos), pos)
            if ch == "=":
                fix = "arguments by position, as in sum(a, 0)" if opens else "only the value, without `name =`"
                raise ParseError(f"'=' is not part of an answer: write {fix}", pos)
            raise ParseError(f"unexpected character {ch!r}", pos)
        kind, tok = m.lastgroup, m.group()
        if tok == "^" and not answer:
            raise ParseError("write ** for a power", pos)
        if tok in "([":
            depth += 1
            opens.append(pos)
            if depth > MAX_NESTING:
                raise ParseError(f"too deeply nested (at most {MAX_NESTING} brackets)", pos)
        elif tok in ")]":
            if depth == 0:
                raise ParseError(f"unmatched {tok!r}", pos)
            depth -= 1
            opens.pop()
        if kind != "space":
            if prev is not None and prev[0] == "name" and prev[1] not in PUBLIC and tok == "(":
                raise ParseError(_not_a_function(prev[1], text, prev[2]), prev[2])
            if kind == "name" and keyword.iskeyword(tok) and tok not in ("None", "True", "False"):
                raise ParseError(f"{tok!r} is not allowed", pos)
            around = opens[:-1] if tok in "([" else opens  # the brackets this token is inside
            in_list = bool(around) and text[around[-1]] == "["
            if prev is not None and _operand_end(prev) and (_operand_start(kind, tok) or in_list and tok == "["):
                before, after = prev[1], "(...)" if tok == "(" else tok
                if in_list:
                    entries = (
                        f"[{before}, {after}, ...]"
                        if prev[0] in ("num", "name") and kind in ("num", "name")
                        else "[a, b]"
                    )
                    raise ParseError(f"separate the entries of a list with commas: {entries}", pos)
                raise ParseError(f"missing operator between {before!r} and {tok!r} (write {before}*{after})", pos)
            prev = (kind, tok, pos)
        pos = m.end()
    if depth:
        raise ParseError("unclosed bracket", opens[-1])
    if prev is not None and prev[0] == "op" and prev[1] not in ")]":
        raise ParseError(f"incomplete: something is missing after {prev[1]!r}", prev[2])


def _operand_end(tok: tuple[str, str, int]) -> bool:
    kind, text, _ = tok
    return kind == "num" or (kind == "name" and text not in PUBLIC) or text in ")]"


_ATTRIBUTE = re.compile(r"\.([A-Za-z_]\w*)", re.ASCII)
_OWNER = re.compile(r"([A-Za-z_]\w*)$", re.ASCII)


def _attribute_message(text: str, pos: int) -> str:
    """What to write instead of PyTorch's spelling: X.T, a.sum(0), torch.sum(a, 0)."""
    attribute = _ATTRIBUTE.match(text, pos)[1]
    owner = _OWNER.search(text[:pos])
    owner = owner[1] if owner else "a"
    if attribute == "T":
        return f"write transpose({owner}) for {owner}.T"
    if owner in ("torch", "F", "nn", "functional") and attribute in PUBLIC:
        return f"write {attribute}(...) without {owner}.: functions are written by their name alone"
    if attribute in PUBLIC:
        return f"write {FUNCTIONS[attribute].usage.replace('(a', f'({owner}', 1)} rather than {owner}.{attribute}(...)"
    return "attributes (like .grad) are not allowed; give the value itself"


def _not_a_function(name: str, text: str, col: int) -> str:
    if name == "tensor":
        inner = text[col:].partition("(")[2].rpartition(")")[0].strip() or "4.0"
        return f"write the value itself, {inner}, not tensor({inner})"
    if name in ("e", "E"):
        return "write exp(...) for e to a power"
    return f"{name!r} is not a function (functions: {', '.join(PUBLIC)})"


def _operand_start(kind: str | None, text: str) -> bool:
    return kind in ("num", "name") or text == "("


def _word(text: str) -> Word | None:
    stripped = text.strip()
    canonical = WORDS.get(stripped.lower())
    if canonical is not None:
        return Word(canonical, text.index(stripped))
    if GRAD_FN.fullmatch(stripped):
        return Word(stripped, text.index(stripped))
    return None


def _caret_to_power(text: str) -> tuple[str, list[int]]:
    """Rewrite `^` as `**`; `cols[i]` maps a column of the result back to `text`."""
    out: list[str] = []
    cols: list[int] = []
    for i, ch in enumerate(text):
        if ch == "^":
            out.append("**")
            cols += [i, i]
        else:
            out.append(ch)
            cols.append(i)
    cols.append(len(text))
    return "".join(out), cols


def _map(cols: list[int] | None, col: int) -> int:
    if cols is None:
        return col
    return cols[min(max(col, 0), len(cols) - 1)]


def _syntax_message(source: str, col: int) -> str:
    if col >= len(source.rstrip()):
        return "incomplete: something is missing at the end"
    return f"unexpected {source[col]!r}" if col < len(source) else "invalid syntax"


class _Translator:
    def __init__(self, known: Collection[str], later: Collection[str], answer: bool, cols, offset: int):
        self.known = known
        self.later = later
        self.answer = answer
        self.cols = cols
        self.offset = offset
        self.count = 0

    def col(self, node: pyast.AST) -> int:
        return _map(self.cols, getattr(node, "col_offset", 0) + self.offset)

    def fail(self, message: str, node: pyast.AST) -> ParseError:
        return ParseError(message, self.col(node))

    def expr(self, node: pyast.AST, list_depth: int = 0) -> Expr:
        self.count += 1
        if self.count > MAX_NODES:
            raise self.fail(f"too long: more than {MAX_NODES} terms", node)
        col = self.col(node)
        if isinstance(node, pyast.Constant):
            return self.number(node)
        if isinstance(node, pyast.Name):
            return self.name(node)
        if isinstance(node, pyast.UnaryOp) and isinstance(node.op, (pyast.USub, pyast.UAdd)):
            return Unary("-" if isinstance(node.op, pyast.USub) else "+", self.expr(node.operand), col)
        if isinstance(node, pyast.BinOp):
            return self.binop(node, col)
        if isinstance(node, pyast.Call):
            return self.call(node, col)
        if isinstance(node, pyast.List):
            if not self.answer:
                raise self.fail("a list is only allowed in an answer", node)
            if list_depth >= 2:
                raise self.fail("lists nest at most two deep", node)
            if not node.elts:
                raise self.fail("empty list", node)
            return Vector(tuple(self.expr(e, list_depth + 1) for e in node.elts), col)
        what = _NODE_NAMES.get(type(node), type(node).__name__)
        if isinstance(node, pyast.BinOp | pyast.UnaryOp):
            what = "that operator"
        raise self.fail(f"{what} is not allowed", node)

    def number(self, node: pyast.Constant) -> Num:
        value = node.value
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(f"{value!r} is not a number", node)
        try:
            number = float(value)
        except OverflowError:
            raise self.fail("number too large", node) from None
        if not math.isfinite(number):
            raise self.fail("number too large", node)
        return Num(number, self.col(node), pyast.unparse(node))

    def name(self, node: pyast.Name) -> Expr:
        ident = node.id
        if ident == "pi":
            return Num(math.pi, self.col(node), "pi")
        if ident in PUBLIC:
            raise self.fail(f"{ident} is a function: write {FUNCTIONS[ident].usage}", node)
        if ident in self.known:
            return Name(ident, self.col(node))
        if ident in self.later:
            raise self.fail(f"{ident!r} is defined later: an expression may use only inputs and earlier nodes", node)
        if ident.lower() in WORDS or GRAD_FN.fullmatch(ident):
            raise self.fail(f"{ident!r} is not a number; words are answers to run and predict steps only", node)
        if ident in ("e", "E"):
            raise self.fail("write exp(1) for the number e, and exp(x) for e^x", node)
        available = ", ".join(sorted(self.known)) or "none"
        raise self.fail(f"unknown name {ident!r} (names here: {available})", node)

    def binop(self, node: pyast.BinOp, col: int) -> Bin:
        ops = {pyast.Add: "+", pyast.Sub: "-", pyast.Mult: "*", pyast.Div: "/", pyast.Pow: "**", pyast.MatMult: "@"}
        op = ops.get(type(node.op))
        if op is None:
            raise self.fail("that operator is not allowed (use + - * / ** @)", node)
        if op == "**" and isinstance(node.left, pyast.Name) and node.left.id == "e" and "e" not in self.known:
            power = pyast.unparse(node.right).replace(" ", "")
            written = power if isinstance(node.right, pyast.Name | pyast.Constant) else f"({power})"
            raise self.fail(f"write exp(1) for the number e, and exp({power}) for e^{written}", node)
        left, right = self.expr(node.left), self.expr(node.right)
        if op == "**" and not names(right):
            from .evaluate import EvalError, evaluate

            try:
                exponent = evaluate(right, {})
            except EvalError:
                exponent = np.float64(math.inf)
            if exponent.ndim or not abs(float(exponent)) <= MAX_EXPONENT:
                raise ParseError(f"exponent too large (at most {MAX_EXPONENT})", right.col)
        return Bin(op, left, right, col)

    def call(self, node: pyast.Call, col: int) -> Call:
        func = node.func.id if isinstance(node.func, pyast.Name) else None
        if func not in PUBLIC:
            shown = func if func else "this"
            raise self.fail(f"{shown!r} is not a function here (functions: {', '.join(PUBLIC)})", node)
        f = FUNCTIONS[func]
        if node.keywords:
            raise self.fail(f"{func}() takes no keyword arguments: write {f.usage}", node)
        least, most = f.arity
        if not least <= len(node.args) <= most:
            count = str(least) if least == most else f"{least} or {most}"
            raise self.fail(f"{func} takes {count} argument{'s' * (most > 1)}: {f.usage}", node)
        args = tuple(self.expr(a) for a in node.args)
        for arg, param in zip(args, f.params):
            if param.kind in ("const", "dim") and names(arg):
                raise ParseError(f"{func}'s {param.name} must be a constant: {f.usage}", arg.col)
            if param.kind == "dim":
                from .evaluate import EvalError, evaluate

                try:
                    value = evaluate(arg, {})
                    dim = float(value) if value.ndim == 0 else math.nan  # a list is no dim
                except EvalError:
                    dim = math.nan
                if not dim.is_integer():
                    raise ParseError(f"{func}'s dim must be a whole number (0 for rows, 1 for columns)", arg.col)
            if param.kind == "target" and not isinstance(arg, Name):
                raise ParseError(f"{func}'s {param.name} must be the name of an input holding class indices", arg.col)
        return Call(func, args, col)


def is_answer_word(name: str) -> bool:
    """Names that an answer to a predict or run step reads as a word."""
    return name.lower() in WORDS or GRAD_FN.fullmatch(name) is not None


def is_reserved(name: str) -> bool:
    """Names a lesson may not use for an input or node."""
    return name in RESERVED or keyword.iskeyword(name) or keyword.issoftkeyword(name)
