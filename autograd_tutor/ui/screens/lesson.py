"""The lesson screen: the graph (or the plot) on the left, the current step on the right.

What to show comes from the presenter (`autograd_tutor.present`); this screen
only lays it out, handles keys, and keeps work off the UI thread: torch loads in
the app's warm-up worker (keys typed meanwhile are kept and judged once it is
ready) and a revealed derivative is worked out by sympy in a time-limited child.
"""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.geometry import Region
from textual.widgets import Input, Markdown, Static

from ...lesson.loader import Lesson
from ...present.graph import graph_facts, whole_values
from ...present.plot import has_plots, plot_view
from ...present.spans import Line, line
from ...present.step import (
    LOADING,
    PENDING,
    Keys,
    StepView,
    feedback_lines,
    live_status,
    moved_on,
    no_more_hints,
    step_view,
    verdict_lines,
)
from ...session import SYMBOLIC_SECONDS, LessonSession
from ..look import content, set_text
from ..widgets.footer import TutorFooter
from ..widgets.graph import GraphView
from ..widgets.plot import FunctionPlot
from ..widgets.title import TitleBar
from ..widgets.typing import TypedInput
from .confirm import Confirm
from .intro import IntroScreen
from .responsive import ResponsiveScreen
from .values import ValuesScreen

KEYS = Keys(hint="ctrl+t", reveal="ctrl+r", next="ctrl+n")
SYMBOLIC_WAIT = 60.0  # the longest a reveal waits for sympy to finish loading


