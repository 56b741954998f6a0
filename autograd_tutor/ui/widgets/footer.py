"""Textual's footer, fitted to the terminal: the keys a screen names in
FOOTER_OPTIONAL leave it, first named first, until the rest fit on one line
(they stay in the command palette)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Footer
from textual.widgets._footer import FooterKey


class TutorFooter(Footer):
    def compose(self) -> ComposeResult:
        optional = getattr(self.screen, "FOOTER_OPTIONAL", ())
        widgets = list(super().compose())
        room = self.screen.size.width - 1  # a column spare, between the keys and the palette's
        left_out: set[str] = set()
        for action in optional:
            if sum(self._width(w) for w in widgets if getattr(w, "action", None) not in left_out) <= room:
                break
            left_out.add(action)
        kept = [w for w in widgets if getattr(w, "action", None) not in left_out]
        self.styles.grid_size_columns = sum(not w.has_class("-command-palette") for w in kept)
        yield from kept

    def _width(self, widget) -> int:
        """The columns a key takes: its key, its description and their padding (the
        palette's key has its border and padding, the same in both styles)."""
        if not isinstance(widget, FooterKey):
            return 0
        padding = 3 if widget.has_class("-command-palette") or not self.compact else 2
        return len(widget.key_display) + len(widget.description) + padding
