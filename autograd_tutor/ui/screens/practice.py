"""Practice: about ten steps of finished lessons, one after another, for the weakest skills.

Each item is shown and judged by the lesson screen itself, on the item's own
`LessonSession` (see `mastery/practice.py`); only what happens around a step
differs: its first try goes to the learner model, Enter on a settled item brings
the next one, and the end shows which skills moved.
"""

from __future__ import annotations

from rich.markup import escape
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from ...mastery.model import Move, bar, outcome
from ...mastery.practice import Practice
from ..widgets.title import TitleBar
from .lesson import LessonScreen

TITLE = "practice"


class PracticeScreen(LessonScreen):
    """The lesson screen, playing the practice's items in turn."""

    def __init__(self, practice: Practice):
        item = practice.item or practice.next()
        assert item is not None, "a practice with something to practise"
        self.practice = practice
        super().__init__(item.lesson, item.session)

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one(TitleBar).update(f"autograd-tutor — {TITLE}")

    def save(self) -> None:
        self.app.store.save_practice(self.practice)

    def step_title(self) -> str:
        item, practice = self.practice.item, self.practice
        assert item is not None
        where = f"{item.lesson.title}, step {item.step.index + 1}"
        return f"Practice {len(practice.items)} of {practice.size} · {item.skill} · {where}"

    def formula(self) -> str:
        """For a predict or run item: what the lesson's earlier steps did, as in the lesson."""
        item = self.practice.item
        if item is None or item.step.kind not in ("predict", "run") or not self.ready:
            return super().formula()
        lines = []
        for result in item.story():
            lines.append(f">>> {result.code.splitlines()[0]}" + (" …" if "\n" in result.code else ""))
            if result.error:
                lines.append(result.error.splitlines()[0])
        return "So far:\n" + "\n".join(lines) if lines else ""

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        return action not in ("back", "restart")  # one step at a time: nothing before it, nothing to restart

    def action_next(self) -> None:
        if not self.ready:
            return
        self.session.advance()  # an item left unanswered counts as skipped: no observation
        item = self.practice.next()
        if item is None:
            self.app.switch_screen(PracticeDoneScreen(self.practice))
            return
        self.lesson, self.session = item.lesson, item.session
        self.session.engine  # noqa: B018 - the truths now, not on the first keystroke
        self.render_step(intro=True)

    def action_lessons(self) -> None:
        self.app.switch_screen(PracticeDoneScreen(self.practice))

    def commands(self):
        yield SystemCommand("Hint", "Show the next hint for this step", self.action_hint)
        yield SystemCommand("Reveal", "Show torch's answer (counts as not known)", self.action_reveal)
        yield SystemCommand("Next item", "Go to the next item (skips an unanswered one)", self.action_next)
        yield SystemCommand("End practice", "See which skills moved", self.action_lessons)


def moves_text(moves: list[Move]) -> str:
    """The skills that moved, as lines with bars: `chain-rule  ███░░ 30% → ██████░ 71% ▲`."""
    lines = []
    for move in moves:
        arrow = "[green]▲[/green]" if move.after > move.before else "[red]▼[/red]"
        lines.append(f"{escape(move.skill):<22} {bar(move.before)} → {bar(move.after)} {arrow}")
    return "\n".join(lines)


class PracticeDoneScreen(Screen):
    BINDINGS = [Binding("enter", "lessons", "Lessons", priority=True), Binding("escape", "lessons", show=False)]

    def __init__(self, practice: Practice):
        super().__init__()
        self.practice = practice

    def compose(self) -> ComposeResult:
        yield TitleBar(f"{TITLE}: summary")
        with VerticalScroll():
            yield Static(self.text(), id="practice-summary")
        yield Footer()

    def text(self) -> str:
        items = [i for i in self.practice.items if i.recorded]
        right = sum(outcome(i.record) is True for i in items)
        lines = [f"[b]Practice: {right} of {len(items)} right at the first try[/b]", ""]
        moves = self.practice.moved()
        if moves:
            lines += ["Skills that moved:", moves_text(moves)]
        else:
            lines.append("No item answered, so no skill moved.")
        return "\n".join(lines)

    def action_lessons(self) -> None:
        self.app.pop_screen()

    def commands(self):
        yield SystemCommand("Lessons", "Back to the catalogue", self.action_lessons)
