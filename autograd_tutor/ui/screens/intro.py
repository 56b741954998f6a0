"""A lesson's first page: its title, summary and introduction, to read before the
first step (and again at any time from the lesson, with ctrl+o)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Markdown

from ...lesson.loader import Lesson
from ..widgets.footer import TutorFooter
from ..widgets.title import TitleBar
from .responsive import ResponsiveScreen


class IntroScreen(ResponsiveScreen):
    BINDINGS = [
        Binding("enter", "close", "To the steps", priority=True),
        Binding("escape", "close", "To the steps", show=False),
        Binding("up", "scroll(-1)", show=False),
        Binding("down", "scroll(1)", show=False),
        Binding("pageup", "scroll(-10)", show=False),
        Binding("pagedown", "scroll(10)", show=False),
    ]

    def __init__(self, lesson: Lesson, intro: str):
        """`intro`: the lesson's introduction with its numbers filled in (LessonSession.intro)."""
        super().__init__()
        self.lesson = lesson
        self.intro = intro

    def compose(self) -> ComposeResult:
        spec = self.lesson.spec
        yield TitleBar(self.app.where(self.lesson))
        with VerticalScroll(id="intro-pane"):
            parts = [f"# {spec.title}"]
            if spec.summary:
                parts.append(f"*{spec.summary}*")
            parts.append(self.intro)
            yield Markdown("\n\n".join(parts), id="intro")
        yield TutorFooter()

    def action_close(self) -> None:
        if self.is_current:  # a second key before the screen is gone closes nothing more
            self.app.pop_screen()

    def action_scroll(self, lines: int) -> None:
        self.query_one("#intro-pane", VerticalScroll).scroll_relative(y=lines, animate=False)
