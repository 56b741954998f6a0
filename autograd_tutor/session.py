"""One lesson, played step by step: the object every front end drives.

The app, the `check` command and `--plain` all use `LessonSession`: it holds
the step sequence, judges answers, hands out hints, reveals, performs `run`
steps on the live torch state and keeps a serialisable record of progress.
torch is imported only when the first answer needs it (see `engine`).
"""

from __future__ import annotations

import math
import random
import re
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np

from .engine.live import LiveState, Observation, RunResult, TensorFacts
from .engine.sampling import Engine, TestPoints, variant_inputs
from .expr.display import code_value, format_value
from .expr.evaluate import Value, evaluate
from .grade.compare import Tolerance, scale
from .grade.grader import BehaviourQuestion, ChoiceQuestion, Given, MathQuestion
from .grade.verdict import Verdict
from .lesson.computation import Computation, Edge
from .lesson.loader import Lesson
from .lesson.steps import Step, in_order
from .variants import choose_variant

Question = MathQuestion | BehaviourQuestion | ChoiceQuestion

STATE_VERSION = 3  # 3: a choose step's record names the option chosen (`option`), not only its number
FLOOR = 1e-3  # the default tolerance's smallest scale, relative to the lesson's largest truth
SYMBOLIC_SECONDS = 3.0  # the longest sympy may take to write a derivative; then the numbers stand alone


