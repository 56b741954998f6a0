"""The one-line bar at the top of every screen: the app's name and where you are."""

from __future__ import annotations

from textual.widgets import Static


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
        super().__init__("autograd-tutor" + (f" — {where}" if where else ""), markup=False)
