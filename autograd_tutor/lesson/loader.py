"""Load lesson files: YAML -> typed model -> checked computation and steps.

Every problem is located (`file:line:col`). This module never imports torch:
the checks that need it (answers judged right, mistakes judged wrong, values
finite in the lesson's dtype) are in `autograd_tutor.validate`.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from pydantic import ValidationError

from ..expr.ast import Call, Expr, Name, walk
from ..expr.ast import names as expr_names
from ..expr.display import format_value
from ..expr.evaluate import EvalError, Value, evaluate, is_finite, shape, shape_text
from ..expr.functions import FUNCTIONS
from ..expr.parser import ParseError, is_answer_word, is_reserved, parse
from .computation import Computation
from .files import SKILLS_FILE, Shelf, read
from .model import LessonSpec, StepSpec
from .ops import Set
from .problems import LessonInvalid, Problem, quote
from .skills import skills_file
from .source import Source, SourceError, file_text
from .source import read as read_source
from .steps import Step, sequence
from .values import MAX_ELEMENTS, array

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_OPTION_BY_PLACE = re.compile(r"\b(?i:options?)\s+(\d{1,2}|\([a-zA-Z]\)|[A-Z])(?![\w-]|\.\w)")  # option 2, (b), B


@dataclass(frozen=True, eq=False)  # a lesson is itself: compared and hashed by identity
class Lesson:
    file: str
    spec: LessonSpec
    computation: Computation
    steps: list[Step]
    source: Source
    warnings: tuple[Problem, ...] = ()
    # what the layers above compute once per lesson (its test points), never compared
    cache: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def title(self) -> str:
        return self.spec.title

    @property
    def skills(self) -> tuple[str, ...]:
        """Every skill the lesson practises: its own list, then its steps' (in order)."""
        return tuple(dict.fromkeys([*self.spec.skills, *(s for step in self.steps for s in step.skills)]))


def load(path: str | Path) -> Lesson:
    """Load one lesson file; raises LessonInvalid with every problem found."""
    try:
        text = file_text(path)
    except SourceError as err:
        raise LessonInvalid([err.problem]) from None
    return loads(text, str(path))


def loads(text: str, file: str = "<lesson>") -> Lesson:
    try:
        source = read_source(file, text)
    except SourceError as err:
        raise LessonInvalid([err.problem]) from None
    return from_source(source)


def from_source(source: Source) -> Lesson:
    """The lesson of a parsed file; raises LessonInvalid with every problem found."""
    if not isinstance(source.data, dict):
        raise LessonInvalid([source.at((), "a lesson is a mapping of fields (format, id, title, inputs, nodes, ...)")])
    try:
        spec = LessonSpec.model_validate(source.data)
    except ValidationError as err:
        from .schema_problems import schema_problems  # its wording is needed only for a broken file

        raise LessonInvalid(schema_problems(err, source)) from None
    return _Checker(spec, source).lesson()


def library(paths: list[str | Path]) -> tuple[list[Lesson], list[Problem]]:
    """Load every lesson under `paths` (files, or directories in file-name order)."""
    return build(read(paths))


def build(shelf: Shelf) -> tuple[list[Lesson], list[Problem]]:
    """The lessons of the files read, and every problem found.

    A broken lesson is reported and skipped; the others still load. Ids must be
    unique within a library."""
    problems = list(shelf.problems)
    lessons: list[Lesson] = []
    seen: dict[str, Lesson] = {}
    directories = {p.resolve(): p for p in reversed(shelf.paths) if p.is_dir()}  # each once
    for directory in reversed(directories.values()):
        found = skills_file(directory)
        problems += found.problems if found else ()
    for source in shelf.files.values():
        if isinstance(source, Problem):
            problems.append(source)
            continue
        try:
            lesson = from_source(source)
        except LessonInvalid as err:
            problems += err.problems
            continue
        problems += lesson.warnings
        if lesson.id in seen:
            first = seen[lesson.id].file
            problems.append(lesson.source.at(("id",), f"duplicate lesson id {quote(lesson.id)} (also in {first})"))
            continue
        seen[lesson.id] = lesson
        lessons.append(lesson)
    return lessons, problems


