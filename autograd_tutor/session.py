"""One lesson, played step by step: the object every front end drives.

The app, the `check` command and `--plain` all use `LessonSession`: it holds
the step sequence, judges answers, hands out hints, reveals, performs `run`
steps on the live torch state and keeps a serialisable record of progress.
torch is imported only when the first answer needs it (see `engine`).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from .engine.graph import Engine
from .engine.live import LiveState, Observation, RunResult, TensorFacts
from .expr.display import format_value
from .expr.evaluate import Value
from .grade.compare import Tolerance
from .grade.grader import BehaviourQuestion, MathQuestion, Verdict
from .lesson.computation import Edge
from .lesson.loader import Lesson
from .lesson.steps import Step

STATE_VERSION = 1
SYMBOLIC_SECONDS = 3.0  # the longest sympy may take to write a derivative; then the numbers stand alone


@dataclass
class StepRecord:
    """What happened at one step; serialised into the progress store."""

    status: str = "pending"  # pending | solved | revealed | skipped | shown
    hints: int = 0
    answer: str | None = None  # the last answer judged
    mistakes: list[dict] = field(default_factory=list)  # each answer judged wrong: {"answer", "diagnosis", "feedback"}

    @property
    def attempts(self) -> int:
        """Answers judged wrong (invalid ones do not count)."""
        return len(self.mistakes)

    @property
    def done(self) -> bool:
        return self.status != "pending"


@dataclass(frozen=True)
class Facts:
    """What the graph may be drawn from at a step: the factors and gradients found by
    hand (steps solved or revealed) and torch's live state as that step shows it."""

    factors: dict[Edge, Value]
    gradients: dict[str, Value]  # d(output)/d(name)
    live: dict[str, TensorFacts]


@dataclass(frozen=True)
class Totals:
    asked: int  # steps that take an answer
    solved: int  # solved, at the first try or later
    first_try: int  # solved without a wrong attempt
    revealed: int
    skipped: int
    attempts: int  # wrong answers
    hints: int


@dataclass(frozen=True)
class Reveal:
    expected: Any  # the truth as JSON
    text: str  # the truth as shown
    native: str | None = None  # torch's value in the lesson's dtype, when it differs
    derivative: str | None = None  # the symbolic local derivative (local steps)
    answer: str | None = None  # the author's model answer
    message: str | None = None  # torch's error or warning (run/predict steps)


