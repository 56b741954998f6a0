"""The computation graph panel: the presenter's graph drawn to the panel's width,
scrolled so that what the current step is about stays in view."""

from __future__ import annotations

from textual.geometry import Region
from textual.widgets import Static

from ...present.graph import GraphFacts, draw
from ..look import content


class GraphView(Static):
    DEFAULT_CSS = """
    GraphView { width: 100%; height: auto; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(markup=False, **kwargs)
        self.graph: GraphFacts | None = None
        self.focus_row = 0
        self._drawn_width = 0

    def show(self, graph: GraphFacts) -> None:
        self.graph = graph
        self._draw()

    def on_resize(self) -> None:
        if self.size.width != self._drawn_width:
            self._draw()

    def _draw(self) -> None:
        width = self.size.width or self.parent_width()
        if self.graph is None or width <= 0:
            return
        lines, self.focus_row = draw(self.graph, width)
        self._drawn_width = width
        self.update(content(lines))
        self.call_after_refresh(self.keep_focus_in_view)

    def parent_width(self) -> int:
        parent = self.parent
        return parent.content_region.width if parent is not None else 0

    def keep_focus_in_view(self) -> None:
        """Scroll the panel so the focus and a few lines after it are visible."""
        pane = self.parent
        if pane is None or not hasattr(pane, "scroll_to_region"):
            return
        pane.scroll_to_region(Region(0, self.focus_row, 1, 4), animate=False, immediate=True)
