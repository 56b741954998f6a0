"""The presenter's styled spans as Textual content: the one place where the UI
turns text into something drawn. Nothing here parses markup, so a title, an
answer or a problem message is shown exactly as it is written."""

from __future__ import annotations

from collections.abc import Iterable

from textual.content import Content
from textual.widgets import Static

from ..present.spans import Line

# Theme variables, so that `--ansi` (the terminal's own palette) and every theme work.
STYLES = {
    "": "",
    "strong": "bold",
    "dim": "$text-muted",
    "ok": "$text-success",
    "bad": "$text-error",
    "hint": "$text-warning",
    "truth": "bold $text-accent",
    "code": "$text-primary",
    "value": "$text-primary",
    "grad": "$text-secondary",
    "hand": "$text-warning",
    "focus": "bold reverse",
    "edge": "$text-muted",
}


def content(lines: Iterable[Line]) -> Content:
    """Lines of spans as one Content, lines joined by newlines."""
    return Content("\n").join(Content.assemble(*((s.text, STYLES[s.style]) for s in spans)) for spans in lines)


def literal(text: str, style: str = "") -> Content:
    """Text shown as written, in one of the presenter's styles."""
    return Content.styled(text, STYLES[style])


def set_text(widget: Static, text: Content | str) -> None:
    """Show `text` in `widget`, laying the screen out again only when its height changes
    (a layout is the costliest part of a keystroke)."""
    text = Content(text) if isinstance(text, str) else text
    width = widget.content_region.width
    floor = widget.styles.min_height
    lines = max(len(text.wrap(width)), int(floor.value) if floor else 1) if width else 0
    widget.update(text, layout=lines != widget.size.height)
