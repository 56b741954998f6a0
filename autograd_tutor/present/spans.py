"""Styled text without a UI library: a line is a tuple of spans, each with a
style name that front ends map to their own look (or drop, in plain text).

Text in a span is always literal: it is never parsed as markup, so titles,
answers and torch's messages are shown exactly as they are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import cycle

# The style names, and what each marks.
STYLES = {
    "": "ordinary text",
    "strong": "a title or the thing asked about",
    "dim": "secondary text",
    "ok": "right, or torch's ok",
    "bad": "wrong, or torch's error",
    "hint": "a hint or a warning",
    "truth": "what torch says",
    "code": "PyTorch code",
    "value": "a tensor's value",
    "grad": "a tensor's .grad, from torch",
    "hand": "a value found by hand",
    "focus": "what the current step is about",
    "edge": "the lines of the graph",
}


@dataclass(frozen=True)
class Span:
    text: str
    style: str = ""


Line = tuple[Span, ...]


def line(*parts: str | tuple[str, str] | Span) -> Line:
    """A line from plain strings, (text, style) pairs and spans."""
    return tuple(p if isinstance(p, Span) else Span(p) if isinstance(p, str) else Span(*p) for p in parts)


def plain(lines: tuple[Line, ...] | list[Line]) -> str:
    return "\n".join("".join(s.text for s in spans) for spans in lines)


def width(spans: Line) -> int:
    return sum(len(s.text) for s in spans)


def said(text: str, style: str = "") -> tuple[Span, ...]:
    """An author's short text (a hint, a feedback, an option) with its `code` spans styled as
    code and their backticks dropped, so that nothing reads a backtick aloud."""
    parts = re.split(r"`([^`\n]+)`", text)
    return tuple(Span(part, "code" if odd else style) for odd, part in zip(cycle((False, True)), parts) if part)
