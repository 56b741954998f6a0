"""The computation graph in text: micrograd's draw_dot, live.

Every input and node with its expression, its forward value once reached, its
grad_fn, its gradient once found, and the local factors on its edges; the part
the current step asks about is highlighted.
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from ...expr.display import format_value, to_text
from ...lesson.computation import Computation

MAX_SHOWN = 4


class GraphView(Static):
    def show(
        self,
        comp: Computation,
        facts: dict[str, dict],
        grad_fn: dict[str, str | None],
        focus: tuple[str, object] | None,
    ) -> None:
        """`focus` is the current step's (kind, target), highlighted."""
        values, gradients, factors = facts["values"], facts["gradients"], facts["factors"]
        text = Text()
        for name in (*comp.inputs, *comp.nodes):
            is_input = name in comp.inputs
            here = focus is not None and focus[1] == name and focus[0] in ("forward", "gradient")
            text.append(name, "bold reverse" if here else "bold")
            if is_input:
                marker = " ◆ requires grad" if comp.requires_grad[name] else " ◇ input"
                text.append(marker, "green" if comp.requires_grad[name] else "dim")
            else:
                text.append(f" = {to_text(comp.nodes[name])}")
                if grad_fn.get(name):
                    text.append(f"  {grad_fn[name]}", "dim italic")
            if name == comp.output:
                text.append("  output", "bold yellow")
            text.append("\n  ")
            value = values.get(name)
            text.append(
                format_value(value, MAX_SHOWN) if value is not None else "?", "cyan" if value is not None else "dim"
            )
            gradient = gradients.get(name)
            text.append("   ∇ ", "dim")
            shown = format_value(gradient, MAX_SHOWN) if gradient is not None else "?"
            text.append(shown, "magenta" if gradient is not None else "dim")
            text.append("\n")
            if not is_input:
                for arg in comp.args(name):
                    edge = (name, arg)
                    current = focus is not None and focus[0] == "local" and tuple(focus[1]) == edge
                    factor = factors.get(edge)
                    style = "bold reverse" if current else ("yellow" if factor is not None else "dim")
                    label = f"  ∂{name}/∂{arg} = {format_value(factor, MAX_SHOWN) if factor is not None else '?'}"
                    text.append(label, style)
                    text.append("\n")
        self.update(text)
