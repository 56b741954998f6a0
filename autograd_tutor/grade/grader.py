"""Judging answers: correct, wrong (with a diagnosis where one holds) or invalid.

`invalid` is an answer that cannot be read, or that names what the step asks
for; it is never counted as a wrong attempt. For a `forward`, `local`,
`gradient` or `backprop` step (a `MathQuestion`) the order is: the author's
`mistakes` first, then the shape, then correctness (a formula must match torch
at the lesson's values and at every test point), then the automatic diagnoses
of the bug library, each named only when it holds at those same points (STACK's
potential responses, WeBWorK's random points).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from ..engine.graph import Analysis, local_factor, vjp
from ..engine.sampling import Engine
from ..expr.ast import Expr, Num, Unary, Vector, Word, names
from ..expr.display import format_value, to_text
from ..expr.evaluate import EvalError, Value, evaluate, is_finite, shape_text
from ..expr.parser import WORDS, ParseError, parse
from ..lesson.kinds import Choice, option_label
from ..lesson.model import Mistake
from ..lesson.steps import Step, needs_backprop
from . import bugs, chain
from .bugs import Candidate
from .compare import Tolerance, shown
from .verdict import Verdict

Given = dict[tuple[str, str], tuple[int, str]]  # edge -> (step index, the learner's answer there)


def _invalid(err: ParseError | EvalError) -> Verdict:
    return Verdict.invalid(err.message, err.col)


class MathQuestion:
    """A `forward`, `local`, `gradient` or `backprop` step: the truth is torch autograd on the graph."""

    def __init__(self, step: Step, engine: Engine, tol: Tolerance, *, hidden: frozenset[str] = frozenset()):
        self.step = step
        self.engine = engine
        self.comp = engine.comp
        self.tol = tol
        self.hidden = hidden  # names whose value this step asks for, or not yet shown
        self.kind = step.definition
        self.upstream_name = f"grad_{step.target[0]}" if step.kind == "backprop" else None
        self.names = [*self.comp.inputs, *self.comp.nodes] + ([self.upstream_name] if self.upstream_name else [])
        self._truths: dict[int, Value | None] = {}

    # --- truths, at the lesson's values and at the test points ----------------------

    @cached_property
    def points(self) -> tuple[Analysis, ...]:
        """The lesson's values first, then the test points."""
        return (self.engine.truth, *self.engine.points)

    def env(self, point: Analysis) -> dict[str, Value]:
        if self.upstream_name is None:
            return point.values
        return {**point.values, self.upstream_name: self.upstream(point)}

    def upstream(self, point: Analysis) -> Value:
        of = self.step.target[0]
        return point.gradients[of] if point is self.engine.truth or point is self.engine.native else point.upstream(of)

    def truth_at(self, point: Analysis) -> Value | None:
        key = id(point)
        if key not in self._truths:
            upstream = self.upstream(point) if self.upstream_name else None
            try:
                value = np.asarray(self.kind.truth(point, self.step.target, upstream), dtype=float)
            except (ValueError, KeyError):
                value = None
            self._truths[key] = value if value is not None and is_finite(value) else None
        return self._truths[key]

    @property
    def expected(self) -> Value:
        return np.asarray(self.kind.truth(self.engine.truth, self.step.target, None), dtype=float)

    @property
    def native(self) -> Value:
        """What torch computes in the lesson's own dtype."""
        return np.asarray(self.kind.truth(self.engine.native, self.step.target, None), dtype=float)

    @property
    def what(self) -> str:
        """What the step asks for, in words: `dz/dx`, `∂y/∂x`, `y`, what flows into W."""
        kind, target, out = self.step.kind, self.step.target, self.comp.output
        return {
            "forward": lambda: str(target),
            "local": lambda: f"∂{target[0]}/∂{target[1]}",
            "gradient": lambda: f"d{out}/d{target}",
            "backprop": lambda: f"the gradient flowing into {target[1]}",
        }[kind]()

    # --- judging ------------------------------------------------------------------------

    def parse(self, text: str) -> Expr:
        return parse(text, self.names, answer=True)

    def grade(self, text: str, given: Given | None = None) -> Verdict:
        try:
            expr = self.parse(text)
        except ParseError as err:
            return _invalid(err)
        problem = self._form_problem(expr)
        if problem:
            return Verdict.invalid(problem, 0)
        read_as = to_text(expr)
        answer = _Answer(expr, self)
        try:
            here = answer.at(self.points[0])
        except EvalError as err:
            for mistake in self.step.mistakes:  # the author foresaw this formula, shapes and all
                if _same_formula(expr, mistake.answer, self.names):
                    return Verdict.wrong(mistake.feedback, "authored", read_as)
            return Verdict.wrong(f"Your formula does not compute here: {err.message}.", "shape", read_as)
        for mistake, prepared in self._mistakes:
            if self._matches(answer, prepared):
                return Verdict.wrong(mistake.feedback, "authored", read_as)
        expected = self.expected
        if here.shape != expected.shape and not (here.ndim == 0 and self._broadcasts):
            return self._shape(answer, here, expected, read_as)
        if not is_finite(here):
            return Verdict.wrong("Your answer is not a finite number here (a division by zero?).", None, read_as)
        right_here = self._right_here(here)
        if right_here and all(answer.close_to(p, self.truth_at(p)) for p in answer.checked[1:]):
            return Verdict.right(read_as)
        precision = self._precision(expr, expected)
        if precision:
            return Verdict.wrong(precision, "precision", read_as)
        for candidate in self._candidates(given, answer.formula):
            if answer.matches(candidate.value, self.truth_at):
                return Verdict.wrong(candidate.feedback, candidate.diagnosis, read_as)
        if right_here:
            return Verdict.wrong(self._coincidence(answer), "coincidence", read_as)
        return Verdict.wrong("Not what torch computes. Try again, or ask for a hint.", None, read_as)

    @property
    def _broadcasts(self) -> bool:
        """A number may stand for every entry: local factors (1/3 for a mean's
        partials) and gradients of vectors, as the prompt allows."""
        return self.step.kind == "local" or (self.step.kind == "gradient" and self.expected.ndim == 1)

    def _form_problem(self, expr: Expr) -> str | None:
        used = names(expr)
        if self.kind.asks_value:
            asked = self.kind.asked_node(self.step.target)
            if asked in used:
                return f"This step asks for the value of {asked} itself: compute it from the values it is made of."
            later = [n for n in used if n in self.hidden]
            if later:
                return (
                    f"The value of {later[0]} is not shown yet: compute {asked} from the inputs and the values"
                    " already on screen."
                )
        form = self.step.form
        if form == "formula" and not used:
            wanted = ", ".join(n for n in self.names if n not in self.hidden) or "the lesson's names"
            return f"This step asks for a formula: write it with the names ({wanted}), not as a number."
        if form == "number" and used:
            return "This step asks for a number: compute the value rather than writing a formula."
        return None

    def _right_here(self, here: Value) -> bool:
        return any(self.tol.close(here, t) for t in (self.expected, self.native, *self.alternatives))

    @cached_property
    def _mistakes(self) -> list[tuple[Mistake, tuple[_Answer, Value, bool] | None]]:
        """The author's mistakes, each read once: (its answer, its value here,
        whether that value is right), or None when it cannot be read here."""
        found: list[tuple[Mistake, tuple[_Answer, Value, bool] | None]] = []
        for mistake in self.step.mistakes:
            try:
                prepared = _Answer(self.parse(mistake.answer), self)
                value = prepared.at(self.points[0])
            except (ParseError, EvalError):
                found.append((mistake, None))
                continue
            found.append((mistake, (prepared, value, self._right_here(value))))
        return found

    def _matches(self, answer: _Answer, prepared: tuple[_Answer, Value, bool] | None) -> bool:
        """Whether the answer is an authored mistake: at the test points too when
        both are formulas; at the lesson's values otherwise, unless that value is
        right (then a right number stays right)."""
        if prepared is None:
            return False
        mistake, value, right = prepared
        if answer.formula and mistake.formula:  # a "mistake" right everywhere is no mistake
            return answer.matches(mistake.at_or_none, self.truth_at)
        if right:
            return False
        return answer.shape_ok(value) and self.tol.close(answer.at(self.points[0]), value)

    def _shape(self, answer: _Answer, here: Value, expected: Value, read_as: str) -> Verdict:
        for transform, tag, feedback in self._reshapes():
            if answer.right_after(transform, self.truth_at):
                return Verdict.wrong(feedback, tag, read_as)
        return Verdict.wrong(shape_problem(here, expected, self.what), "shape", read_as)

    def _reshapes(self) -> list[tuple[Callable[[Value], Value], str, str]]:
        """Answers of another shape that are a classic slip: transposed, or not
        summed over the dimension an input was broadcast along."""
        target_shape = self.expected.shape
        found = [(lambda v: np.asarray(v).T if np.ndim(v) == 2 else None, "transposed", self._transposed_feedback())]
        name = self.step.target[1] if self.step.kind == "backprop" else self.step.target
        found.append(
            (
                lambda v: (
                    chain.unbroadcast(v, target_shape)
                    if np.ndim(v) > len(target_shape) or np.shape(v) != target_shape
                    else None
                ),
                "broadcast_sum",
                f"{name} was broadcast in the forward pass: sum its gradient over the dimension it was copied along.",
            )
        )
        return found

    def _transposed_feedback(self) -> str:
        return (
            f"That is the transpose of {self.what}: a gradient has the shape of the tensor it belongs to"
            " (check the shapes of each factor)."
        )

    @cached_property
    def alternatives(self) -> tuple[Value, ...]:
        """The answer as computed from the rounded values the screen shows."""
        comp, truth = self.comp, self.engine.truth
        rounded = {n: shown(v) for n, v in truth.values.items()}
        kind, target = self.step.kind, self.step.target
        try:
            if kind == "forward":
                return (evaluate(comp.nodes[target], rounded),)
            if kind == "local":
                return (local_factor(comp, tuple(target), rounded),)
            if kind == "backprop":
                return (vjp(comp, tuple(target), rounded, shown(truth.gradients[target[0]])),)
            if target == comp.output:
                return ()
            total = np.zeros(comp.shapes[target])
            for user in comp.consumers[target]:
                edge, upstream = (user, target), shown(truth.gradients[user])
                if needs_backprop(comp, *edge):
                    total = total + vjp(comp, edge, rounded, upstream)
                else:
                    total = total + chain.step_back(comp, edge, upstream, shown(truth.local[edge]))
            return (total,)
        except (EvalError, ValueError, KeyError):
            return ()

    def _candidates(self, given: Given | None, formula: bool) -> list[Candidate]:
        """For a number, the general causes come first: 7.66 for −7.66 is a sign
        error, which a number cannot show to be a slip in sin′."""
        carried = self._carried(given) if self.step.kind == "gradient" else []
        general = [c for c in self.candidates if c.diagnosis in ("sign", "reciprocal")]
        specific = [c for c in self.candidates if c.diagnosis not in ("sign", "reciprocal")]
        return carried + (specific + general if formula else general + specific)

    def _carried(self, given: Given | None) -> list[Candidate]:
        factors: dict = {}
        for edge, (index, text) in (given or {}).items():
            if edge not in self.comp.edges:
                continue
            try:
                answer = _Answer(self.parse(text), self)
                answer.at(self.points[0])
            except (ParseError, EvalError):
                continue
            factors[edge] = (index, answer.at_or_none)
        return bugs.carried(self.comp, self.step.target, factors)

    @cached_property
    def candidates(self) -> list[Candidate]:
        comp, kind, target = self.comp, self.step.kind, self.step.target
        if kind == "forward":
            found = bugs.forward_candidates(comp, target)
        elif kind == "local":
            found = bugs.local_candidates(comp, tuple(target))
        elif kind == "gradient":
            found = bugs.gradient_candidates(comp, target)
        else:
            found = bugs.backprop_candidates(comp, tuple(target), self.upstream)
        if kind != "forward":
            below = target[1] if kind in ("local", "backprop") else target
            found += bugs.averaged(comp, below, self.truth_at) if kind != "local" else []
        found += bugs.general(self.truth_at, self.expected.ndim == 0)
        if self.expected.ndim == 2:
            found.append(Candidate("transposed", self._transposed_feedback(), lambda p: _transpose(self.truth_at(p))))
        return found

    def prepare(self) -> None:
        """Compute the truths and candidate values now (before the first keystroke)."""
        for point in self.points:
            self.truth_at(point)
        for candidate in self.candidates:
            candidate.value(self.points[0])

    def _precision(self, expr: Expr, truth: Value) -> str | None:
        return precision_message(expr, truth, self.tol)

    def _coincidence(self, answer: _Answer) -> str:
        for point in answer.checked[1:]:
            if not answer.close_to(point, self.truth_at(point)):
                moved = ", ".join(
                    f"{n} = {format_value(point.values[n])}"
                    for n in self.comp.inputs
                    if not self.comp.fixed(n) and np.ndim(point.values[n]) == 0
                )
                where = f"at {moved}" if moved else "at other values of the inputs"
                return (
                    f"Your formula gives the right number here, but not {where}: it is not the derivative,"
                    " only equal to it at these numbers. Write the formula that holds for every value."
                    if self.step.kind != "forward"
                    else f"Your formula gives the right number here, but it is not how {self.step.target} is computed"
                    f" (try it {where})."
                )
        return "Not what torch computes."


