"""Textual's footer, fitted to the terminal: a screen names, in FOOTER_MIN_WIDTH,
keys that show only from some width on (they stay in the command palette)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Footer


class TutorFooter(Footer):
    def compose(self) -> ComposeResult:
        minimum = getattr(self.screen, "FOOTER_MIN_WIDTH", {})
        width = self.screen.size.width
        shown = 0
        for widget in super().compose():
            action = getattr(widget, "action", None)
            if action in minimum and width < minimum[action]:
                continue
            shown += not widget.has_class("-command-palette")
            yield widget
        self.styles.grid_size_columns = shown