class _Checker:
    """The checks of a lesson beyond its schema: names, expressions, shapes, steps."""

    def __init__(self, spec: LessonSpec, source: Source):
        self.spec = spec
        self.source = source
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []

    def error(self, path: tuple, message: str, *, key: bool = False, offset: int = 0) -> None:
        self.problems.append(self.source.at(path, message, key=key, offset=offset))

    def warn(self, path: tuple, message: str, *, key: bool = False) -> None:
        self.warnings.append(self.source.at(path, message, "warning", key=key))

    def lesson(self) -> Lesson:
        spec = self.spec
        self.check_names()
        inputs = {n: array(i.value) for n, i in spec.inputs.items()}
        exprs = self.parse_nodes()
        targets = self.check_targets(exprs, inputs)
        values = self.evaluate(inputs, exprs)
        domains = self.check_samples(inputs)
        output = spec.output or list(spec.nodes)[-1]
        grad_output = None
        if output not in spec.nodes:
            self.error(("output",), f"output {quote(output)} is not a node (nodes: {', '.join(spec.nodes)})")
        elif output in values:
            grad_output = self.check_output(output, values[output])
        if self.problems:
            raise LessonInvalid(self.problems)
        comp = Computation(
            spec.dtype,
            inputs,
            {n: i.requires_grad for n, i in spec.inputs.items()},
            exprs,
            output,
            {n: shape(v) for n, v in values.items()},
            grad_output,
            frozenset(targets),
            domains,
            inputs,
        )
        steps = sequence(spec, comp)
        self.check_unused(comp, steps)
        made: set[str] = set()  # tensors created by run steps so far (autograd_grad's `as`)
        for step in steps:
            self.check_step(step, comp, frozenset(made))
            if step.kind == "run":
                made.update(op.makes() for op in step.target if op.makes())
        self.check_tests(steps)
        self.check_skills()
        if self.problems:
            raise LessonInvalid(self.problems)
        return Lesson(self.source.file, spec, comp, steps, self.source, tuple(self.warnings))

    def check_unused(self, comp: Computation, steps: list[Step]) -> None:
        """Warn about a node that neither leads to the output nor is shown by a step
        or named in the lesson's prose (a side value such as a finite difference is fine)."""
        used = {comp.output}
        for step in steps if self.spec.steps is not None else ():  # written steps show what the author meant
            if step.kind in ("forward", "predict"):
                used.add(str(step.target).partition(".")[0])
            elif step.kind in ("local", "backprop"):
                used.add(step.target[0])
        texts = [self.spec.intro]
        for spec in self.spec.steps or ():
            texts += [spec.prompt, spec.explain, *(spec.hint or ())]
        used |= {m[1] for t in texts if t for m in re.finditer(r"\{(?:grad:)?([A-Za-z_]\w*)\}", t)}
        reached, stack = set(), list(used)
        while stack:
            name = stack.pop()
            if name in comp.nodes and name not in reached:
                reached.add(name)
                stack.extend(expr_names(comp.nodes[name]))
        for name in comp.nodes:
            if name not in reached:
                message = f"{name} does not lead to the output {comp.output}: no gradient flows through it"
                self.warn(("nodes", name), message + "; use it, show it in a written step, or remove it", key=True)

    def check_names(self) -> None:
        for section in ("inputs", "nodes"):
            for name in getattr(self.spec, section):
                if not _NAME.fullmatch(name):
                    self.error((section, name), f"{quote(name)} is not a name (letters, digits, _)", key=True)
                elif is_reserved(name):
                    self.error(
                        (section, name), f"{quote(name)} is reserved (a function, pi or a Python word)", key=True
                    )
                elif is_answer_word(name):
                    message = f"in predict and run answers {quote(name)} means the word, not this tensor; rename it"
                    self.warn((section, name), message, key=True)
                elif name.startswith("grad_") and name[5:] in self.spec.nodes:
                    message = f"in backprop answers {quote(name)} means the gradient flowing into {name[5:]}; rename it"
                    self.warn((section, name), message, key=True)
        for name in set(self.spec.inputs) & set(self.spec.nodes):
            self.error(("nodes", name), f"{quote(name)} is both an input and a node", key=True)

    def parse_nodes(self) -> dict[str, Expr]:
        known = list(self.spec.inputs)
        order = list(self.spec.nodes)
        exprs: dict[str, Expr] = {}
        for i, (name, text) in enumerate(self.spec.nodes.items()):
            try:
                exprs[name] = parse(text, known, later=order[i + 1 :] + [name])
            except ParseError as err:
                itself = f"{name!r} is defined later" in err.message  # the parser's words
                message = f"{quote(name)} cannot use itself" if itself else err.message
                self.error(("nodes", name), message, offset=err.col)
            known.append(name)
        return exprs

    def check_targets(self, exprs: dict[str, Expr], inputs: dict[str, Value]) -> set[str]:
        """Inputs used as class indices (cross_entropy's target): integers, no grad."""
        targets: set[str] = set()
        for node, expr in exprs.items():
            for e in _target_calls(expr):
                name = e.args[-1].id
                if name not in inputs:
                    self.error(
                        ("nodes", node), f"{e.func}'s target {quote(name)} must be an input holding class indices"
                    )
                elif not np.all(inputs[name] == np.round(inputs[name])) or np.any(inputs[name] < 0):
                    self.error(("inputs", name), f"{name} holds class indices: whole numbers from 0")
                elif self.spec.inputs[name].requires_grad:
                    self.error(("inputs", name), f"{name} holds class indices, which cannot require grad")
                else:
                    targets.add(name)
        for name in targets:
            for node, expr in exprs.items():
                if name in expr_names(expr) and not _only_as_target(expr, name):
                    self.error(("nodes", node), f"{name} holds class indices: use it only as a target")
        return targets

    def evaluate(self, inputs: dict[str, Value], exprs: dict[str, Expr]) -> dict[str, Value]:
        values: dict[str, Value] = dict(inputs)
        for name, expr in exprs.items():
            if any(n not in values for n in expr_names(expr)):
                continue  # an argument already failed
            try:
                value = evaluate(expr, values)
            except EvalError as err:
                self.error(("nodes", name), err.message, offset=err.col)
                continue
            if not is_finite(value):
                self.error(("nodes", name), f"{name} is not finite at the inputs given ({format_value(value)})")
                continue
            if value.size > MAX_ELEMENTS:
                self.error(("nodes", name), f"{name} has {value.size} numbers (at most {MAX_ELEMENTS})")
                continue
            values[name] = value
        return values

    def check_samples(self, inputs: dict[str, Value]) -> dict[str, object]:
        domains: dict[str, object] = {}
        for name, spec in self.spec.inputs.items():
            sample = spec.sample
            if isinstance(sample, list):
                listed = tuple(array(v) for v in sample)
                for j, v in enumerate(listed):
                    if v.shape != inputs[name].shape:
                        message = f"each value in {name}'s sample has its shape {shape_text(inputs[name].shape)}"
                        self.error(("inputs", name, "sample", j), message)
                domains[name] = listed
            else:
                domains[name] = sample
        return domains

    def check_output(self, output: str, value: Value) -> Value | None:
        grad_output = self.spec.grad_output
        if grad_output is None:
            if value.ndim:
                self.error(
                    ("output",),
                    f"output {quote(output)} is a vector of shape {shape_text(value.shape)}; backward() needs a scalar:"
                    " use sum() or mean(), or give grad_output (a value of the output's shape)",
                )
            return None
        given = array(grad_output)
        if given.shape != value.shape:
            have, want = shape_text(given.shape), shape_text(value.shape)
            self.error(("grad_output",), f"grad_output has shape {have}; the output {output} has {want}")
        return given

    def check_step(self, step: Step, comp: Computation, made: frozenset[str] = frozenset()) -> None:
        for subpath, message, severity in step.definition.check(step.target, comp, made):
            if severity == "error":
                self.error((*step.path, *subpath), message)
            else:
                self.warn((*step.path, *subpath), message)
        if self.spec.steps is not None:
            spec = self.spec.steps[step.index]
            kind = step.kind
            if spec.ask is not None and not (
                (kind == "forward" and isinstance(spec.ask, bool)) or (kind == "run" and spec.ask in ("outcome", False))
            ):
                self.error((*step.path, "ask"), "ask is `false` on a forward step or `outcome` on a run step")
            if not step.takes_answer and (spec.answer is not None or spec.mistakes):
                self.warn((*step.path, "answer"), "this step takes no answer; its answer and mistakes are never used")
            if spec.form != "any" and step.definition.source != "graph":
                self.error((*step.path, "form"), "form is for forward, local, gradient and backprop steps")
            if spec.options is not None and kind != "choose":
                self.error((*step.path, "options"), "options belong to a choose step")
            if kind == "choose" and spec.mistakes:
                self.error((*step.path, "mistakes"), "a choose step gives its feedback in its options, not in mistakes")
            if kind == "choose":
                self.check_option_names(step, spec)

    def check_option_names(self, step: Step, spec: StepSpec) -> None:
        """Learners see a choose step's options in an order of their own: its words must not
        name one by its number or letter."""
        said = [(("hint",), h) for h in spec.hint or ()] + [(("explain",), spec.explain or "")]
        said += [(("options", j, "feedback"), o.feedback or "") for j, o in enumerate(spec.options or ())]
        count = len(spec.options or ())
        for subpath, text in said:
            labels = [m.group(1).strip("()").lower() for m in _OPTION_BY_PLACE.finditer(text)]
            if any(int(x) <= count if x.isdigit() else ord(x) - ord("a") < count for x in labels):
                message = "names an option by its number or letter, but each learner sees the options in an order"
                self.warn((*step.path, *subpath), message + " of their own: name it by its words")

    def check_skills(self) -> None:
        """Skill names must be in the course's skills file, when its directory has one."""
        found = skills_file(Path(self.source.file).parent) if not self.source.file.startswith("<") else None
        if found is None or found.problems:
            return
        named = [(("skills", j), name) for j, name in enumerate(self.spec.skills)]
        for i, step in enumerate(self.spec.steps or ()):
            named += [(("steps", i, "skills", j), name) for j, name in enumerate(step.skills)]
        for path, name in named:
            if name not in found.skills:
                close = difflib.get_close_matches(name, list(found.skills), n=1)
                also = f" (did you mean {close[0]!r}?)" if close else ""
                self.warn(path, f"skill {name!r} is not in {SKILLS_FILE}{also}")

    def check_tests(self, steps: list[Step]) -> None:
        for j, test in enumerate(self.spec.tests):
            if test.step >= len(steps):
                self.error(("tests", j, "step"), f"step {test.step}: the lesson has steps 0 to {len(steps) - 1}")
            elif not steps[test.step].takes_answer:
                self.error(("tests", j, "step"), f"step {test.step} ({steps[test.step].kind}) takes no answer")


def _target_calls(expr: Expr) -> list[Call]:
    """The calls in `expr` whose last argument names class indices (cross_entropy's target)."""
    return [e for e in walk(expr) if isinstance(e, Call) and FUNCTIONS[e.func].params[-1].kind == "target"]


def _only_as_target(expr: Expr, name: str) -> bool:
    """Whether `name` appears in `expr` only as a target argument."""
    as_target = sum(call.args[-1].id == name for call in _target_calls(expr))
    return as_target == sum(isinstance(e, Name) and e.id == name for e in walk(expr))


def tensor_values(spec: LessonSpec) -> dict[tuple, float | list]:
    """Every value the lesson makes a tensor of, by its path: inputs, grad_output and `set` operations."""
    values: dict[tuple, float | list] = {("inputs", n, "value"): i.value for n, i in spec.inputs.items()}
    if spec.grad_output is not None:
        values[("grad_output",)] = spec.grad_output
    for i, step in enumerate(spec.steps or ()):
        for j, op in enumerate(step.run or ()):
            if isinstance(op, Set):
                values |= {("steps", i, "run", j, "set", n): v for n, v in op.set.items()}
    return values