class _Answer:
    """An answer's values at the points where it is checked (all of them for a
    formula, the lesson's values alone for a number)."""

    def __init__(self, expr: Expr, question: MathQuestion):
        self.expr = expr
        self.question = question
        self.formula = bool(names(expr))
        self.checked = question.points if self.formula else question.points[:1]
        self._values: dict[int, Value] = {}

    def at(self, point: Analysis) -> Value:
        key = id(point)
        if key not in self._values:
            self._values[key] = evaluate(self.expr, self.question.env(point))
        return self._values[key]

    def at_or_none(self, point: Analysis) -> Value | None:
        try:
            return self.at(point)
        except EvalError:
            return None

    def shape_ok(self, value: Value) -> bool:
        mine = self.at_or_none(self.question.points[0])
        return mine is not None and (np.shape(mine) == np.shape(value) or np.ndim(mine) == 0)

    def close_to(self, point: Analysis, truth: Value | None) -> bool:
        """Right at `point` (a point where torch's truth is not finite proves nothing)."""
        if truth is None:
            return True
        value = self.at_or_none(point)
        return value is not None and self.question.tol.close(value, truth)

    def matches(
        self,
        other: Callable[[Analysis], Value | None],
        truth: Callable[[Analysis], Value | None],
        *,
        require_wrong: bool = True,
    ) -> bool:
        """Equal to `other` at every checked point, and (with `require_wrong`) not
        right everywhere: a candidate mistake must be a mistake."""
        wrong_somewhere = False
        for point in self.checked:
            mine, theirs = self.at_or_none(point), other(point)
            if mine is None or theirs is None or not is_finite(theirs) or not self.question.tol.close(mine, theirs):
                return False
            t = truth(point)
            if t is not None and not self.question.tol.close(theirs, t):
                wrong_somewhere = True
        return wrong_somewhere or not require_wrong

    def right_after(
        self, transform: Callable[[Value], Value | None], truth: Callable[[Analysis], Value | None]
    ) -> bool:
        """Whether `transform(answer)` is right at every checked point."""
        for point in self.checked:
            mine, t = self.at_or_none(point), truth(point)
            if mine is None:
                return False
            try:
                changed = transform(mine)
            except ValueError:
                return False
            if changed is None or (t is not None and not self.question.tol.close(changed, t)):
                return False
        return True