class LessonScreen(ResponsiveScreen):
    AUTO_FOCUS = "#answer"  # keys typed as it opens go to the answer box, not the graph pane
    BINDINGS = [
        Binding("ctrl+t", "hint", "Hint"),
        Binding("ctrl+r", "reveal", "Reveal"),
        Binding("ctrl+b", "back", "Back"),
        Binding("ctrl+n", "next", "Next"),
        Binding("ctrl+o", "intro", "Intro"),
        Binding("ctrl+l", "plot", "Plot"),
        Binding("ctrl+f", "values", "Values"),
        Binding("ctrl+g", "restart", "Restart"),
        Binding("escape", "lessons", "Lessons"),
    ]
    FOOTER_OPTIONAL = ("restart", "intro", "plot", "back")

    def __init__(self, lesson: Lesson, session: LessonSession | None = None):
        super().__init__()
        self.lesson = lesson
        self.session = session or self.app.store.open(lesson)
        self.pending: list[str] = []  # answers entered (with Enter) before torch was loaded
        self.derivatives: dict[int, str | None] = {}  # revealed local steps' symbolic derivatives
        self.transient = False  # the feedback shows a verdict that editing the answer clears
        self.plot_toggled = False  # the plot key flips the default: shown in a wide terminal, else not
        self.reading = False  # keep what was just said in view while the step grows (see follow)
        self.note: Line | None = None  # shown under an empty answer box: how the last step went
        self.skills_before = self.app.store.mastery()  # the summary says which skills moved since
        self.settled = False  # until it is drawn and has opened on its intro, if it does

    @property
    def ready(self) -> bool:
        return self.app.engines_ready

    def compose(self) -> ComposeResult:
        yield TitleBar(self.where())
        with Horizontal(id="body"):
            with Vertical(id="left"):
                with VerticalScroll(id="graph-pane"):
                    yield GraphView(id="graph")
                yield FunctionPlot(id="function-plot")
            with VerticalScroll(id="step-pane"):
                yield Static(id="step-title", markup=False)
                yield Markdown(id="prompt")
                yield Static(id="formula", markup=False)
                yield TypedInput(id="answer", placeholder="your answer, then Enter")
                yield Static(id="status", markup=False)
                yield Static(id="feedback", markup=False)
                yield Markdown(id="explain")
        yield TutorFooter()

    def on_mount(self) -> None:
        if not self.composed():  # the panes' own widgets are not mounted yet (a busy interpreter)
            self.call_after_refresh(self.on_mount)
            return
        self.save()  # opened: the lesson in progress, where the catalogue resumes
        self.query_one("#answer", Input).cursor_blink = self.app.blink
        self.render_step()
        self.watch(self.app, "engines_ready", self._engines_ready, init=False)
        self.watch(self.query_one("#step-pane"), "virtual_size", self._step_grew, init=False)
        if self.opens_with_intro():
            self.action_intro()  # keys typed ahead go to the page the learner sees first
        self.settled = True

    def composed(self) -> bool:
        """Every widget the screen draws into is mounted (a screen's Mount can come before its
        panes' children are)."""
        return all(self.query(kind) for kind in (GraphView, FunctionPlot, TypedInput, Markdown))

    def where(self) -> str:
        """The title bar's text."""
        return self.app.where(self.lesson)

    def opens_with_intro(self) -> bool:
        """A lesson not begun opens on its introduction."""
        session = self.session
        return session.index == 0 and not any(r.done for r in session.records) and bool(session.intro)

    def follow(self) -> None:
        """Keep what was just said in view as it is laid out: a verdict, a hint, a reveal, an
        explanation (at 80×24 a choose step's options can push it below the pane)."""
        self.reading = True
        self.call_after_refresh(self._step_grew)

    def _step_grew(self) -> None:
        """From the answer box down to the end of the step in view, the box at the top when
        it does not all fit."""
        if not self.reading:
            return
        pane = self.query_one("#step-pane")
        top = self.query_one("#answer").virtual_region.y
        pane.scroll_to_region(Region(0, top, 1, pane.virtual_size.height - top), animate=False, immediate=True)

    def _engines_ready(self, ready: bool) -> None:
        if not ready:
            return
        self.session.engine  # noqa: B018 - build the truths now, not on the first keystroke
        answer = self.query_one("#answer", TypedInput)
        entered, self.pending = self.pending, []
        rest = answer.value  # typed after the last Enter
        self.render_step()
        for text in entered:  # every Enter in order, as if torch had been there all along
            self.enter(answer.take() + text)
        answer.value += rest

    def save(self) -> None:
        """The session as it stands, to the learner's store (a practice records only first tries)."""
        self.app.store.save(self.session)

    # --- drawing ----------------------------------------------------------------

    def step_view(self) -> StepView:
        return step_view(self.session, self.ready, KEYS, self.derivatives.get(self.session.index))

    def render_step(self, keep: str = "") -> None:
        """Draw the current step as it stands; `keep` is put in the answer box."""
        if not self.composed():
            return  # drawn once it is (see on_mount)
        session = self.session
        self.reading = False
        view = self.step_view()
        self.query_one("#step-title", Static).update(content([line((view.title, "strong"))]))
        self.query_one("#prompt", Markdown).update(view.prompt)
        formula = self.query_one("#formula", Static)
        formula.update(content(view.formula))
        formula.display = bool(view.formula)
        answer = self.query_one("#answer", Input)
        answer.value = keep
        answer.placeholder = "your answer, then Enter" if view.open else "Enter: next step"
        self.note = None
        self.show_status(keep)
        self.query_one("#feedback", Static).update(content(view.feedback))
        self.transient = False
        self.query_one("#explain", Markdown).update(view.explain)
        self.query_one(GraphView).show(graph_facts(session, self.ready))
        self.place_plot()
        answer.focus()
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        """Keys that do nothing on this step are shown greyed in the footer."""
        session = self.session
        if action == "hint":
            return True if self.ready and session.is_open and session.record.hints < len(session.hints()) else None
        if action == "reveal":
            return True if self.ready and session.is_open else None
        if action == "back":
            return True if session.index > 0 else None
        if action == "values":  # only a lesson with vectors or matrices has values to show whole
            return any(session.comp.shapes.values())
        if action == "plot":  # only a lesson with derivative steps of scalars has plots
            return has_plots(session)
        return True

    def show_feedback(self, lines, transient: bool = False) -> None:
        set_text(self.query_one("#feedback", Static), content(lines))
        self.transient = transient

    def show_status(self, text: str) -> None:
        """The line under the answer box: the live check of `text`, or the last note."""
        if not text.strip():
            shown = content([self.note]) if self.note else Content("")
        elif not self.ready:
            shown = content([LOADING])
        elif self.session.is_open:
            shown = content([live_status(self.session.check(text))])
        else:
            shown = Content("")
        self.set_status(shown)

    def set_status(self, shown: Content) -> None:
        status = self.query_one("#status", Static)
        status.display = bool(shown.plain)  # no blank line when there is nothing to say
        set_text(status, shown)

    # --- answering ----------------------------------------------------------------

    def on_input_changed(self, event: Input.Changed) -> None:
        """The live check: does it parse, how was it read, does it match torch?"""
        if self.transient:  # an old verdict is about an answer that is being changed
            self.show_feedback(feedback_lines(self.session, self.ready, KEYS, self.derivatives.get(self.session.index)))
        if event.value:
            self.note = None
        self.show_status(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """The box is empty now (see TypedInput): what follows in it was typed after Enter."""
        if not self.ready:
            self.pending.append(event.value)
            noted = ", ".join(t for t in self.pending if t.strip()) or "Enter"
            self.set_status(content([line((f"Noted: {noted} (taken as soon as torch is ready)", "dim"))]))
            return
        self.enter(event.value)

    def enter(self, text: str) -> None:
        """Enter with `text`: judge it, or on a finished step go on (the text kept for the next)."""
        answer = self.query_one("#answer", TypedInput)
        if not self.session.is_open:
            self.action_next(carry=text + answer.value)  # typed ahead on a finished step: kept for the next
            return
        if not text.strip():
            self.set_status(content([line((f"Type an answer, or {KEYS.hint} for a hint.", "dim"))]))
            return
        self.submit(text)

    def submit(self, text: str) -> None:
        """Judge `text`. Right: what was typed behind it stays for the next step. Wrong: it
        goes back in the box, to be corrected."""
        session = self.session
        answer = self.query_one("#answer", TypedInput)
        verdict = session.submit(text)
        if verdict.status == "invalid":
            answer.put_back(text)
            self.show_status(answer.value)
            return
        self.save()
        if not verdict.correct:
            answer.put_back(text)
            self.show_status(answer.value)
            self.show_feedback(verdict_lines(session, verdict, text), transient=True)
            self.follow()
            return
        step = session.step
        after = answer.value
        if not step.explain and step.kind != "run" and not verdict.feedback:  # nothing more to read: move on
            self.action_next(carry=after)
            self.note = moved_on(text)
            self.show_status(after)
        else:
            self.render_step(keep=after)  # stay: the explanation, or what the run did, comes first
            self.follow()

    # --- actions ----------------------------------------------------------------

    def action_hint(self) -> None:
        if not self.ready or not self.session.is_open:
            return
        if self.session.hint() is None:
            self.notify(no_more_hints(KEYS), markup=False)
            return
        self.save()
        self.show_feedback(feedback_lines(self.session, True, KEYS))
        self.follow()
        self.refresh_bindings()

    def action_reveal(self) -> None:
        session = self.session
        if not self.ready or not session.step.takes_answer:
            return
        session.reveal(derivative=False)
        self.save()
        if session.step.kind == "local" and session.index not in self.derivatives:
            self.derivatives[session.index] = PENDING
            self.work_out_derivative(session.index)
        self.render_step()  # the attempt in the box is stale now: the answer is on the screen
        self.follow()

    @work(thread=True, group="derivative", exit_on_error=False)
    def work_out_derivative(self, index: int) -> None:
        """sympy, off the UI thread and time-limited (see session.derivative)."""
        text = None
        if self.app.symbolic_ready.wait(SYMBOLIC_WAIT):
            text = self.session.derivative(index)
        self.app.call_from_thread(self._derivative_found, index, text)

    def _derivative_found(self, index: int, text: str | None) -> None:
        self.derivatives[index] = text
        if text is None:
            self.notify(
                f"The symbolic form took longer than {SYMBOLIC_SECONDS:g} s: torch's number stands alone.",
                markup=False,
            )
        if self.session.index == index and self.is_attached:
            self.show_feedback(feedback_lines(self.session, True, KEYS, text))

    def action_next(self, carry: str = "") -> None:
        if not self.ready:
            return
        moved = self.session.advance()
        self.save()
        if moved:
            self.render_step(keep=carry)
            self.show_status(carry)
        else:
            from .summary import SummaryScreen

            self.app.switch_screen(SummaryScreen(self.session, self.skills_before))

    def action_back(self) -> None:
        if self.ready and self.session.back():
            self.save()
            self.render_step()

    def action_intro(self) -> None:
        if self.session.intro:
            self.app.push_screen(IntroScreen(self.lesson, self.session.intro))
        else:
            self.notify("This lesson has no introduction.", markup=False)

    def action_values(self) -> None:
        """Every value the panel shows, whole (a wide matrix is abbreviated there)."""
        if any(self.session.comp.shapes.values()):
            self.app.push_screen(ValuesScreen(whole_values(graph_facts(self.session, self.ready))))

    def action_plot(self) -> None:
        self.plot_toggled = not self.plot_toggled
        self.place_plot()

    def fit(self, width: int) -> None:
        if self.composed():  # a resize can come first; showing the first step places the plot
            self.place_plot()

    def place_plot(self) -> None:
        """Wide: the plot under the graph (if the step has one). Otherwise: the plot in place of the graph."""
        wide = self.has_class("wide")
        view = plot_view(self.session) if self.ready else None
        shown = self.plot_toggled != wide and (view is not None or not wide)
        plot = self.query_one(FunctionPlot)
        plot.display = shown
        self.query_one("#graph-pane").display = wide or not shown
        if shown:
            plot.show(view)

    def action_restart(self) -> None:
        def done(yes: bool | None) -> None:
            if yes:
                self.session.restart()
                self.derivatives.clear()
                self.save()
                self.render_step()
                if self.session.intro:
                    self.action_intro()

        self.app.push_screen(
            Confirm("Restart this lesson from the first step? Your answers in it are forgotten."), done
        )

    def action_lessons(self) -> None:
        if self.is_current:
            self.app.pop_screen()

    def commands(self):
        yield SystemCommand("Hint", "Show the next hint for this step", self.action_hint)
        yield SystemCommand("Reveal", "Show torch's answer (counts as revealed)", self.action_reveal)
        yield SystemCommand("Back", "Go to the previous step", self.action_back)
        yield SystemCommand("Next", "Go to the next step (skips an unanswered one)", self.action_next)
        yield SystemCommand("Intro", "Read the lesson's introduction again", self.action_intro)
        yield SystemCommand("Plot", "Show or hide the plot of the function and its tangent", self.action_plot)
        if any(self.session.comp.shapes.values()):
            yield SystemCommand("Values", "Every vector and matrix the graph shows, whole", self.action_values)
        yield SystemCommand("Restart lesson", "Start this lesson again from the first step", self.action_restart)
        yield SystemCommand("Lessons", "Back to the catalogue", self.action_lessons)
