"""The current step as any front end shows it: title, prompt, formula, whether it
takes an answer, the feedback it has earned so far, and what there is to read."""

from __future__ import annotations

from dataclasses import dataclass

from ..expr.display import to_text
from ..grade.verdict import Verdict
from ..session import LessonSession
from .chain import chain_lines
from .spans import Line, Span, line, said

PENDING = "pending"  # a symbolic derivative still being worked out


@dataclass(frozen=True)
class Keys:
    """How the front end spells each action, for the texts that mention them."""

    hint: str
    reveal: str
    next: str


@dataclass(frozen=True)
class StepView:
    title: str  # "Step 4 of 9 · Local factor"
    prompt: str  # Markdown
    formula: tuple[Line, ...]  # the node's expression; the chain product for derivative steps
    open: bool  # takes an answer now
    feedback: tuple[Line, ...]  # what the step has earned: verdict, reveal, run output, hints
    explain: str  # Markdown to read now ("" when nothing)


def step_view(session: LessonSession, ready: bool, keys: Keys, derivative: str | None = None) -> StepView:
    """`derivative`: the symbolic derivative for a revealed local step, PENDING while
    it is being worked out, None when there is none."""
    step = session.step
    return StepView(
        title=f"Step {step.index + 1} of {len(session.steps)} · {step.definition.label}",
        prompt=session.prompt,
        formula=tuple(formula_lines(session, ready)),
        open=session.is_open,
        feedback=tuple(feedback_lines(session, ready, keys, derivative)),
        explain=explanation(session),
    )


def formula_lines(session: LessonSession, ready: bool) -> list[Line]:
    comp, step = session.comp, session.step
    lines: list[Line] = []
    if step.kind in ("forward", "local", "backprop"):
        node = step.target if step.kind == "forward" else step.target[0]
        lines.append(line(f"{node} = {to_text(comp.nodes[node])}"))
    return lines + chain_lines(session, ready)


def explanation(session: LessonSession) -> str:
    """A step's explanation once it is answered or revealed; at once on a step that takes no answer."""
    step, record = session.step, session.record
    if not session.explanation:
        return ""
    if not step.takes_answer or record.status in ("solved", "revealed"):
        return session.explanation
    return ""


def feedback_lines(session: LessonSession, ready: bool, keys: Keys, derivative: str | None = None) -> list[Line]:
    step, record = session.step, session.record
    if not ready:
        return []
    lines: list[Line] = []
    if record.status == "solved":
        answer = session.answer_now(session.index, record.answer, record.option)
        if answer is None:  # the option chosen is no longer in the lesson
            lines.append(line(("✓ Solved.", "ok")))
        else:
            lines += verdict_lines(session, session.check(answer), answer)
    elif record.status == "revealed":
        lines += reveal_lines(session, derivative)
    elif step.kind == "run" and not step.ask:
        lines += run_lines(session)
    elif record.status == "skipped":
        lines.append(line((f"Skipped: answer it now, or {keys.next} to go on.", "dim")))
    if session.is_open:
        lines += hint_lines(session)
    return lines


def hint_lines(session: LessonSession) -> list[Line]:
    hints = session.hints()
    shown = hints[: session.record.hints]
    return [line((f"Hint {i} of {len(hints)}: ", "hint"), *said(text)) for i, text in enumerate(shown, 1)]


def no_more_hints(keys: Keys) -> str:
    return f"No more hints: {keys.reveal} reveals the answer."


def reveal_lines(session: LessonSession, derivative: str | None = None) -> list[Line]:
    """The truth of the step, each fact once: a run shows what torch did (its outcome and
    error); the model answer only when it says more than the truth (a formula, not 6 again)."""
    step = session.step
    if step.kind == "run":
        return run_lines(session)
    truth = session.truth(derivative=False)
    says = "the answer: " if step.kind == "choose" else "torch says: "
    lines = [line((says, "truth"), *said(truth.text))]
    if truth.native:
        lines.append(line((f"in {session.comp.dtype}: {truth.native}", "dim")))
    if step.kind == "local":
        symbol = f"∂{step.target[0]}/∂{step.target[1]} = "
        if derivative == PENDING:
            lines.append(line(symbol, ("working it out…", "dim")))
        elif derivative:
            lines.append(line(symbol, derivative))
    if truth.answer and step.kind != "choose" and truth.answer.strip().lower() != truth.text.strip().lower():
        lines.append(line(("model answer: ", "dim"), truth.answer))
    if truth.message:
        lines.append(line((truth.message, "bad")))
    return lines


def run_lines(session: LessonSession) -> list[Line]:
    """What the run did, as a Python prompt would show it."""
    result = session.run_result()
    lines: list[Line] = []
    for r in result.results:
        for i, code in enumerate(r.code.splitlines()):
            lines.append(line((">>> " if i == 0 else "... ", "dim"), (code, "code")))
        lines += [line(printed) for printed in r.output]  # what it printed (a hook's gradients)
        if r.warning:
            lines.append(line((f"UserWarning: {r.warning}", "hint")))
        if r.error:
            lines.append(line((r.error, "bad")))
    lines.append(line(("outcome: ", "dim"), ("ok", "ok") if result.outcome == "ok" else ("error", "bad")))
    return lines


def verdict_lines(session: LessonSession, verdict: Verdict, text: str, reading: bool = False) -> list[Line]:
    """Feedback on an answer just submitted (not invalid); with `reading`, how it was read
    (for a front end without the live status line)."""
    if verdict.correct:
        read = f"  (read as {verdict.read_as})" if reading and verdict.read_as and verdict.read_as != text else ""
        lines = [line(("✓ Correct: ", "ok"), text, (read, "dim"))]
        if verdict.feedback:  # an authored word on the right answer (a chosen option's feedback)
            lines.append(line(*said(verdict.feedback)))
        return lines + (run_lines(session) if session.step.kind == "run" else [])
    return [line(("✗ ", "bad"), *said(verdict.feedback or "Not quite.", "bad"))] + hint_lines(session)


def live_status(verdict: Verdict) -> Line:
    """The line under the answer box while typing: how the answer was read, and whether it matches."""
    if verdict.status == "invalid":
        where = f" (at column {verdict.col + 1})" if verdict.col is not None else ""
        return line(("✗ " + verdict.feedback + where, "bad"))
    read = [Span("read as: ", "dim"), Span(verdict.read_as)]
    if verdict.correct:
        read += [Span("   "), Span("✓ matches torch, Enter", "ok")]
    return tuple(read)


def moved_on(text: str) -> Line:
    return line((f"✓ {text} was right.", "ok"))


LOADING = line(("torch is loading: type away, your answer is checked as soon as it is ready.", "dim"))