class LessonSession:
    def __init__(self, lesson: Lesson, state: dict | None = None):
        self.lesson = lesson
        self.comp = lesson.computation
        self.steps: list[Step] = lesson.steps
        self.tol = Tolerance(*lesson.spec.tolerances())
        self._engine: Engine | None = None
        self._reset()
        if state:
            self._restore(state)

    def _reset(self) -> None:
        self.index = 0
        self.records = [StepRecord() for _ in self.steps]
        self._live: LiveState | None = None
        self._synced = 0  # steps < _synced have had their effect on the live state
        self._runs: dict[int, RunResult] = {}
        self._states: dict[int, dict[str, TensorFacts]] = {}  # live facts: -1 at the start, i after run step i
        self._observed: dict[int, Observation] = {}
        self._questions: dict[int, MathQuestion | BehaviourQuestion] = {}

    # --- the engine and the live state, built on first use -------------------

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = Engine(self.comp)
        return self._engine

    def _sync(self, upto: int) -> None:
        """Give every step up to `upto` its effect: runs performed, predictions observed."""
        if self._live is None:
            self._live = LiveState(self.comp)
            self._states[-1] = self._live.facts()
        while self._synced <= upto and self._synced < len(self.steps):
            step = self.steps[self._synced]
            if step.kind == "predict":
                self._observed[step.index] = self._live.observe(step.target)
            elif step.kind == "run":
                self._runs[step.index] = self._live.run(step.target)
                self._states[step.index] = self._live.facts()
            self._synced += 1

    @property
    def live(self) -> LiveState:
        """The live torch state as of the current step (its real tensors)."""
        self._sync(self.index)
        assert self._live is not None
        return self._live

    # --- the current step -----------------------------------------------------

    @property
    def step(self) -> Step:
        return self.steps[self.index]

    @property
    def record(self) -> StepRecord:
        return self.records[self.index]

    @property
    def is_open(self) -> bool:
        """The current step still takes an answer (pending, or skipped and come back to)."""
        return self.step.takes_answer and self.record.status in ("pending", "skipped")

    @property
    def finished(self) -> bool:
        """Every step has been answered, revealed, skipped or shown."""
        return all(r.done for r in self.records)

    def question(self, index: int | None = None) -> MathQuestion | BehaviourQuestion:
        index = self.index if index is None else index
        if index not in self._questions:
            step = self.steps[index]
            if step.kind in ("forward", "local", "gradient"):
                q: MathQuestion | BehaviourQuestion = MathQuestion(
                    step, self.comp, self.engine, self.tol, step.mistakes
                )
            elif step.kind == "run":
                self._sync(index)
                q = BehaviourQuestion(step, self._runs[index].outcome, self.tol, mistakes=step.mistakes)
            elif step.kind == "predict":
                self._sync(index)
                seen = self._observed[index]  # the state as it was at this step, however we came back to it
                known = [*self.comp.inputs, *self.comp.nodes]
                q = BehaviourQuestion(step, seen.value, self.tol, known, seen.values, step.mistakes, seen.backwards)
            else:
                raise ValueError(f"step {index} ({step.kind}) takes no answer")
            self._questions[index] = q
        return self._questions[index]

    def expected(self, index: int | None = None) -> Any:
        """The truth of a step as JSON: a number, a list, a string or null."""
        index = self.index if index is None else index
        if self.steps[index].kind == "explain":
            return None
        return _json(self.question(index).expected)

    def check(self, text: str) -> Verdict:
        """Judge an answer to the current step without recording it (live, while typing)."""
        return self.question().grade(text)

    def submit(self, text: str) -> Verdict:
        """Judge and record an answer to the current step."""
        verdict = self.check(text)
        record = self.record
        if verdict.status == "invalid" or record.status in ("solved", "revealed", "shown"):
            return verdict  # judged, not recorded: the step is settled (a skipped one is still open)
        record.answer = text
        if verdict.correct:
            record.status = "solved"
        else:
            record.mistakes.append({"answer": text, "diagnosis": verdict.diagnosis, "feedback": verdict.feedback})
        return verdict

    def hint(self) -> str | None:
        """The next hint of the current step, or None when there are no more."""
        hints = self.hints()
        record = self.record
        if record.hints >= len(hints):
            return None
        record.hints += 1
        return hints[record.hints - 1]

    def hints(self, index: int | None = None) -> tuple[str, ...]:
        step = self.steps[self.index if index is None else index]
        return step.hints or _default_hints(step, self)

    def reveal(self, *, derivative: bool = True) -> Reveal:
        """Show the truth of the current step; it then counts as revealed, not solved."""
        step, record = self.step, self.record
        if step.takes_answer and not record.done:
            record.status = "revealed"
        return self.truth(derivative=derivative)

    def truth(self, index: int | None = None, *, derivative: bool = True) -> Reveal:
        """The truth of a step; `derivative=False` leaves out the symbolic derivative
        (a front end that must stay responsive asks `derivative()` on the side)."""
        index = self.index if index is None else index
        step = self.steps[index]
        if step.kind == "explain":
            return Reveal(None, "")
        expected = self.expected(index)
        if step.kind in ("forward", "local", "gradient"):
            q = self.question(index)
            native = q.native
            differs = self.comp.dtype != "float64" and format_value(native) != format_value(q.expected)
            symbolic = self.derivative(index) if derivative else None
            return Reveal(
                expected, format_value(q.expected), format_value(native) if differs else None, symbolic, step.answer
            )
        self._sync(index)
        if step.kind == "run":
            result = self._runs[index]
            message = next((r.error for r in result.results if r.error), None)
            return Reveal(expected, result.outcome, answer=step.answer, message=message)
        observation = self._observed[index]
        return Reveal(
            expected,
            format_value(observation.value),
            answer=step.answer,
            message=observation.warning,
        )

    def derivative(self, index: int | None = None) -> str | None:
        """A local step's symbolic derivative, or None: no per-element form, or sympy took
        longer than SYMBOLIC_SECONDS (it runs in a child process that is then killed)."""
        step = self.steps[self.index if index is None else index]
        if step.kind != "local":
            return None
        from .bounded import call_with_limit
        from .expr.symbolic import local_derivative, warm_up

        warm_up()  # imported here once, so that the child does not import it again
        of, wrt = step.target
        return call_with_limit(local_derivative, self.comp.nodes[of], wrt, self.comp.sizes, seconds=SYMBOLIC_SECONDS)

    def live_facts(self, index: int | None = None) -> dict[str, TensorFacts]:
        """torch's facts about every tensor as step `index` shows them: after the runs up
        to it, but before its own run while that asks for the outcome and is not answered."""
        index = self.index if index is None else index
        self._sync(index)
        step, record = self.steps[index], self.records[index]
        still_asked = step.takes_answer and record.status in ("pending", "skipped")
        upto = index - 1 if step.kind == "run" and still_asked else index
        return self._states[max(i for i in self._states if i <= upto)]

    def run_result(self, index: int | None = None) -> RunResult:
        index = self.index if index is None else index
        self._sync(index)
        return self._runs[index]

    # --- moving through the lesson --------------------------------------------

    def advance(self) -> bool:
        """Leave the current step for the next one; False at the last step.

        A step that takes no answer counts as shown; one left unanswered, as skipped."""
        step, record = self.step, self.record
        if not record.done:
            record.status = "skipped" if step.takes_answer else "shown"
        if step.kind == "run":
            self._sync(self.index)
        if self.index + 1 >= len(self.steps):
            return False
        self.index += 1
        return True

    def back(self) -> bool:
        if self.index == 0:
            return False
        self.index -= 1
        return True

    def restart(self) -> None:
        self._reset()

    # --- scores and state -----------------------------------------------------

    def totals(self) -> Totals:
        asked = [r for r, s in zip(self.records, self.steps) if s.takes_answer]
        solved = [r for r in asked if r.status == "solved"]
        return Totals(
            asked=len(asked),
            solved=len(solved),
            first_try=sum(not r.mistakes for r in solved),
            revealed=sum(r.status == "revealed" for r in asked),
            skipped=sum(r.status == "skipped" for r in asked),
            attempts=sum(r.attempts for r in self.records),
            hints=sum(r.hints for r in self.records),
        )

    @property
    def score(self) -> tuple[int, int]:
        """(steps solved, steps that take an answer)."""
        asked = [r for r, s in zip(self.records, self.steps) if s.takes_answer]
        return sum(r.status == "solved" for r in asked), len(asked)

    def to_state(self) -> dict:
        return {
            "version": STATE_VERSION,
            "lesson": self.lesson.id,
            "index": self.index,
            "records": [asdict(r) for r in self.records],
            "steps": [_identity(s) for s in self.steps],
        }

    def _restore(self, state: dict) -> None:
        """Resume from `to_state()`. If the lesson was edited since, a record is
        kept only where the step at its place is still the same step."""
        if state.get("version") != STATE_VERSION or state.get("lesson") != self.lesson.id:
            return
        try:
            saved = list(zip(state["records"], state["steps"], strict=True))
            records = [(StepRecord(**raw), identity) for raw, identity in saved]
            index = int(state["index"])
        except (KeyError, TypeError, ValueError):
            return  # a state this version cannot read: start afresh rather than guess
        for i, (record, identity) in enumerate(records[: len(self.steps)]):
            if identity == _identity(self.steps[i]):
                self.records[i] = record
        self.index = min(max(index, 0), len(self.steps) - 1)

    def facts(self, index: int | None = None) -> Facts:
        """What the graph may show at step `index` (torch is loaded for it)."""
        index = self.index if index is None else index
        found = [s for s, r in zip(self.steps, self.records) if r.status in ("solved", "revealed")]
        native = self.engine.native
        return Facts(
            factors={tuple(s.target): native.local[tuple(s.target)] for s in found if s.kind == "local"},
            gradients={s.target: native.gradients[s.target] for s in found if s.kind == "gradient"},
            live=self.live_facts(index),
        )


def _identity(step: Step) -> list:
    """What makes a step the same step across edits of its lesson."""
    return [step.kind, step.target_json(), step.prompt]


def _json(value: Any) -> Any:
    """A truth as JSON; JSON has no inf or nan, so those are written as strings."""
    if isinstance(value, tuple):
        return [_json(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # "inf", "-inf", "nan"
    return value


def _default_hints(step: Step, session: LessonSession) -> tuple[str, ...]:
    comp = session.comp
    if step.kind == "forward":
        return ("Put the values of its arguments into the expression and compute.",)
    if step.kind == "local":
        of, wrt = step.target
        return (
            f"Differentiate {of} with respect to {wrt} alone; every other argument is a constant here.",
            "Use the rule for the outermost operation of the expression.",
        )
    if step.kind == "gradient":
        return (
            f"Start from d{comp.output}/d{comp.output} = 1 and multiply the local factors"
            f" along the way down to {step.target}.",
            f"If {step.target} reaches {comp.output} along several paths, add the gradients of the paths.",
        )
    if step.kind == "predict":
        return ("Think about what torch has done to this tensor so far: which backward() calls, which zero_().",)
    if step.kind == "run":
        return ("backward() needs a graph: something that requires grad, and a graph not already freed.",)
    return ()
