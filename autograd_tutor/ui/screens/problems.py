"""Shown by `preview` when a save makes the lesson invalid, or when a save that
loads has problems `validate` would report (then over the lesson: Esc plays it)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from ...lesson.problems import Problem
from ..widgets.title import TitleBar


class ProblemsScreen(Screen):
    BINDINGS = [Binding("escape", "play", "Play it as it is")]

    def __init__(self, problems: list[Problem], *, playable: bool = False):
        super().__init__()
        self.problems = problems
        self.playable = playable  # the lesson loads: these are validate's checks, over it

    def compose(self) -> ComposeResult:
        if self.playable:
            title, hint = "preview: validate reports problems", "[b]validate reports these problems.[/b] "
            hint += "Fix them and save again; Esc plays the lesson as it is.\n"
        else:
            title, hint = "preview: this save does not load", "[b]This save does not load.[/b] "
            hint += "Fix it and save again; the lesson comes back.\n"
        yield TitleBar(title)
        with VerticalScroll():
            yield Static(hint, id="hint")
            yield Static("\n".join(str(p) for p in self.problems), id="problem-list", markup=False)
        yield Footer()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return self.playable if action == "play" else True

    def action_play(self) -> None:
        self.app.pop_screen()
