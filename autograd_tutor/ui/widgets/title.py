"""The one-line bar at the top of every screen: the app's name and where you are
(the name goes first when the terminal is too narrow for both)."""

from __future__ import annotations

from textual import events
from textual.widgets import Static

NAME = "autograd-tutor"


class TitleBar(Static):
    DEFAULT_CSS = """
    TitleBar {
        dock: top;
        width: 100%;
        height: 1;
        background: $panel;
        color: $foreground;
        text-align: center;
        text-style: bold;
    }
    """

    def __init__(self, where: str = ""):
        self.where = where
        super().__init__(self.text(), markup=False)

    def text(self, width: int | None = None) -> str:
        full = f"{NAME} — {self.where}" if self.where else NAME
        if width is None or len(full) <= width or not self.where:
            return full
        return self.where if len(self.where) <= width else self.where[: max(width - 1, 0)] + "…"

    def on_resize(self, event: events.Resize) -> None:
        text = self.text(event.size.width)
        if text != str(self.content):
            self.update(text)
