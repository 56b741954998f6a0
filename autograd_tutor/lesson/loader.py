"""Load lesson files: YAML -> typed model -> checked computation and steps.

Every problem is located (`file:line:col`). This module never imports torch:
the checks that need it (answers judged right, mistakes judged wrong, values
finite in the lesson's dtype) are in `autograd_tutor.validate`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from ..expr.ast import Expr
from ..expr.ast import names as expr_names
from ..expr.evaluate import EvalError, Value, evaluate, is_finite, shape
from ..expr.parser import ParseError, is_answer_word, is_reserved, parse
from .computation import Computation
from .model import PROPERTIES, LessonSpec
from .problems import LessonInvalid, Problem, quote
from .schema_problems import schema_problems
from .source import Source, SourceError, file_text, read
from .steps import Step, sequence

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
LESSON_SUFFIXES = (".yaml", ".yml")
MAX_ELEMENTS = 1024  # of one tensor: a 32x32 matrix; the tutor shows every element
BUNDLED = Path(__file__).parent.parent / "lessons"  # the course that ships with the tutor


@dataclass(frozen=True, eq=False)  # a lesson is itself: compared and hashed by identity
class Lesson:
    file: str
    spec: LessonSpec
    computation: Computation
    steps: list[Step]
    source: Source
    warnings: tuple[Problem, ...] = ()

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def title(self) -> str:
        return self.spec.title


def load(path: str | Path) -> Lesson:
    """Load one lesson file; raises LessonInvalid with every problem found."""
    try:
        text = file_text(path)
    except SourceError as err:
        raise LessonInvalid([err.problem]) from None
    return loads(text, str(path))


def loads(text: str, file: str = "<lesson>") -> Lesson:
    try:
        source = read(file, text)
    except SourceError as err:
        raise LessonInvalid([err.problem]) from None
    if not isinstance(source.data, dict):
        raise LessonInvalid([source.at((), "a lesson is a mapping of fields (format, id, title, inputs, nodes, ...)")])
    try:
        spec = LessonSpec.model_validate(source.data)
    except ValidationError as err:
        raise LessonInvalid(schema_problems(err, source)) from None
    return _Checker(spec, source).lesson()


def library(paths: list[str | Path]) -> tuple[list[Lesson], list[Problem]]:
    """Load every lesson under `paths` (files, or directories in file-name order).

    A broken lesson is reported and skipped; the others still load. Ids must be
    unique within a library."""
    files, problems = lesson_files(paths)
    lessons: list[Lesson] = []
    seen: dict[str, Lesson] = {}
    for file in files:
        try:
            lesson = load(file)
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


def lesson_files(paths: list[str | Path]) -> tuple[list[Path], list[Problem]]:
    """The lesson files under `paths`, each once (a file given twice, or inside a
    directory also given, is one file); problems for paths that hold none."""
    files: list[Path] = []
    problems: list[Problem] = []
    seen: set[Path] = set()
    given = {Path(p).resolve() for p in paths}
    for p in map(Path, paths):
        if p.resolve() in seen:
            continue
        seen.add(p.resolve())
        if not p.exists() and not p.is_symlink():
            problems.append(Problem(str(p), 0, 0, "no such file or directory"))
        elif not p.is_dir():
            files.append(p)
        else:
            try:
                entries = sorted(p.iterdir())
            except OSError as err:
                problems.append(Problem(str(p), 0, 0, f"cannot read: {err.strerror or err}"))
                continue
            found = [f for f in entries if _lesson_like(f)]
            for sub in entries:
                if sub.resolve() not in given and not sub.name.startswith(".") and _holds_lessons(sub):
                    message = "subdirectory not read: lessons are read from the directory itself; give it as a path"
                    problems.append(Problem(str(sub), 0, 0, message, "warning"))
            if not found:
                problems.append(Problem(str(p), 0, 0, "no lesson files (*.yaml) in this directory"))
            for f in found:
                if f.resolve() not in seen:
                    seen.add(f.resolve())
                    files.append(f)
    return files, problems


def _lesson_like(path: Path) -> bool:
    return path.suffix in LESSON_SUFFIXES and not path.is_dir()


def _holds_lessons(path: Path) -> bool:
    try:
        return path.is_dir() and any(map(_lesson_like, path.iterdir()))
    except OSError:
        return False


class _Checker:
    """The checks of a lesson beyond its schema: names, expressions, shapes, steps."""

    def __init__(self, spec: LessonSpec, source: Source):
        self.spec = spec
        self.source = source
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []

    def error(self, path: tuple, message: str, *, key: bool = False, offset: int = 0) -> None:
        self.problems.append(self.source.at(path, message, key=key, offset=offset))

    def warn(self, path: tuple, message: str) -> None:
        self.warnings.append(self.source.at(path, message, "warning"))

    def lesson(self) -> Lesson:
        spec = self.spec
        self.check_names()
        self.check_sizes()
        if self.problems:  # nothing else is worth computing on tensors too large to show
            raise LessonInvalid(self.problems)
        inputs = {n: _value(i.value) for n, i in spec.inputs.items()}
        exprs = self.parse_nodes()
        values = self.evaluate(inputs, exprs)
        output = spec.output or list(spec.nodes)[-1]
        if output not in spec.nodes:
            self.error(("output",), f"output {quote(output)} is not a node (nodes: {', '.join(spec.nodes)})")
        elif output in values and shape(values[output]):
            self.error(
                ("output",), f"output {quote(output)} is a vector; backward() needs a scalar: use sum() or mean()"
            )
        if self.problems:
            raise LessonInvalid(self.problems)
        comp = Computation(
            spec.dtype,
            inputs,
            {n: i.requires_grad for n, i in spec.inputs.items()},
            exprs,
            output,
            {n: (shape(v) or (0,))[0] for n, v in values.items()},
        )
        self.check_unused(comp)
        steps = sequence(spec, comp)
        for step in steps:
            self.check_step(step, comp)
        if self.problems:
            raise LessonInvalid(self.problems)
        return Lesson(self.source.file, spec, comp, steps, self.source, tuple(self.warnings))

    def check_unused(self, comp: Computation) -> None:
        reached, stack = set(), [comp.output]
        while stack:
            name = stack.pop()
            if name in comp.nodes and name not in reached:
                reached.add(name)
                stack.extend(comp.args(name))
        for name in comp.nodes:
            if name not in reached:
                message = f"{name} does not lead to the output {comp.output}: no gradient flows through it"
                self.warnings.append(
                    self.source.at(("nodes", name), message + "; use it or remove it", "warning", key=True)
                )

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
                    self.warnings.append(
                        self.source.at(
                            (section, name),
                            f"in predict and run answers {quote(name)} means the word, not this tensor; rename it",
                            "warning",
                            key=True,
                        )
                    )
        for name in set(self.spec.inputs) & set(self.spec.nodes):
            self.error(("nodes", name), f"{quote(name)} is both an input and a node", key=True)

    def check_sizes(self) -> None:
        """Every tensor small enough to show and to check."""
        for path, value in tensor_values(self.spec).items():
            count = len(value) if isinstance(value, list) else 1
            if count > MAX_ELEMENTS:
                self.error(path, f"{count:,} elements: a tensor in a lesson has at most {MAX_ELEMENTS:,}")

    def parse_nodes(self) -> dict[str, Expr]:
        known = list(self.spec.inputs)
        order = list(self.spec.nodes)
        exprs: dict[str, Expr] = {}
        for i, (name, text) in enumerate(self.spec.nodes.items()):
            try:
                exprs[name] = parse(text, known, later=order[i + 1 :] + [name])
            except ParseError as err:
                message = (
                    f"{quote(name)} cannot use itself" if f"{name!r} is defined later" in err.message else err.message
                )
                self.error(("nodes", name), message, offset=err.col)
            known.append(name)
        return exprs

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
                self.error(("nodes", name), f"{name} is not finite at the inputs given ({value})")
                continue
            values[name] = value
        return values

    def check_step(self, step: Step, comp: Computation) -> None:
        path = step.path
        kind, target = step.kind, step.target
        names = [*comp.inputs, *comp.nodes]
        if kind == "forward" and target not in comp.nodes:
            self.error((*path, "forward"), f"forward: {quote(target)} is not a node (nodes: {', '.join(comp.nodes)})")
        elif kind == "local":
            of, wrt = target
            if of not in comp.nodes:
                self.error((*path, "local", 0), f"local: {quote(of)} is not a node (nodes: {', '.join(comp.nodes)})")
            elif wrt not in comp.args(of):
                args = ", ".join(comp.args(of)) or "none"
                self.error(
                    (*path, "local", 1), f"local: {quote(wrt)} is not an argument of {of} (its arguments: {args})"
                )
        elif kind == "gradient":
            if target not in names:
                self.error((*path, "gradient"), f"gradient: {quote(target)} is not an input or node")
            elif target in comp.inputs and not comp.requires_grad[target]:
                self.warn((*path, "gradient"), f"gradient of {target}, which does not require grad in torch")
        elif kind == "predict":
            name, dot, prop = target.partition(".")
            if name not in names:
                self.error((*path, "predict"), f"predict: {quote(name)} is not an input or node")
            elif dot and prop not in PROPERTIES:
                self.error((*path, "predict"), f"predict: {quote(prop)} is not one of {', '.join(PROPERTIES)}")
        elif kind == "run":
            for j, op in enumerate(target):
                self.check_op((*path, "run", j), op, comp)
        if self.spec.steps is not None:
            spec = self.spec.steps[step.index]
            if spec.ask is not None and not (
                (kind == "forward" and isinstance(spec.ask, bool)) or (kind == "run" and spec.ask in ("outcome", False))
            ):
                self.error((*path, "ask"), "ask is `false` on a forward step or `outcome` on a run step")
            if not step.takes_answer and (spec.answer is not None or spec.mistakes):
                self.warn((*path, "answer"), "this step takes no answer; its answer and mistakes are never used")

    def check_op(self, path: tuple, op, comp: Computation) -> None:
        names = [*comp.inputs, *comp.nodes]
        if op.op in ("zero_grad", "detach", "retain_grad") and op.arg not in names:
            self.error(path, f"{op.op}: {quote(op.arg)} is not an input or node")
        elif op.op == "requires_grad":
            for name in op.arg:
                if name not in names:
                    self.error(path, f"requires_grad: {quote(name)} is not an input or node")
        elif op.op == "set":
            for name, value in op.arg.items():
                if name not in comp.inputs:
                    self.error(path, f"set: {quote(name)} is not an input (only inputs can be set)")
                elif shape(_value(value)) != shape(comp.inputs[name]):
                    self.error(path, f"set: {name} must keep its shape {list(shape(comp.inputs[name])) or 'scalar'}")


def tensor_values(spec: LessonSpec) -> dict[tuple, float | list[float]]:
    """Every value the lesson makes a tensor of, by its path: inputs and `set` operations."""
    values: dict[tuple, float | list[float]] = {("inputs", n, "value"): i.value for n, i in spec.inputs.items()}
    for i, step in enumerate(spec.steps or ()):
        for j, op in enumerate(step.run or ()):
            if op.op == "set":
                values |= {("steps", i, "run", j, "set", n): v for n, v in op.arg.items()}
    return values


def _value(value: float | list[float]) -> Value:
    return tuple(value) if isinstance(value, list) else value