def _same_formula(expr: Expr, text: str, names_: list[str]) -> bool:
    try:
        return to_text(parse(text, names_, answer=True)) == to_text(expr)
    except ParseError:
        return False


def _transpose(value: Value | None) -> Value | None:
    return None if value is None else value.T


def _literals(expr: Expr) -> list[tuple[str, float]] | None:
    """The numbers of a plain number or list of numbers, as written; else None."""
    if isinstance(expr, Unary) and isinstance(expr.operand, Num) and expr.op == "-" and expr.operand.text != "pi":
        return [("-" + expr.operand.text, -expr.operand.value)]
    if isinstance(expr, Num) and expr.text != "pi":
        return [(expr.text, expr.value)]
    if isinstance(expr, Vector):
        found = []
        for item in expr.items:
            inner = _literals(item)
            if inner is None:
                return None
            found += inner
        return found
    return None


def precision_message(expr: Expr, truth: Value, tol: Tolerance) -> str | None:
    """A plain number (or list) that is the truth rounded to too few figures."""
    literals = _literals(expr)
    t = np.asarray(truth, dtype=float).reshape(-1)
    if literals is None or len(literals) != t.size or not np.all(np.isfinite(t)):
        return None
    given = 0
    for (text, value), entry in zip(literals, t):
        mantissa, _, exponent = text.lower().partition("e")
        unit = 10.0 ** (int(exponent or 0) - len(mantissa.partition(".")[2]))  # the last digit written
        if value == 0 and entry != 0 or abs(value - entry) >= 0.5 * unit * (1 - 1e-9):
            return None  # not the truth rounded (0 for a small number, or a half rounded away): another mistake
        given = max(given, len(mantissa.lstrip("-+").replace(".", "").lstrip("0")))
    figures = tol.figures(truth)
    if given >= figures:
        return None
    return f"Right as far as it goes, but rounded too much: give at least {figures} significant figures."


