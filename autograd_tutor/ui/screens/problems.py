"""Shown by `preview` when a save makes the lesson invalid."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from ...lesson.problems import Problem
from ..widgets.title import TitleBar


class ProblemsScreen(Screen):
    def __init__(self, problems: list[Problem]):
        super().__init__()
        self.problems = problems

    def compose(self) -> ComposeResult:
        yield TitleBar("preview: this save does not load")
        with VerticalScroll():
            yield Static("[b]This save does not load.[/b] Fix it and save again; the lesson comes back.\n", id="hint")
            yield Static("\n".join(str(p) for p in self.problems), id="problem-list", markup=False)
        yield Footer()
