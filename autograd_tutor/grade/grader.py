"""Judging answers: correct, wrong (with a diagnosis where one fits) or invalid.

`invalid` is an answer that does not parse or cannot be evaluated; it is never
counted as a wrong attempt. A correct answer is never given a diagnosis:
correctness is decided first, then the author's `mistakes`, then the automatic
diagnoses (STACK's potential responses, in miniature).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

from ..engine.graph import Analysis, Engine, local_factor
from ..expr.ast import Expr, Name, Num, Unary, Word, names
from ..expr.display import format_number, format_value, to_text
from ..expr.evaluate import EvalError, Value, evaluate, is_finite
from ..expr.parser import ParseError, parse
from ..lesson.computation import Computation
from ..lesson.model import Mistake
from ..lesson.steps import Step
from . import chain
from .compare import Tolerance, shape_problem, shown

MAX_PATHS = 32  # path-by-path diagnoses for gradients reached along at most this many paths


@dataclass(frozen=True)
class Verdict:
    status: str  # correct | wrong | invalid
    feedback: str = ""
    diagnosis: str | None = None  # a stable tag: sign, missing_factor, authored, ...
    read_as: str = ""  # how the answer was understood, e.g. 2·x·cos(x²)
    col: int | None = None  # where an invalid answer goes wrong (0-based)

    @property
    def correct(self) -> bool:
        return self.status == "correct"


@dataclass(frozen=True)
class Candidate:
    """A value a typical mistake produces, and what to tell the learner."""

    value: Value
    diagnosis: str
    feedback: str


def _invalid(err: ParseError | EvalError) -> Verdict:
    return Verdict("invalid", err.message, col=err.col)


@dataclass
class MathQuestion:
    """A `forward`, `local` or `gradient` step: the truth is torch autograd on the graph."""

    step: Step
    comp: Computation
    engine: Engine
    tol: Tolerance
    mistakes: tuple[Mistake, ...] = ()
    _names: list[str] = field(init=False)

    def __post_init__(self) -> None:
        self._names = [*self.comp.inputs, *self.comp.nodes]

    def truth_at(self, a: Analysis) -> Value:
        kind, target = self.step.kind, self.step.target
        if kind == "forward":
            return a.values[target]
        if kind == "local":
            return a.local[tuple(target)]
        return a.gradients[target]

    @property
    def expected(self) -> Value:
        return self.truth_at(self.engine.truth)

    @property
    def native(self) -> Value:
        """What torch computes in the lesson's own dtype."""
        return self.truth_at(self.engine.native)

    def parse(self, text: str) -> Expr:
        return parse(text, self._names, answer=True)

    def grade(self, text: str) -> Verdict:
        try:
            expr = self.parse(text)
            value = evaluate(expr, self.engine.truth.values)
        except (ParseError, EvalError) as err:
            return _invalid(err)
        read_as = to_text(expr)
        problem = shape_problem(value, self.expected)
        if problem:
            return Verdict("wrong", problem.capitalize() + ".", "shape", read_as)
        if not is_finite(value):
            return Verdict("wrong", "Your answer is not a finite number here (a division by zero?).", None, read_as)
        if self._accepts(value):
            mismatch = self._mismatch_elsewhere(expr)
            if mismatch is None:
                return Verdict("correct", "", None, read_as)
            return Verdict("wrong", mismatch, "coincidence", read_as)
        for mistake in self.mistakes:
            if self.same(expr, mistake.answer):
                return Verdict("wrong", mistake.feedback, "authored", read_as)
        return self._diagnose(expr, value, read_as)

    def _accepts(self, value: Value) -> bool:
        return any(self.tol.close(value, t) for t in (self.expected, self.native, *self.alternatives))

    def _mismatch_elsewhere(self, expr: Expr) -> str | None:
        """For a derivative written as a formula: check it at other points too
        (WeBWorK's way), so that `x + 1.5` is not taken for `2*x` at x = 1.5."""
        used = names(expr)
        if not used or self.step.kind == "forward":
            return None
        for a in self.engine.samples(frozenset(self.comp.input_ancestors(used))):
            truth = self.truth_at(a)
            try:
                value = evaluate(expr, a.values)
            except EvalError:
                continue
            if not is_finite(truth):
                continue
            if not self.tol.close(value, truth):
                moved = ", ".join(
                    f"{n} = {format_number(a.values[n])}" for n in used if not isinstance(a.values[n], tuple)
                )
                where = f" at {moved}" if moved else " at other values"
                return (
                    f"Right value here, but not as a formula: {where.strip()} it gives {format_value(value)},"
                    f" while torch gives {format_value(truth)}."
                )
        return None

    def same(self, expr: Expr, other_text: str) -> bool:
        """Whether an answer matches another (an authored mistake), here and at other points."""
        try:
            other = self.parse(other_text)
            if not self.tol.close(evaluate(expr, self.engine.truth.values), evaluate(other, self.engine.truth.values)):
                return False
            used = sorted(set(names(expr)) | set(names(other)))
            if names(expr) and names(other) and self.step.kind != "forward":
                for a in self.engine.samples(frozenset(self.comp.input_ancestors(used))):
                    if not self.tol.close(evaluate(expr, a.values), evaluate(other, a.values)):
                        return False
            return True
        except (ParseError, EvalError):
            return False

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
            if target == comp.output:
                return ()
            total: Value = 0.0
            for user in comp.consumers[target]:
                edge = (user, target)
                total = chain.add(
                    total, chain.step_back(comp, edge, shown(truth.gradients[user]), shown(truth.local[edge]))
                )
            return (total,)
        except (EvalError, ValueError, KeyError):
            return ()

    @cached_property
    def candidates(self) -> list[Candidate]:
        truth, comp = self.engine.truth, self.comp
        kind, target = self.step.kind, self.step.target
        out: list[Candidate] = []
        expected = self.expected

        def add(value: Value | Callable[[], Value], diagnosis: str, feedback: str) -> None:
            try:
                value = value() if callable(value) else value
            except (ValueError, KeyError, TypeError, IndexError, ZeroDivisionError):
                return
            if is_finite(value) and not self.tol.close(value, expected):
                out.append(Candidate(value, diagnosis, feedback))

        add(lambda: _negated(expected), "sign", "Check the sign: the size is right, the sign is not.")
        if kind == "forward":
            for name, value in truth.values.items():
                if name != target:
                    add(value, "wrong_node", f"That is the value of {name}, not of {target}.")
            return out
        of, wrt = tuple(target) if kind == "local" else (comp.output, target)
        if not isinstance(expected, tuple) and expected != 0:
            add(1 / expected, "reciprocal", "That is the reciprocal: the derivative is upside down.")
        for name in dict.fromkeys((wrt, of)):
            add(
                truth.values[name],
                "forward_value",
                f"That is the value of {name} in the forward pass; the question asks for a derivative.",
            )
        if kind == "local":
            if of != comp.output:
                add(
                    truth.gradients[wrt],
                    "total_instead_of_local",
                    f"That is the total gradient d{comp.output}/d{wrt}; the local factor is only ∂{of}/∂{wrt},"
                    f" the derivative of {of} = {to_text(comp.nodes[of])} alone.",
                )
            for edge, value in truth.local.items():
                if edge != (of, wrt):
                    add(value, "wrong_node", f"That is ∂{edge[0]}/∂{edge[1]}, not ∂{of}/∂{wrt}.")
            for name, value in truth.gradients.items():  # a chain carried on past this factor
                if name != wrt:
                    add(
                        value,
                        "total_instead_of_local",
                        f"That is the total gradient d{comp.output}/d{name}; the question asks only for the"
                        f" local factor ∂{of}/∂{wrt}, the derivative of {of} = {to_text(comp.nodes[of])}.",
                    )
            return out
        self._gradient_candidates(add)
        return out

    def _gradient_candidates(self, add: Callable) -> None:
        comp, truth, target = self.comp, self.engine.truth, self.step.target
        paths = []  # (path, its gradient), for the paths whose chain arithmetic has a value
        wide = comp.path_count(target) > MAX_PATHS  # then path by path would take too long
        for path in [] if wide else comp.paths(target):
            try:
                paths.append((path, chain.along(comp, path, truth.local)))
            except ValueError:
                continue
        if len(paths) > 1:  # first: where a path's value equals a local factor, the missing path is the point
            for path, whole in paths:
                via = " → ".join(e[0] for e in path) + f" → {target}"
                add(
                    whole,
                    "missing_path",
                    f"That is only the path {via}. {target} reaches {comp.output} along {len(paths)} paths,"
                    f" and the gradients of the paths add up.",
                )
        for user in comp.consumers[target]:
            if user != comp.output:
                add(
                    truth.local[(user, target)],
                    "local_instead_of_total",
                    f"That is only the local factor ∂{user}/∂{target}; multiply it by the gradient"
                    f" flowing back into {user}, d{comp.output}/d{user}.",
                )
        for path, whole in paths:
            for edge in path:
                node, arg = edge
                value = lambda p=path, e=edge, w=whole: chain.add(  # noqa: E731
                    chain.sub(self.expected, w), chain.along(comp, p, truth.local, skip=e)
                )
                inner = " (the inner derivative)" if edge == path[-1] and len(path) > 1 else ""
                add(
                    value,
                    "missing_factor",
                    f"You dropped the factor ∂{node}/∂{arg}{inner}, the derivative of {node} ="
                    f" {to_text(comp.nodes[node])} ({format_value(truth.local[edge])} here). The chain rule multiplies"
                    f" every factor along the path.",
                )
                add(
                    lambda p=path, e=edge, w=whole: chain.add(self.expected, chain.sub(_times(w, truth.local[e]), w)),
                    "extra_factor",
                    f"You multiplied by ∂{node}/∂{arg} once too often.",
                )
        for name, value in truth.gradients.items():
            if name != target and name != comp.output:
                add(value, "wrong_node", f"That is d{comp.output}/d{name}, not d{comp.output}/d{target}.")

    def _diagnose(self, expr: Expr, value: Value, read_as: str) -> Verdict:
        precision = _precision(expr, self.expected)
        if precision:
            return Verdict("wrong", precision, "precision", read_as)
        if isinstance(expr, Name):  # a bare name says which value it is better than any number
            if self.step.kind == "forward":
                return Verdict(
                    "wrong", f"That is the value of {expr.id}, not of {self.step.target}.", "wrong_node", read_as
                )
            return Verdict(
                "wrong",
                f"That is the value of {expr.id} in the forward pass; the question asks for a derivative.",
                "forward_value",
                read_as,
            )
        matches = [c for c in self.candidates if self.tol.close(value, c.value)]
        if matches:
            best = min(matches, key=lambda c: _distance(value, c.value))
            return Verdict("wrong", best.feedback, best.diagnosis, read_as)
        return Verdict("wrong", "Not what torch computes. Try again, or ask for a hint.", None, read_as)


