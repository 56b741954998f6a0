"""Screens that adapt to the terminal: compact inputs below 70 columns (60×20
works), a compact footer below 100 that leaves out the keys a screen marks as
optional for the width, wider margins from 120 (200×50 uses the room)."""

from __future__ import annotations

from textual import events
from textual.screen import Screen
from textual.widgets import Input

from ..widgets.footer import TutorFooter

NARROW = 70
ROOMY = 100  # the footer has room for every key and its padding
WIDE = 120


class ResponsiveScreen(Screen):
    FOOTER_MIN_WIDTH: dict[str, int] = {}  # action -> the width from which its key is in the footer

    _fitted: tuple | None = None  # the width bands the screen is laid out for

    def on_resize(self, event: events.Resize) -> None:
        width = event.size.width
        bands = (width < NARROW, width < ROOMY, width >= WIDE, *(width < w for w in self.FOOTER_MIN_WIDTH.values()))
        if bands == self._fitted:
            return
        self._fitted = bands
        narrow = width < NARROW
        self.set_class(narrow, "narrow")
        self.set_class(width >= WIDE, "wide")
        for footer in self.query(TutorFooter):
            footer.compact = width < ROOMY
        for box in self.query(Input):
            box.compact = narrow
        self.refresh_bindings()  # the footer recomposes for the new width
