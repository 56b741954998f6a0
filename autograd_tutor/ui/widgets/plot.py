"""The plot of a derivative step's function near the current point (plotext), with
its tangent once the step is answered or revealed."""

from __future__ import annotations

import math

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static
from textual_plotext import PlotextPlot

from ...expr.display import format_number
from ...present.plot import PlotView
from ..look import literal


class FunctionPlot(Vertical):
    DEFAULT_CSS = """
    FunctionPlot { height: 1fr; }
    FunctionPlot > Static { height: auto; }
    FunctionPlot > PlotextPlot { height: 1fr; min-height: 8; }
    """

    def compose(self) -> ComposeResult:
        yield Static(id="plot-caption", markup=False)
        yield PlotextPlot(id="plot")

    def show(self, view: PlotView | None) -> None:
        caption = self.query_one("#plot-caption", Static)
        plot = self.query_one(PlotextPlot)
        plt = plot.plt
        plt.clear_data()
        plt.clear_figure()
        if self.app.ansi_color:
            plot.theme = "clear"  # plotext's own colours are 256-colour codes: none in --ansi
        if view is None:
            caption.update(literal("No plot here: plots are for derivative steps of lessons on numbers.", "dim"))
            plot.display = False
            return
        plot.display = True
        x0, y0 = view.point
        note = f"slope {format_number(view.slope)}" if view.slope is not None else "the tangent shows once answered"
        caption.update(literal(f"{view.title}\n{view.x_label} = {format_number(x0)} · {note}", "dim"))
        points = [(x, y) for x, y in zip(view.xs, view.ys) if not math.isnan(y)]
        if points:
            plt.plot([x for x, _ in points], [y for _, y in points], marker="braille", color="cyan")
        if not math.isnan(y0):
            if view.slope is not None:
                span = [view.xs[0], view.xs[-1]]
                plt.plot(span, [y0 + view.slope * (x - x0) for x in span], marker="braille", color="magenta")
            plt.scatter([x0], [y0], marker="●", color="yellow")  # last, so it is on top
        low, high = _y_range(points, y0)
        plt.ylim(low, high)
        plt.xlabel(view.x_label)
        plot.refresh()


def _y_range(points: list[tuple[float, float]], y0: float) -> tuple[float, float]:
    """The curve's range, so the tangent does not flatten the picture."""
    ys = [y for _, y in points] + ([] if math.isnan(y0) else [y0])
    if not ys:
        return -1.0, 1.0
    low, high = min(ys), max(ys)
    pad = (high - low) * 0.1 or 1.0
    return low - pad, high + pad
