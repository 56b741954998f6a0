"""Screens that adapt to the terminal: compact inputs below 70 columns (60×20
works), a compact footer below 100 that leaves out, when they do not fit, the
keys a screen marks as optional, wider margins from 120 (200×50 uses the room).

A screen is fitted to the terminal when it is mounted, before its first frame,
and again when a resize crosses one of these widths; its footer on every resize."""

from __future__ import annotations

from textual import events
from textual.screen import Screen
from textual.widgets import Input

from ..widgets.footer import TutorFooter

NARROW = 70
ROOMY = 100  # the footer has room for every key and its padding
WIDE = 120


class ResponsiveScreen(Screen):
    FOOTER_OPTIONAL: tuple[str, ...] = ()  # actions whose keys leave the footer when it is full, first to go first

    _fitted: tuple | None = None  # the width bands the screen is laid out for
    settled = True  # keys typed ahead may be handed to it (False while it is still opening)

    def on_mount(self) -> None:
        self._fit(self.app.size.width)

    def on_resize(self, event: events.Resize) -> None:
        self._fit(event.size.width)

    def _fit(self, width: int) -> None:
        bands = (width < NARROW, width < ROOMY, width >= WIDE)
        if bands == self._fitted:
            if self.FOOTER_OPTIONAL:
                self.refresh_bindings()  # the footer recomposes for the new width
            return
        first = self._fitted is None
        self._fitted = bands
        narrow = width < NARROW
        self.set_class(narrow, "narrow")
        self.set_class(width >= WIDE, "wide")
        for footer in self.query(TutorFooter):
            footer.compact = width < ROOMY
        for box in self.query(Input):
            box.compact = narrow
        self.fit(width)
        if not first:
            self.refresh_bindings()  # the footer recomposes for the new width

    def fit(self, width: int) -> None:
        """What else a screen changes when the width crosses a band."""