def _distance(a: Value, b: Value) -> float:
    """How far apart two values are, relative to their size (scalars broadcast)."""
    if isinstance(a, tuple) or isinstance(b, tuple):
        n = len(a) if isinstance(a, tuple) else len(b)
        a = a if isinstance(a, tuple) else (a,) * n
        b = b if isinstance(b, tuple) else (b,) * n
        return max((_distance(x, y) for x, y in zip(a, b)), default=0.0)
    return abs(a - b) / max(abs(b), 1e-12)


def _scaled(value: Value, k: float) -> Value:
    return tuple(_scaled(v, k) for v in value) if isinstance(value, tuple) else value * k


def _negated(value: Value) -> Value:
    return tuple(_negated(v) for v in value) if isinstance(value, tuple) else -value


def _times(a: Value, b: Value) -> Value:
    if isinstance(a, tuple) or isinstance(b, tuple):
        n = len(a) if isinstance(a, tuple) else len(b)
        a = a if isinstance(a, tuple) else (a,) * n
        b = b if isinstance(b, tuple) else (b,) * n
        if any(isinstance(x, tuple) for x in (*a, *b)):
            raise ValueError("shape")
        return tuple(x * y for x, y in zip(a, b))
    return a * b


def _literal(expr: Expr) -> tuple[str, float] | None:
    """A plain number as written (its text, its value), or None."""
    if isinstance(expr, Unary) and isinstance(expr.operand, Num) and expr.op == "-":
        return "-" + expr.operand.text, -expr.operand.value
    if isinstance(expr, Num) and expr.text != "pi":
        return expr.text, expr.value
    return None


