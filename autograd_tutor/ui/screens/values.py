"""Every value the graph panel shows, whole: a matrix the panel abbreviates with its
shape is here a row to a line, columns aligned. Opened from the lesson with ctrl+f;
it shows the same facts as the panel (`present.graph.whole_values`), so what a step
asks for stays hidden here too."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import ScrollableContainer, Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from ...present.spans import Line, line
from ..look import content

CLOSE_KEYS = "escape,ctrl+f,enter,q"


class ValuesScreen(ModalScreen[None]):
    BINDINGS = [Binding(CLOSE_KEYS, "close", "Close")]

    def __init__(self, lines: list[Line]):
        super().__init__()
        self.lines = lines

    def compose(self) -> ComposeResult:
        with Vertical(id="values-box") as box:
            box.border_title = "Every value, whole"
            with ScrollableContainer(id="values-pane"):
                yield Static(content(self.lines), id="values", markup=False)
            yield Static(content([line(("↑↓←→ PgUp PgDn scroll · Esc closes", "dim"))]), id="values-keys", markup=False)

    def on_mount(self) -> None:
        pane = self.query_one("#values-pane", ScrollableContainer)
        pane.focus()
        first = next((i for i, spans in enumerate(self.lines) if spans and spans[0].style == "focus"), 0)
        self.call_after_refresh(pane.scroll_to, y=first, animate=False)

    def action_close(self) -> None:
        if self.is_current:
            self.dismiss(None)
