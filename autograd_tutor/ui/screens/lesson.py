"""The lesson screen: the graph on the left, the current step on the right."""

from __future__ import annotations

from rich.markup import escape
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Input, Markdown, Static

from ...expr.display import to_text
from ...lesson.loader import Lesson
from ...session import LessonSession
from ..widgets.graph import GraphView
from ..widgets.title import TitleBar
from .confirm import Confirm


class LessonScreen(Screen):
    BINDINGS = [
        Binding("ctrl+t", "hint", "Hint"),
        Binding("ctrl+r", "reveal", "Reveal"),
        Binding("ctrl+b", "back", "Back"),
        Binding("ctrl+n", "next", "Next"),
        Binding("ctrl+g", "restart", "Restart"),
        Binding("escape", "lessons", "Lessons"),
    ]

    def __init__(self, lesson: Lesson, session: LessonSession | None = None):
        super().__init__()
        self.lesson = lesson
        store = self.app.store
        self.session = session or LessonSession(lesson, store.load(lesson.id), seed=store.seed)
        self.skills_before = store.mastery()  # the summary says which skills moved since
        self.ready = False
        self.shown_hints: list[str] = []
        self.note = ""  # shown under an empty answer box: how the last step went

    def compose(self) -> ComposeResult:
        yield TitleBar(self.lesson.title)
        with Horizontal():
            with VerticalScroll(id="graph-pane"):
                yield GraphView(id="graph")
            with VerticalScroll(id="step-pane"):
                yield Static(id="step-title")
                yield Markdown(id="prompt")
                yield Static(id="formula")
                yield Input(id="answer", placeholder="your answer, then Enter")
                yield Static(id="status")
                yield Static(id="feedback")
                yield Markdown(id="explain")
        yield Footer()

    def on_mount(self) -> None:
        answer = self.query_one("#answer", Input)
        answer.cursor_blink = self.app.blink
        if self.session.index == 0 and not self.session.record.done and self.session.intro:
            self.query_one("#explain", Markdown).update(self.session.intro)
        self.watch(self.app, "engines_ready", self._engines_ready)

    def _engines_ready(self, ready: bool) -> None:
        if not ready:
            self.query_one("#status", Static).update("Loading torch…")
            self.query_one("#answer", Input).disabled = True
            self.render_step(intro=True)
            return
        if not self.ready:
            self.ready = True
            self.session.engine  # noqa: B018 - build the truths now, not on the first keystroke
            self.render_step(intro=True)

    def save(self) -> None:
        self.app.store.save(self.session)

    # --- drawing ----------------------------------------------------------------

    def render_step(self, intro: bool = False) -> None:
        session, step, record = self.session, self.session.step, self.session.record
        self.query_one("#step-title", Static).update(f"[b]{escape(self.step_title())}[/b]")
        self.query_one("#prompt", Markdown).update(session.prompt)
        self.query_one("#formula", Static).update(self.formula())
        answer = self.query_one("#answer", Input)
        answer.value = ""
        answer.disabled = not self.ready
        answer.placeholder = "your answer, then Enter" if self.open_for_answer else "Enter: next step"
        self.note = ""
        self.query_one("#status", Static).update("" if self.ready else "Loading torch…")
        self.shown_hints = list(session.hints()[: record.hints])
        feedback = ""
        if self.ready and record.status == "solved":
            feedback = f"[green]✓ Correct:[/green] {escape(record.answer or '')}"
        elif self.ready and record.status == "revealed":
            feedback = self.reveal_text()
        elif self.ready and step.kind == "run" and not step.ask:
            feedback = self.run_text()
        elif record.status == "skipped":
            feedback = "[dim]Skipped. Answer now, or ctrl+n to go on.[/dim]"
        if self.shown_hints and not record.done:
            feedback = self.hints_text()
        self.query_one("#feedback", Static).update(feedback)
        explain = session.explanation if record.done and step.explain else ""
        if intro and step.index == 0 and not record.done and session.intro:
            explain = session.intro
        self.query_one("#explain", Markdown).update(explain)
        self.draw_graph()
        answer.focus()

    def step_title(self) -> str:
        step = self.session.step
        return f"Step {step.index + 1} of {len(self.session.steps)} · {step.definition.label}"

    def draw_graph(self) -> None:
        session = self.session
        grad_fn = session.engine.grad_fn if self.ready else {}
        focus = (session.step.kind, session.step.target)
        self.query_one(GraphView).show(session.comp, session.facts(), grad_fn, focus)

    def formula(self) -> str:
        comp, step = self.session.comp, self.session.step
        if step.kind in ("forward", "local"):
            node = step.target if step.kind == "forward" else step.target[0]
            return f"{node} = {self.pretty(comp.nodes[node])}"
        if step.kind == "gradient":
            count = comp.path_count(step.target)
            if count > 4:
                return f"d{comp.output}/d{step.target} = the sum over {count} paths of the local factors' products"
            terms = [" · ".join(f"∂{a}/∂{b}" for a, b in path) or "1" for path in comp.paths(step.target)]
            return f"d{comp.output}/d{step.target} = " + (" + ".join(terms) if terms else "0")
        return ""

    def pretty(self, expr) -> str:
        """sympy's Unicode printer once it is loaded; our one-line form until then."""
        if self.app.symbolic_ready:
            from ...expr.symbolic import pretty

            text = pretty(expr)
            if "\n" not in text:
                return text
        return to_text(expr)

    @property
    def open_for_answer(self) -> bool:
        step, record = self.session.step, self.session.record
        return step.takes_answer and record.status in ("pending", "skipped")

    def hints_text(self) -> str:
        return "\n".join(f"[yellow]Hint {i}:[/yellow] {escape(h)}" for i, h in enumerate(self.shown_hints, 1))

    def reveal_text(self) -> str:
        truth = self.session.truth()
        says = "the answer" if self.session.step.kind == "choose" else "torch says"
        lines = [f"[magenta]{says}:[/magenta] {escape(truth.text)}"]
        if truth.native:
            lines.append(f"[dim]in {self.session.comp.dtype}: {escape(truth.native)}[/dim]")
        if truth.derivative:
            step = self.session.step
            lines.append(f"∂{step.target[0]}/∂{step.target[1]} = {truth.derivative}")
        if truth.answer:
            lines.append(f"model answer: {truth.answer}")
        if truth.message:
            lines.append(f"[red]{escape(truth.message)}[/red]")
        return "\n".join(lines)

    def run_text(self) -> str:
        result = self.session.run_result()
        lines = []
        for r in result.results:
            lines.append(f"[cyan]>>> {escape(r.code.splitlines()[0])}[/cyan]" + (" …" if "\n" in r.code else ""))
            lines += [escape(printed) for printed in r.output]
            if r.warning:
                lines.append(f"[yellow]UserWarning: {escape(r.warning)}[/yellow]")
            if r.error:
                lines.append(f"[red]{escape(r.error)}[/red]")
        lines.append("[green]ok[/green]" if result.outcome == "ok" else "[red]error[/red]")
        return "\n".join(lines)

    # --- answering ----------------------------------------------------------------

    def on_input_changed(self, event: Input.Changed) -> None:
        """The live check: does it parse, how was it read, does it match torch?"""
        status = self.query_one("#status", Static)
        text = event.value
        if not self.ready or not self.open_for_answer or not text.strip():
            status.update(self.note if self.ready else "Loading torch…")
            return
        self.note = ""
        verdict = self.session.check(text)
        if verdict.status == "invalid":
            pointer = f" (at column {verdict.col + 1})" if verdict.col is not None else ""
            status.update(f"[red]✗ {escape(verdict.feedback)}{pointer}[/red]")
        elif verdict.correct:
            status.update(f"read as: {escape(verdict.read_as)}   [green]✓ matches torch, Enter[/green]")
        else:
            status.update(f"read as: {escape(verdict.read_as)}")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if not self.ready:
            return
        if not self.open_for_answer:
            self.action_next()
            return
        if not event.value.strip():
            self.query_one("#status", Static).update("[dim]Type an answer, or ctrl+t for a hint.[/dim]")
            return
        verdict = self.session.submit(event.value)
        if verdict.status == "invalid":
            return  # the live status already says what is wrong
        self.save()
        if verdict.correct:
            step = self.session.step
            if not step.explain and step.kind != "run" and not verdict.feedback:  # nothing more to read: move on
                self.action_next()
                self.note = f"[green]✓ {escape(event.value)} was right.[/green]"
                self.query_one("#status", Static).update(self.note)
                return
            self.render_step()  # stay: the explanation, or what the run did, comes first
            extra = self.run_text() if step.kind == "run" else escape(verdict.feedback)
            feedback = self.query_one("#feedback", Static)
            feedback.update(f"[green]✓ Correct:[/green] {escape(event.value)}" + (f"\n{extra}" if extra else ""))
        else:
            diagnosis = verdict.feedback or "Not quite."
            self.query_one("#feedback", Static).update(f"[red]✗ {escape(diagnosis)}[/red]")

    # --- actions ----------------------------------------------------------------

    def action_hint(self) -> None:
        if not self.ready or not self.open_for_answer:
            return
        hint = self.session.hint()
        if hint is None:
            self.notify("No more hints: ctrl+r reveals the answer.")
            return
        self.save()
        self.shown_hints.append(hint)
        self.query_one("#feedback", Static).update(self.hints_text())

    def action_reveal(self) -> None:
        if not self.ready or not self.session.step.takes_answer:
            return
        self.session.reveal()
        self.save()
        self.render_step()

    def action_next(self) -> None:
        if not self.ready:
            return
        moved = self.session.advance()
        self.save()
        if moved:
            self.render_step()
        else:
            from .summary import SummaryScreen

            self.app.switch_screen(SummaryScreen(self.session, self.skills_before))

    def action_back(self) -> None:
        if self.ready and self.session.back():
            self.save()
            self.render_step()

    def action_restart(self) -> None:
        def done(yes: bool | None) -> None:
            if yes:
                self.session.restart()
                self.save()
                self.render_step(intro=True)

        self.app.push_screen(Confirm("Restart this lesson from the first step?"), done)

    def action_lessons(self) -> None:
        self.app.pop_screen()

    def commands(self):
        yield SystemCommand("Hint", "Show the next hint for this step", self.action_hint)
        yield SystemCommand("Reveal", "Show torch's answer (counts as revealed)", self.action_reveal)
        yield SystemCommand("Back", "Go to the previous step", self.action_back)
        yield SystemCommand("Next", "Go to the next step (skips an unanswered one)", self.action_next)
        yield SystemCommand("Restart lesson", "Start this lesson again from the first step", self.action_restart)
        yield SystemCommand("Lessons", "Back to the catalogue", self.action_lessons)