def _precision(expr: Expr, truth: Value) -> str | None:
    """A plain number that is the truth rounded to too few figures."""
    lit = _literal(expr)
    if lit is None or isinstance(truth, tuple) or truth == 0 or lit[1] == 0 or "e" in lit[0].lower():
        return None
    text, value = lit
    if round(truth, len(text.partition(".")[2])) != value:
        return None
    figures = len(text.lstrip("-").replace(".", "").lstrip("0"))
    plural = "s" * (figures > 1)
    return f"Right digits, but {text} has only {figures} significant figure{plural}: give at least 4."


# --- run and predict steps: the truth is the live torch state ---------------------


@dataclass
class BehaviourQuestion:
    """A `predict` step (expected: what torch reports) or a `run` step's outcome."""

    step: Step
    expected: object  # None, bool, str, float or tuple
    tol: Tolerance
    known: list[str] = field(default_factory=list)  # names an answer may use (none for a run's outcome)
    values: dict[str, Value] = field(default_factory=dict)  # the live values then, for those names
    mistakes: tuple[Mistake, ...] = ()
    backwards: int = 0  # for N.grad: how many backward() calls are summed in it

    def read(self, text: str) -> Expr:
        return parse(text, self.known, answer=True, words=True)

    def grade(self, text: str) -> Verdict:
        outcome = "Answer ok (it runs) or error (it raises)."
        try:
            expr = self.read(text)
            value = self._value(expr)
        except (ParseError, EvalError) as err:
            return Verdict("invalid", outcome, col=0) if self.step.kind == "run" else _invalid(err)
        if self.step.kind == "run" and value not in ("ok", "error"):
            return Verdict("invalid", outcome, col=0)
        read_as = to_text(expr)
        if self._equal(value, self.expected):
            return Verdict("correct", "", None, read_as)
        for mistake in self.mistakes:
            try:
                if self._equal(value, self._value(self.read(mistake.answer))):
                    return Verdict("wrong", mistake.feedback, "authored", read_as)
            except (ParseError, EvalError):
                continue
        return Verdict("wrong", *self._diagnose(value), read_as)

    def _value(self, expr: Expr) -> object:
        if isinstance(expr, Word):
            return {"None": None, "True": True, "False": False}.get(expr.text, expr.text)
        return evaluate(expr, self.values)

    def _equal(self, value: object, expected: object) -> bool:
        if expected is None or isinstance(expected, bool) or isinstance(value, bool) or value is None:
            return value is expected
        if isinstance(expected, str) or isinstance(value, str):
            return isinstance(value, str) and isinstance(expected, str) and value.lower() == expected.lower()
        return shape_problem(value, expected) is None and self.tol.close(value, expected)

    def _diagnose(self, value: object) -> tuple[str, str | None]:
        expected, target = self.expected, self.step.target
        if self.step.kind == "run":
            if expected == "error":
                return "It raises: torch refuses one of these operations.", "outcome"
            return "It runs without an error.", "outcome"
        name, _, prop = str(target).partition(".")
        if prop == "grad" and expected is None:
            return (
                f"{name}.grad is None here: torch fills .grad only on leaves that require grad"
                " (or on tensors that called retain_grad()), and only after backward().",
                "grad_is_none",
            )
        if expected is None:
            return f"{target} is None here.", "none"
        if value is None:
            return f"{target} is not None here.", "not_none"
        n = self.backwards
        if n >= 2 and isinstance(value, float | tuple) and self.tol.close(_scaled(value, n), expected):
            return (
                f"Gradients accumulate: each backward() adds to .grad, and {n} of them have run"
                f" since {name}.grad was last zeroed, so {target} holds {n} times that.",
                "accumulation",
            )
        if prop == "grad_fn":
            return "Read grad_fn off the last operation that made this tensor.", None
        return "That is not what torch reports.", None