# --- run and predict steps: the truth is the live torch state ---------------------

_OUTCOME = "Answer ok (it runs) or error (it raises)."
_BOOL = "Answer True or False."


@dataclass
class BehaviourQuestion:
    """A `predict` step (expected: what torch reports) or a `run` step's outcome."""

    step: Step
    expected: Any  # None, bool, str, or a numpy array
    tol: Tolerance
    known: list[str] = field(default_factory=list)  # names an answer may use (none for a run's outcome)
    values: dict[str, Value] = field(default_factory=dict)  # the live values then, for those names
    mistakes: tuple[Mistake, ...] = ()
    backwards: int = 0  # for N.grad: how many backward() calls are summed in it
    hidden: frozenset[str] = frozenset()  # names not shown yet (a value being asked)

    @property
    def prop(self) -> str:
        return str(self.step.target).partition(".")[2] if self.step.kind == "predict" else "outcome"

    def read(self, text: str) -> Expr:
        return parse(text, self.known, answer=True, words=True)

    def grade(self, text: str, given: Given | None = None) -> Verdict:
        try:
            expr = self.read(text)
        except ParseError as err:
            hint = self._words_hint(text) if err.message.startswith("unknown name") else None
            return Verdict.invalid(hint, 0) if hint else _invalid(err)
        hint = self._form_problem(expr)
        if hint:
            return Verdict.invalid(hint, 0)
        try:
            value = self._value(expr)
        except EvalError as err:
            return _invalid(err)
        read_as = to_text(expr)
        if self._equal(value, self.expected):
            return Verdict.right(read_as)
        for mistake in self.mistakes:
            try:
                if self._equal(value, self._value(self.read(mistake.answer))):
                    return Verdict.wrong(mistake.feedback, "authored", read_as)
            except (ParseError, EvalError):
                continue
        return Verdict.wrong(*self._diagnose(expr, value), read_as)

    def _words_hint(self, text: str) -> str | None:
        """For a word that is not an answer word: the words this step accepts."""
        word = text.strip().lower()
        if not word.isalpha():
            return None
        if self.prop == "outcome":
            return _OUTCOME
        if self.prop in ("requires_grad", "is_leaf") and word not in WORDS:
            return _BOOL
        if self.prop == "grad_fn" and word not in WORDS:
            return "Answer a grad_fn name as torch prints it (such as PowBackward0), or None."
        return None

    def _form_problem(self, expr: Expr) -> str | None:
        if self.prop == "outcome":
            return None if isinstance(expr, Word) and expr.text in ("ok", "error") else _OUTCOME
        if self.prop in ("requires_grad", "is_leaf") and not (
            isinstance(expr, Word) and expr.text in ("True", "False")
        ):
            return _BOOL
        if self.prop == "":
            used = names(expr)
            asked = str(self.step.target)
            if asked in used:
                return f"This step asks for the value of {asked} itself: compute it from the values it is made of."
            later = [n for n in used if n in self.hidden]
            if later:
                return f"The value of {later[0]} is not shown yet: compute {asked} from the values already on screen."
        return None

    def _value(self, expr: Expr) -> Any:
        if isinstance(expr, Word):
            return {"None": None, "True": True, "False": False}.get(expr.text, expr.text)
        return evaluate(expr, self.values)

    def _equal(self, value: Any, expected: Any) -> bool:
        if expected is None or isinstance(expected, bool) or isinstance(value, bool) or value is None:
            return value is expected
        if isinstance(expected, str) or isinstance(value, str):
            return isinstance(value, str) and isinstance(expected, str) and value.lower() == expected.lower()
        return np.shape(value) == np.shape(expected) and self.tol.close(value, expected)

    def _close_after(self, value: Value, transform: Callable[[Value], Value]) -> bool:
        try:
            changed = transform(value)
        except ValueError:
            return False
        return np.shape(changed) == np.shape(self.expected) and self.tol.close(changed, self.expected)

    def _diagnose(self, expr: Expr, value: Any) -> tuple[str, str | None]:
        expected, target = self.expected, self.step.target
        if self.prop == "outcome":
            if expected == "error":
                return "Look again: one of these operations is something torch refuses here.", "outcome"
            return "Look again: torch has everything each of these operations needs.", "outcome"
        name = str(target).partition(".")[0]
        if self.prop == "grad" and expected is None:
            return (
                "torch fills .grad only on leaves that require grad (or on tensors that called retain_grad()),"
                " and only after backward(): which kind of tensor is this?",
                "grad_is_none",
            )
        if expected is None:
            return f"Think about whether torch has anything to put in {target} at this point.", "none"
        if value is None:
            return f"torch does have something in {target} here.", "not_none"
        if isinstance(expected, np.ndarray) and isinstance(value, np.ndarray):
            if value.shape != expected.shape:
                if value.ndim > expected.ndim and self._close_after(
                    value, lambda v: chain.unbroadcast(v, expected.shape)
                ):
                    return (
                        f"{name} was broadcast in the forward pass: its gradient sums over the copies.",
                        "broadcast_sum",
                    )
                if value.ndim == 2 and self._close_after(value, np.transpose):
                    return f"That is the transpose of {target}: a gradient has its tensor's shape.", "transposed"
                return shape_problem(value, expected, str(target)), "shape"
            n = self.backwards
            if n >= 2 and self.tol.close(value * n, expected):
                return (
                    f"Gradients accumulate: each backward() adds to .grad, and {n} of them have run"
                    f" since {name}.grad was last zeroed.",
                    "accumulation",
                )
            precision = precision_message(expr, expected, self.tol)
            if precision:
                return precision, "precision"
        if self.prop == "grad_fn":
            return "Read grad_fn off the last operation that made this tensor.", None
        return "That is not what torch reports.", None