@dataclass
class StepRecord:
    """What happened at one step; serialised into the progress store."""

    status: str = "pending"  # pending | solved | revealed | skipped | shown
    hints: int = 0
    answer: str | None = None  # the last answer judged
    option: str | None = None  # a choose step: the written text of that answer's option (its number varies)
    mistakes: list[dict] = field(default_factory=list)  # each wrong answer: answer, diagnosis, feedback[, option]

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
    def __init__(self, lesson: Lesson, state: dict | None = None, *, variant: int | None = None, seed: str = ""):
        """`variant`: play this variant; else the saved one, else the learner's own
        (chosen from `seed` when the lesson has `variants: true`, else 0). A learner's
        session (one with a `seed`) shows each choose step's options in the learner's own
        order; without a seed (an author's) they are in the order written."""
        self.lesson = lesson
        self.seed = seed
        self.fixed = variant is not None  # a variant asked for is kept across restarts
        self.round = 0  # restarts so far: each gives a lesson with variants new numbers
        saved = state if state and state.get("lesson") == lesson.id else None
        if variant is None:
            variant = saved.get("variant") if saved and isinstance(saved.get("variant"), int) else None
        self._use_variant(choose_variant(lesson, seed, 0) if variant is None else variant)
        self._reset()
        if saved:
            self._restore(saved)

    def _use_variant(self, variant: int) -> None:
        inputs = variant_inputs(self.lesson.computation, self.lesson.id, variant) if variant else None
        if variant and inputs is None:
            variant, inputs = 0, None  # no finite draw: the authored numbers
        self.variant = variant
        self.comp: Computation = self.lesson.computation.at(inputs) if inputs else self.lesson.computation
        self._engine: Engine | None = None
        self._tol: Tolerance | None = None
        self.steps: list[Step] = [self._shown(step) for step in self.lesson.steps]

    def _shown(self, step: Step) -> Step:
        """The step as this learner sees it: a choose step's options in an order drawn from
        the learner, the lesson, the variant and the step's identity (kept across resumes and
        edits elsewhere in the lesson), so that the right one is not always where the author
        wrote it. What is recorded names the option itself (see `submit`)."""
        if step.kind != "choose" or not self.seed:
            return step
        return in_order(step, _shuffled(len(step.target.options), f"{self._order_seed}/{_key(step.identity)}"))

    @property
    def _order_seed(self) -> str:
        return f"{self.seed}/{self.lesson.id}/{self.variant}"

    def _reset(self) -> None:
        self.index = 0
        self.records = [StepRecord() for _ in self.steps]
        self._live: LiveState | None = None
        self._synced = 0  # steps < _synced have had their effect on the live state
        self._runs: dict[int, RunResult] = {}
        self._states: dict[int, dict[str, TensorFacts]] = {}  # live facts: -1 at the start, i after run step i
        self._observed: dict[int, Observation] = {}
        self._questions: dict[int, Question] = {}

    # --- the engine and the live state, built on first use -------------------

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            cache = self.lesson.cache
            if "points" not in cache:
                cache["points"] = TestPoints(self.lesson.computation, self.lesson.id)
            self._engine = Engine(self.comp, cache["points"])
        return self._engine

    @property
    def tol(self) -> Tolerance:
        """The lesson's tolerance (the default one scaled to this variant's truths)."""
        if self._tol is None:
            spec = self.lesson.spec
            rtol, atol = spec.tolerances()
            if spec.tolerance is not None:
                self._tol = Tolerance(rtol, atol)
            else:
                truth = self.engine.truth
                gradients = [g for n, g in truth.gradients.items() if n != self.comp.output]  # not d out/d out = 1
                largest = scale([*truth.values.values(), *gradients])
                self._tol = Tolerance(rtol, atol, scaled=True, floor=FLOOR * largest)
        return self._tol

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

    def hidden(self, index: int) -> frozenset[str]:
        """The nodes whose values the learner has not been shown at step `index`:
        those defined after the one it asks about, and those a later step asks for
        that no earlier step has shown. (The node asked about is refused anyway.)"""
        step = self.steps[index]
        asked = step.definition.asked_node(step.target)
        nodes = list(self.comp.nodes)
        later = set(nodes[nodes.index(asked) :]) if asked in self.comp.nodes else set()
        shown = {s.definition.asked_node(s.target) for s in self.steps[:index]}
        for other in self.steps[index:]:
            node = other.definition.asked_node(other.target)
            if node in self.comp.nodes and other.takes_answer and node not in shown:  # inputs are always on screen
                later.add(node)
        return frozenset(later)

    def question(self, index: int | None = None) -> Question:
        index = self.index if index is None else index
        if index not in self._questions:
            step = self.steps[index]
            source = step.definition.source
            hidden = self.hidden(index) if step.definition.asks_value else frozenset()
            if source == "graph":
                q: Question = MathQuestion(step, self.engine, self.tol, hidden=hidden)
            elif source == "options":
                q = ChoiceQuestion(step)
            elif step.kind == "run" and step.takes_answer:
                self._sync(index)
                q = BehaviourQuestion(step, self._runs[index].outcome, self.tol, mistakes=step.mistakes)
            elif step.kind == "predict":
                self._sync(index)
                seen = self._observed[index]  # the state as it was at this step, however we came back to it
                known = [*self.comp.inputs, *self.comp.nodes]
                q = BehaviourQuestion(
                    step, seen.value, self.tol, known, seen.values, step.mistakes, seen.backwards, hidden
                )
            else:
                raise ValueError(f"step {index} ({step.kind}) takes no answer")
            self._questions[index] = q
        return self._questions[index]

    def expected(self, index: int | None = None) -> Any:
        """The truth of a step as JSON: a number, a list, a string or null."""
        index = self.index if index is None else index
        step = self.steps[index]
        if step.kind == "explain" or (step.kind == "run" and not step.takes_answer):
            return self.run_result(index).outcome if step.kind == "run" else None
        return to_json(self.question(index).expected)

    def given(self) -> Given:
        """The learner's own answers to the local steps, for carried-forward diagnoses."""
        found: Given = {}
        for step, record in zip(self.steps, self.records):
            if step.kind == "local" and record.answer is not None:
                found[tuple(step.target)] = (step.index, record.answer)
        return found

    def check(self, text: str) -> Verdict:
        """Judge an answer to the current step without recording it (live, while typing).
        Authored feedback may carry numbers as `{name}`, as prose does."""
        verdict = self.question().grade(text, self.given())
        return replace(verdict, feedback=self.text(verdict.feedback)) if "{" in verdict.feedback else verdict

    def submit(self, text: str) -> Verdict:
        """Judge and record an answer to the current step."""
        verdict = self.check(text)
        record = self.record
        if verdict.status == "invalid" or record.status in ("solved", "revealed", "shown"):
            return verdict  # judged, not recorded: the step is settled (a skipped one is still open)
        record.answer = text
        record.option = self._option(self.step, text)
        if verdict.correct:
            record.status = "solved"
        else:
            mistake = {"answer": text, "diagnosis": verdict.diagnosis, "feedback": verdict.feedback}
            record.mistakes.append(mistake | ({"option": record.option} if record.option is not None else {}))
        return verdict

    @staticmethod
    def _option(step: Step, text: str) -> str | None:
        """A choose step's answer as the written text of the option it names."""
        number = step.target.number(text) if step.kind == "choose" else None
        return step.target.options[number - 1].text if number is not None else None

    def answer_now(self, index: int, answer: str | None, option: str | None = None) -> str | None:
        """An answer recorded at step `index` as it reads in the order shown now: a choose
        step's by the number its option now has (None when the lesson no longer has that
        option); any other as typed."""
        step = self.steps[index]
        if step.kind != "choose" or option is None:
            return answer
        return next((str(n) for n, o in enumerate(step.target.options, 1) if o.text == option), None)

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
        return tuple(self.text(h) for h in step.hints) or _default_hints(step, self)

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
        if step.kind == "choose":
            right = [f"{n}. {self.text(step.target.options[n - 1].text)}" for n in step.target.correct]
            return Reveal(expected, "\n".join(right), answer=step.answer)
        if step.definition.source == "graph":
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
        return Reveal(expected, format_value(observation.value), answer=step.answer, message=observation.warning)

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

    # --- numbers in prose ---------------------------------------------------------

    _PLACEHOLDER = re.compile(r"\{\{([^{}]*)\}\}|\{(grad:)?([A-Za-z_]\w*)\}")
    _CODE = re.compile(r"```.*?```|`[^`\n]*`|^ {4}.*$", re.S | re.M)  # fenced, inline or indented code

    def text(self, raw: str | None) -> str:
        """Prose with `{name}` as this variant's value and `{grad:name}` as the
        gradient of the output; `{{name}}` writes `{name}`; anything else as written.
        In code, a value is written as Python source (2.0, not 2: torch.tensor(2,
        requires_grad=True) raises)."""
        if not raw or "{" not in raw:
            return raw or ""
        names = (*self.comp.inputs, *self.comp.nodes)

        def fill(m: re.Match, code: bool) -> str:
            if m.group(1) is not None:
                return "{" + m.group(1) + "}"
            grad, name = m.group(2), m.group(3)
            if name not in names:
                return m.group(0)
            value = self.engine.native.gradients[name] if grad else self._values()[name]
            return code_value(value) if code else format_value(value)

        out, at = [], 0
        for block in self._CODE.finditer(raw):
            out.append(self._PLACEHOLDER.sub(lambda m: fill(m, False), raw[at : block.start()]))
            out.append(self._PLACEHOLDER.sub(lambda m: fill(m, True), block.group(0)))
            at = block.end()
        out.append(self._PLACEHOLDER.sub(lambda m: fill(m, False), raw[at:]))
        return "".join(out)

    def _values(self) -> dict[str, Any]:
        """Every value, as the tutor shows it: torch's in the lesson's dtype once
        torch is loaded; until then our float64 evaluation."""
        if self._engine is not None:
            return self._engine.native.values
        values: dict[str, Any] = dict(self.comp.inputs)
        for name, expr in self.comp.nodes.items():
            values[name] = evaluate(expr, values)
        return values

    @property
    def prompt(self) -> str:
        return self.text(self.step.prompt)

    @property
    def explanation(self) -> str | None:
        return self.text(self.step.explain) if self.step.explain else None

    @property
    def intro(self) -> str | None:
        return self.text(self.lesson.spec.intro) if self.lesson.spec.intro else None

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
        """Start again; a lesson with variants gets new numbers."""
        if self.lesson.spec.variants and not self.fixed:
            self.round += 1
            self._use_variant(choose_variant(self.lesson, self.seed, self.round))
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
            "variant": self.variant,
            "round": self.round,
            "index": self.index,
            "records": [asdict(r) for r in self.records],
            "steps": [s.identity for s in self.steps],
        }

    def _restore(self, state: dict) -> None:
        """Resume from `to_state()`. If the lesson was edited since, each record
        goes back to the step with the same identity (its kind and target, or its
        authored id), wherever that step now is; the place is kept by identity too."""
        version = state.get("version")
        if version not in (1, 2, STATE_VERSION):
            return
        try:
            identities = _from_v1(state["steps"]) if version == 1 else state["steps"]
            saved = list(zip(state["records"], identities, strict=True))
            records = [(StepRecord(**raw), _key(identity)) for raw, identity in saved]
            index = int(state["index"])
            self.round = int(state.get("round", 0))
        except (KeyError, TypeError, ValueError):
            return  # a state this version cannot read: start afresh rather than guess
        where = {_key(s.identity): s.index for s in self.steps}
        for at, (record, key) in enumerate(records):
            if key in where:
                if version != STATE_VERSION:
                    self._name_options(record, self.lesson.steps[where[key]], at if version == 2 else None)
                self.records[where[key]] = record
        current = records[index][1] if 0 <= index < len(records) else None
        self.index = where.get(current, min(max(index, 0), len(self.steps) - 1))

    def _name_options(self, record: StepRecord, written: Step, shown_at: int | None) -> None:
        """A record saved before answers named their option: its numbers read in the order
        then shown (drawn from the step's place `shown_at` in version 2; as written before)."""
        if written.kind != "choose":
            return
        count = len(written.target.options)
        seeded = self.seed and shown_at is not None
        order = _shuffled(count, f"{self._order_seed}/{shown_at}") if seeded else list(range(count))
        step = in_order(written, order)
        record.option = self._option(step, record.answer) if record.answer is not None else None
        for mistake in record.mistakes:
            if isinstance(mistake, dict) and isinstance(mistake.get("answer"), str):
                option = self._option(step, mistake["answer"])
                if option is not None:
                    mistake["option"] = option

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


