"""Practice: about ten steps of finished lessons, one after another, for the weakest skills.

Each item is shown and judged by the lesson screen itself, on the item's own
`LessonSession` (see `mastery/practice.py`); only what happens around a step
differs: its first try goes to the learner model, Enter on a settled item brings
the next one, and the end shows which skills moved.
"""

from __future__ import annotations

from dataclasses import replace

from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static

from ...mastery.practice import Practice
from ...present.mastery import item_title, practice_summary, story_lines
from ...present.step import StepView
from ..look import content
from ..widgets.footer import TutorFooter
from ..widgets.title import TitleBar
from .lesson import LessonScreen
from .responsive import ResponsiveScreen

TITLE = "practice"


class PracticeScreen(LessonScreen):
    """The lesson screen, playing the practice's items in turn."""

    def __init__(self, practice: Practice):
        item = practice.item or practice.next()
        assert item is not None, "a practice with something to practise"
        self.practice = practice
        super().__init__(item.lesson, item.session)

    def where(self) -> str:
        return TITLE

    def opens_with_intro(self) -> bool:
        return False  # an item is one step: its lesson's introduction is a key away (Intro)

    def save(self) -> None:
        self.app.store.save_practice(self.practice)

    def step_view(self) -> StepView:
        view = super().step_view()
        item = self.practice.item
        assert item is not None
        story = tuple(story_lines(item)) if self.ready else ()
        return replace(view, title=item_title(self.practice), formula=story + view.formula)

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action in ("back", "restart"):
            return False  # one step at a time: nothing before it, nothing to restart
        return super().check_action(action, parameters)

    def action_next(self, carry: str = "") -> None:
        if not self.ready or not self.is_current:
            return
        self.session.advance()  # an item left unanswered counts as skipped: no observation
        item = self.practice.next()
        if item is None:
            self.app.switch_screen(PracticeDoneScreen(self.practice))
            return
        self.lesson, self.session = item.lesson, item.session
        self.derivatives.clear()
        self.session.engine  # noqa: B018 - the truths now, not on the first keystroke
        self.render_step(keep=carry)
        self.show_status(carry)

    def action_lessons(self) -> None:
        if self.is_current:
            self.app.switch_screen(PracticeDoneScreen(self.practice))

    def commands(self):
        yield SystemCommand("Hint", "Show the next hint for this step", self.action_hint)
        yield SystemCommand("Reveal", "Show torch's answer (counts as not known)", self.action_reveal)
        yield SystemCommand("Next item", "Go to the next item (skips an unanswered one)", self.action_next)
        yield SystemCommand("Intro", "Read this item's lesson introduction", self.action_intro)
        yield SystemCommand("Plot", "Show or hide the plot of the function and its tangent", self.action_plot)
        yield SystemCommand("End practice", "See which skills moved", self.action_lessons)


class PracticeDoneScreen(ResponsiveScreen):
    BINDINGS = [Binding("enter", "lessons", "Lessons", priority=True), Binding("escape", "lessons", show=False)]

    def __init__(self, practice: Practice):
        super().__init__()
        self.practice = practice

    def compose(self) -> ComposeResult:
        yield TitleBar(f"{TITLE}: summary")
        with VerticalScroll():
            yield Static(content(practice_summary(self.practice)), id="practice-summary", markup=False)
        yield TutorFooter()

    def action_lessons(self) -> None:
        if self.is_current:
            self.app.pop_screen()

    def commands(self):
        yield SystemCommand("Lessons", "Back to the catalogue", self.action_lessons)