def shape_problem(value: Value, expected: Value, what: str) -> str:
    """`Your answer has 2 entries; dy/dx has 3.`, or in shapes for anything else."""
    if np.ndim(value) == np.ndim(expected) == 1:
        return f"Your answer has {len(value)} entries; {what} has {len(expected)}."
    have = "is a single number" if np.ndim(value) == 0 else f"has shape {shape_text(np.shape(value))}"
    return f"Your answer {have}; {what} has shape {shape_text(np.shape(expected))}."


# --- choose steps: the truth is the author's options ------------------------------


@dataclass
class ChoiceQuestion:
    """A `choose` step: the learner picks an option by its number (1, 2, …) or
    letter (a, b, …). Any correct option is right; a wrong one gets its own
    feedback (tag `authored`); anything else is `invalid`."""

    step: Step

    @property
    def choice(self) -> Choice:
        return self.step.target

    @property
    def expected(self) -> int | list[int]:
        """The correct option's number, or the numbers when several are correct."""
        correct = list(self.choice.correct)
        return correct[0] if len(correct) == 1 else correct

    def grade(self, text: str, given: Given | None = None) -> Verdict:
        number = self.choice.number(text)
        if number is None:
            count = len(self.choice.options)
            return Verdict.invalid(
                f"Answer with the number (1 to {count}) or the letter (a to {chr(ord('a') + count - 1)}) of an option.",
                0,
            )
        option = self.choice.options[number - 1]
        read_as = f"option {option_label(number)}"
        if option.correct:
            return Verdict("correct", option.feedback or "", None, read_as)
        return Verdict.wrong(option.feedback or "", "authored", read_as)
