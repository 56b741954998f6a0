"""Markdown as plain text, for `--plain` and for anything read aloud: no `**`,
backticks or code fences; code blocks indented; paragraphs joined into lines."""

from __future__ import annotations

import textwrap
from functools import cache

from markdown_it import MarkdownIt
from markdown_it.token import Token


@cache
def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark")


def markdown_to_plain(source: str, width: int | None = None) -> str:
    """`source` as plain text; paragraphs wrapped to `width` when given."""
    blocks: list[tuple[str, bool]] = []  # (text, inside a list)
    items: list[list] = []  # per open list item: [its marker, whether its first paragraph is out]
    numbers: list[int | None] = []  # per open list: the next number, or None for bullets
    for token in _parser().parse(source or ""):
        if token.type == "bullet_list_open":
            numbers.append(None)
        elif token.type == "ordered_list_open":
            numbers.append(int(token.attrGet("start") or 1))
        elif token.type in ("bullet_list_close", "ordered_list_close"):
            numbers.pop()
        elif token.type == "list_item_open":
            number = numbers[-1]
            items.append(["- " if number is None else f"{number}. ", False])
            if number is not None:
                numbers[-1] = number + 1
        elif token.type == "list_item_close":
            items.pop()
        elif token.type == "inline":
            indent = "  " * max(len(items) - 1, 0)
            if items:
                marker, started = items[-1]
                rest = indent + " " * len(marker)
                lead = rest if started else indent + marker
                items[-1][1] = True
            else:
                lead = rest = ""
            blocks.append((_wrap(_inline(token.children or []), lead, rest, width), bool(items)))
        elif token.type in ("fence", "code_block"):
            code = "\n".join("    " + line for line in token.content.rstrip("\n").splitlines())
            blocks.append((code, bool(items)))
    out = ""
    for i, (text, listed) in enumerate(blocks):
        if i:
            out += "\n" if listed and blocks[i - 1][1] else "\n\n"
        out += text
    return out


def _inline(children: list[Token]) -> str:
    out: list[str] = []
    link: list[str] = []
    for child in children:
        if child.type in ("text", "code_inline", "html_inline"):
            out.append(child.content)
        elif child.type == "softbreak":
            out.append(" ")
        elif child.type == "hardbreak":
            out.append("\n")
        elif child.type == "link_open":
            link.append(str(child.attrGet("href") or ""))
            out.append("\0")
        elif child.type == "link_close":
            href = link.pop()
            text_start = len(out) - 1 - out[::-1].index("\0")
            label = "".join(out[text_start + 1 :])
            out[text_start:] = [label if not href or href == label else f"{label} ({href})"]
        elif child.type == "image":
            out.append(child.content)
    return "".join(out)


def _wrap(text: str, lead: str, rest: str, width: int | None) -> str:
    lines = text.split("\n")
    if width is None:
        return "\n".join((lead if i == 0 else rest) + line for i, line in enumerate(lines))
    wrapped: list[str] = []
    for i, line in enumerate(lines):
        first = lead if i == 0 else rest
        wrapped += textwrap.wrap(line, width, initial_indent=first, subsequent_indent=rest) or [first]
    return "\n".join(wrapped)
