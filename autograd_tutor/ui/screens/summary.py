"""The end of a lesson: score, recap, mistakes, the lesson as PyTorch code (saved
with a key as a script or a notebook), and on to the next lesson."""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Markdown, Static

from ...mastery.model import MASTERED, LearnerModel, Move
from ...present.summary import SummaryView, save, summary_view
from ...session import LessonSession
from ..look import literal
from ..widgets.footer import TutorFooter
from ..widgets.title import TitleBar
from .responsive import ResponsiveScreen


def code_span(text: str) -> str:
    """`text` as a Markdown code span, whatever backticks it holds."""
    fence = "`"
    while fence in text:
        fence += "`"
    return f"{fence} {text} {fence}"


def skills_markdown(moves: list[Move]) -> list[str]:
    """The skills this lesson moved: `- chain-rule: 30% → 71% ▲`."""
    if not moves:
        return []
    lines = ["## Skills that moved", ""]
    for m in moves:
        arrow = "▲" if m.after > m.before else "▼"
        mastered = " · mastered" if m.after >= MASTERED > m.before else ""
        lines.append(f"- {code_span(m.skill)}: {m.before:.0%} → {m.after:.0%} {arrow}{mastered}")
    return [*lines, ""]


def summary_markdown(view: SummaryView, course: str, moves: list[Move] = ()) -> str:
    lines = [f"# {view.title}", "", f"**{view.score}**", "", course, ""]
    if view.recap:
        lines += ["## What you learned", "", view.recap, ""]
    if view.mistakes:
        lines += ["## Mistakes", ""]
        lines += [f"- step {m.step}: {code_span(m.answer)} — {m.feedback}" for m in view.mistakes]
        lines.append("")
    lines += skills_markdown(list(moves))
    lines += ["## The lesson in PyTorch", ""]
    for title, code in view.cells:
        lines += [f"*{title}*", ""] if len(view.cells) > 1 else []
        lines += ["```python", code, "```", ""]
    return "\n".join(lines)


class SummaryScreen(ResponsiveScreen):
    BINDINGS = [
        Binding("enter", "next_lesson", "Next lesson", priority=True),
        Binding("escape", "lessons", "Lessons"),
        Binding("s", "save('py')", "Save .py"),
        Binding("j", "save('ipynb')", "Save .ipynb"),
        Binding("ctrl+g", "restart", "Restart"),
        Binding("up", "scroll(-1)", show=False),
        Binding("down", "scroll(1)", show=False),
        Binding("pageup", "scroll(-10)", show=False),
        Binding("pagedown", "scroll(10)", show=False),
    ]
    FOOTER_OPTIONAL = ("restart", "lessons")

    def __init__(self, session: LessonSession, skills_before: LearnerModel | None = None):
        super().__init__()
        self.session = session
        self.skills_before = skills_before
        self.view = summary_view(session)
        self.next = self.app.next_lesson(session.lesson.id)

    def compose(self) -> ComposeResult:
        yield TitleBar(f"{self.session.lesson.title}: summary")
        with VerticalScroll(id="summary-pane"):
            yield Markdown(summary_markdown(self.view, self.app.course_progress(), self.moves()), id="summary")
            yield Static(id="saved", markup=False)
        yield TutorFooter()

    def on_mount(self) -> None:
        if self.next is None:
            self.query_one("#saved", Static).update(literal("That was the last lesson of the course.", "dim"))

    def moves(self) -> list[Move]:
        """The lesson's skills that moved while it was played in this screen."""
        if self.skills_before is None:
            return []
        skills = dict.fromkeys(s for step in self.session.lesson.steps for s in step.skills)
        return self.app.store.mastery().moved(self.skills_before, skills)

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "next_lesson" and self.next is None:
            return None  # shown greyed: there is no next lesson
        return True

    def action_next_lesson(self) -> None:
        if self.next is None or not self.is_current:
            return
        self.app.pop_screen()
        self.app.open(self.next.id)

    def action_lessons(self) -> None:
        if self.is_current:
            self.app.pop_screen()

    def action_save(self, kind: str) -> None:
        saved = self.query_one("#saved", Static)
        if self.app.lab:
            saved.update(literal("Saving is not available in a lab session: copy the code from the screen.", "hint"))
            return
        try:
            path = save(self.view, Path.cwd(), kind)
        except OSError as err:
            saved.update(literal(f"Could not save: {err.strerror or err}", "bad"))
            return
        saved.update(literal(f"Saved to {path}", "ok"))
        self.query_one("#summary-pane", VerticalScroll).scroll_end(animate=False)

    def action_scroll(self, lines: int) -> None:
        self.query_one("#summary-pane", VerticalScroll).scroll_relative(y=lines, animate=False)

    def action_restart(self) -> None:
        self.session.restart()
        self.app.store.save(self.session)
        lesson = self.session.lesson
        self.app.pop_screen()
        self.app.open(lesson.id)

    def commands(self):
        if self.next is not None:
            yield SystemCommand("Next lesson", "Open the next lesson of the course", self.action_next_lesson)
        yield SystemCommand("Lessons", "Back to the catalogue", self.action_lessons)
        yield SystemCommand("Save as a script", "Save the lesson's code as a .py file", lambda: self.action_save("py"))
        yield SystemCommand(
            "Save as a notebook", "Save the lesson as a Jupyter notebook", lambda: self.action_save("ipynb")
        )
        yield SystemCommand("Restart lesson", "Play this lesson again", self.action_restart)