def _from_v1(identities: list) -> list:
    """Version 1 named a step by [kind, target, prompt]: [kind, target, occurrence] now."""
    seen: dict[str, int] = {}
    found = []
    for kind, target, _prompt in identities:
        key = repr((kind, target))
        found.append([kind, target, seen.get(key, 0)])
        seen[key] = seen.get(key, 0) + 1
    return found


def _shuffled(count: int, seed: str) -> list[int]:
    order = list(range(count))
    random.Random(seed).shuffle(order)
    return order


def _key(identity: Any) -> str:
    """An identity as a dict key (saved identities come back from JSON as lists)."""
    return repr(identity)


def to_json(value: Any) -> Any:
    """A truth as JSON; JSON has no inf or nan, so those are written as strings."""
    if isinstance(value, np.ndarray | np.floating):
        value = np.asarray(value).tolist()
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
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
    if step.kind == "backprop":
        of, wrt = step.target
        return (
            f"The answer has the shape of {wrt}: check the shapes of each factor you multiply.",
            f"Write the local rule of {of}'s operation and multiply by grad_{of} so the shapes fit"
            " (matmul: X @ W gives transpose(X) @ grad for W, and grad @ transpose(W) for X).",
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
    if step.kind == "choose":
        return ("Look back at what torch did in the steps just before this one.",)
    return ()
