"""Reading the graph panel as drawn: one block of text per tensor."""

from __future__ import annotations

import re

MARKERS = ("●", "◆")


def node_blocks(panel: str) -> dict[str, str]:
    """name -> the text of its block (its line and the detail lines under it, lane art removed)."""
    blocks: dict[str, list[str]] = {}
    current = None
    for raw in panel.splitlines():
        text = raw.lstrip(" │├┤┼└┘┌┐─")
        head = next((m for m in MARKERS if text.startswith(m)), None)
        if head:
            rest = text[1:].lstrip(" │")  # lanes to the right of the node's own
            current = rest.split(" ")[0]
            blocks[current] = [rest]
        elif current is not None and not text.startswith("∂"):
            blocks[current].append(text.strip())
    return {name: " ".join(lines) for name, lines in blocks.items()}


def fact(block: str, label: str) -> str | None:
    """The value after `data` or `.grad` in a block ('?' when hidden)."""
    match = re.search(rf"(?:^|\s){re.escape(label)} (\[[^\]]*\]|\S+)", block)
    return match.group(1) if match else None
