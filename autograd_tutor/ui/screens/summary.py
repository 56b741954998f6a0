"""The end of a lesson: score, mistakes, and the lesson as PyTorch code."""

from __future__ import annotations

from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Markdown

from ...expr.display import format_value
from ...lesson.code import notebook
from ...mastery.model import MASTERED, LearnerModel, Move
from ...session import LessonSession
from ..widgets.graph import MAX_SHOWN
from ..widgets.title import TitleBar


def skills_markdown(moves: list[Move]) -> list[str]:
    """The skills this lesson moved: `- **chain-rule**: 30% → 71% ▲`."""
    if not moves:
        return []
    lines = ["## Skills that moved", ""]
    for m in moves:
        arrow = "▲" if m.after > m.before else "▼"
        mastered = " · mastered" if m.after >= MASTERED > m.before else ""
        lines.append(f"- **{m.skill}**: {m.before:.0%} → {m.after:.0%} {arrow}{mastered}")
    return [*lines, ""]


def summary_markdown(session: LessonSession, moves: list[Move] = ()) -> str:
    records = session.records
    solved, asked = session.score
    attempts = sum(r.attempts for r in records)
    hints = sum(r.hints for r in records)
    reveals = sum(r.status == "revealed" for r in records)
    lines = [
        f"# {session.lesson.title}",
        "",
        f"**Score {solved}/{asked}** · {attempts} wrong attempt{'s' * (attempts != 1)}"
        f" · {hints} hint{'s' * (hints != 1)} · {reveals} reveal{'s' * (reveals != 1)}",
        "",
    ]
    mistakes = [(step, m) for step, r in zip(session.steps, records) for m in r.mistakes]
    if mistakes:
        lines += ["## Mistakes", ""]
        for step, m in mistakes:
            tag = f" *({m['diagnosis']})*" if m["diagnosis"] else ""
            lines.append(f"- step {step.index + 1}: `{m['answer']}`{tag} — {m['feedback']}")
        lines.append("")
    lines += skills_markdown(list(moves))
    engine = session.engine
    code = notebook(session.comp).rstrip("\n").splitlines()
    for i, line in enumerate(code):  # the values the learner found, next to each print
        for name, flag in session.comp.requires_grad.items():
            if flag and line.startswith(f"print({name}.grad)"):
                code[i] = f"print({name}.grad)  # {format_value(engine.native.gradients[name], MAX_SHOWN)}"
    lines += ["## The lesson in PyTorch", "", "```python", *code, "```"]
    return "\n".join(lines)


class SummaryScreen(Screen):
    BINDINGS = [
        Binding("enter", "lessons", "Lessons", priority=True),
        Binding("ctrl+g", "restart", "Restart"),
    ]

    def __init__(self, session: LessonSession, skills_before: LearnerModel | None = None):
        super().__init__()
        self.session = session
        self.skills_before = skills_before

    def compose(self) -> ComposeResult:
        yield TitleBar(f"{self.session.lesson.title}: summary")
        with VerticalScroll():
            yield Markdown(summary_markdown(self.session, self.moves()), id="summary")
        yield Footer()

    def moves(self) -> list[Move]:
        if self.skills_before is None:
            return []
        lesson = self.session.lesson
        skills = dict.fromkeys(s for step in lesson.steps for s in step.skills)
        return self.app.store.mastery().moved(self.skills_before, skills)

    def action_lessons(self) -> None:
        self.app.pop_screen()

    def action_restart(self) -> None:
        self.session.restart()
        self.app.store.save(self.session)
        lesson = self.session.lesson
        self.app.pop_screen()
        self.app.open(lesson.id)

    def commands(self):
        yield SystemCommand("Lessons", "Back to the catalogue", self.action_lessons)
        yield SystemCommand("Restart lesson", "Play this lesson again", self.action_restart)
