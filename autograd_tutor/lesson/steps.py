"""The step sequence of a lesson: as written, or the automatic one."""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any

from ..expr.ast import Bin, Call, walk
from .computation import Computation
from .kinds import KINDS, Kind
from .model import LessonSpec, Mistake, StepSpec
from .skills import effective, inferred

# Functions whose local factor is neither elementwise nor a vector of partials.
_MIXING = ("transpose", "softmax", "log_softmax", "logsumexp", "cross_entropy")


@dataclass(frozen=True)
class Step:
    index: int
    kind: str  # a key of KINDS
    target: Any  # node name, (of, wrt), "x.grad", [Op], or None
    prompt: str
    ask: bool = True  # False: a forward step that only shows, or a run step with no outcome to predict
    hints: tuple[str, ...] = ()
    explain: str | None = None
    answer: str | None = None
    mistakes: tuple[Mistake, ...] = ()
    path: tuple = ()  # where the step is in the lesson file, for located problems
    form: str = "any"  # formula | number | any
    id: str | None = None  # an authored identity
    skills: tuple[str, ...] = ()  # what the step practises: its own list, else inferred, else the lesson's
    occurrence: int = 0  # how many earlier steps share this kind and target

    @property
    def definition(self) -> Kind:
        return KINDS[self.kind]

    @property
    def takes_answer(self) -> bool:
        return self.definition.takes_answer(self.ask)

    def target_json(self) -> Any:
        return self.definition.target_json(self.target)

    @cached_property
    def identity(self) -> list:
        """What makes a step the same step across edits of its lesson: its authored
        `id`, else its kind and target (and which one of equal steps it is)."""
        if self.id is not None:
            return ["id", self.id]
        return [self.kind, self.target_json(), self.occurrence]


def sequence(spec: LessonSpec, comp: Computation) -> list[Step]:
    steps = _automatic(comp) if spec.steps is None else [_written(i, s, comp) for i, s in enumerate(spec.steps)]
    seen: dict[str, int] = {}
    numbered = []
    for step in steps:
        key = repr((step.kind, step.target_json()))
        skills = effective(step.skills, inferred(step.kind, step.target, comp), tuple(spec.skills))
        numbered.append(replace(step, occurrence=seen.get(key, 0), skills=skills))
        seen[key] = seen.get(key, 0) + 1
    return numbered


def in_order(step: Step, order: list[int]) -> Step:
    """A choose step with its options shown in `order` (indices of the written options):
    the prompt's list, the numbers an answer names and the author's model answer follow."""
    choice = step.target
    shown = replace(choice, options=tuple(choice.options[i] for i in order))
    head = step.prompt.removesuffix(choice.listed())
    written = choice.number(step.answer) if step.answer is not None else None
    answer = str(order.index(written - 1) + 1) if written is not None else step.answer
    return replace(step, target=shown, prompt=head + shown.listed(), answer=answer)


def needs_backprop(comp: Computation, node: str, arg: str) -> bool:
    """Whether ∂node/∂arg is neither elementwise nor a vector of partials, so the
    automatic sequence asks for a backprop step instead of a local factor."""
    if len(comp.shapes[node]) >= 2 or len(comp.shapes[arg]) >= 2:
        return True
    for e in walk(comp.nodes[node]):
        if isinstance(e, Bin) and e.op == "@":
            return True
        if isinstance(e, Call) and (e.func in _MIXING or (e.func in ("sum", "mean") and len(e.args) == 2)):
            return True
    vector_node = len(comp.shapes[node]) == 1
    return vector_node and len(comp.shapes[arg]) == 1 and not comp.elementwise(node)


def _automatic(comp: Computation) -> list[Step]:
    targets: list[tuple[str, Any]] = [("forward", n) for n in comp.nodes]
    for node in reversed(comp.nodes):
        for arg in comp.args(node):
            targets.append(("backprop" if needs_backprop(comp, node, arg) else "local", (node, arg)))
    targets += [("gradient", x) for x, rg in comp.requires_grad.items() if rg]
    return [Step(i, kind, target, KINDS[kind].prompt(target, comp, True)) for i, (kind, target) in enumerate(targets)]


def _written(index: int, s: StepSpec, comp: Computation) -> Step:
    kind = s.kind
    target = KINDS[kind].target(s)
    ask = s.ask is not False if kind == "forward" else (s.ask == "outcome" if kind == "run" else kind != "explain")
    explain = s.explain if kind != "explain" else None
    definition = KINDS[kind]
    prompt = s.prompt or s.explain if kind == "explain" else definition.full_prompt(s.prompt, target, comp, ask)
    return Step(
        index,
        kind,
        target,
        prompt,
        ask,
        tuple(s.hint or ()),
        explain,
        s.answer if s.answer is not None else definition.default_answer(target),
        tuple(s.mistakes),
        ("steps", index),
        s.form,
        s.id,
        tuple(s.skills),
    )
