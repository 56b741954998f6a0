"""The step sequence of a lesson: as written, or the automatic one."""

from __future__ import annotations

from dataclasses import dataclass

from ..expr.display import to_text
from .code import op_code
from .computation import Computation
from .model import LessonSpec, Mistake, StepSpec

ANSWERED = ("forward", "local", "gradient", "predict")


@dataclass(frozen=True)
class Step:
    index: int
    kind: str  # forward | local | gradient | run | predict | explain
    target: object  # node name, (of, wrt), "x.grad", [RunOp], or None
    prompt: str
    ask: bool = True  # False: a forward step that only shows, or a run step with no outcome to predict
    hints: tuple[str, ...] = ()
    explain: str | None = None
    answer: str | None = None
    mistakes: tuple[Mistake, ...] = ()
    path: tuple = ()  # where the step is in the lesson file, for located problems

    @property
    def takes_answer(self) -> bool:
        return self.ask and self.kind in (*ANSWERED, "run")

    def target_json(self) -> object:
        if self.kind == "local":
            return list(self.target)
        if self.kind == "run":
            return [op.op if op.arg is None else {op.op: op.arg} for op in self.target]
        return self.target


def sequence(spec: LessonSpec, comp: Computation) -> list[Step]:
    if spec.steps is None:
        return _automatic(comp)
    return [_written(i, s, comp) for i, s in enumerate(spec.steps)]


def _automatic(comp: Computation) -> list[Step]:
    targets: list[tuple[str, object]] = [("forward", n) for n in comp.nodes]
    targets += [("local", (n, a)) for n in reversed(comp.nodes) for a in comp.args(n)]
    targets += [("gradient", x) for x, rg in comp.requires_grad.items() if rg]
    return [Step(i, kind, target, default_prompt(kind, target, comp, True)) for i, (kind, target) in enumerate(targets)]


def _written(index: int, s: StepSpec, comp: Computation) -> Step:
    kind = s.kind
    target: object = {
        "forward": s.forward,
        "local": tuple(s.local) if s.local else None,
        "gradient": s.gradient,
        "run": s.run,
        "predict": s.predict,
        "explain": None,
    }[kind]
    ask = s.ask is not False if kind == "forward" else (s.ask == "outcome" if kind == "run" else kind != "explain")
    explain = s.explain if kind != "explain" else None
    prompt = s.prompt or (s.explain if kind == "explain" else default_prompt(kind, target, comp, ask))
    return Step(
        index,
        kind,
        target,
        prompt,
        ask,
        tuple(s.hint or ()),
        explain,
        s.answer,
        tuple(s.mistakes),
        ("steps", index),
    )


def default_prompt(kind: str, target: object, comp: Computation, ask: bool) -> str:
    if kind == "forward":
        expr = to_text(comp.nodes[target]) if target in comp.nodes else "?"
        return (
            f"What is the value of `{target} = {expr}`?" if ask else f"The forward pass computes `{target} = {expr}`."
        )
    if kind == "local":
        of, wrt = target
        expr = to_text(comp.nodes[of]) if of in comp.nodes else "?"
        return f"What is the local factor ∂{of}/∂{wrt}, where `{of} = {expr}`? Treat the other arguments as constants."
    if kind == "gradient":
        vector = " (a vector: one entry per element)" if comp.sizes.get(target) else ""
        return f"What is the gradient d{comp.output}/d{target}{vector}?"
    if kind == "run":
        code = "\n".join(line for op in target for line in op_code(op, comp))
        question = "Will it run (`ok`) or raise an error (`error`)?" if ask else "Run it."
        return f"```python\n{code}\n```\n{question}"
    if kind == "predict":
        prop = target.partition(".")[2]
        kinds = {
            "grad": "a value, or None",
            "requires_grad": "True or False",
            "is_leaf": "True or False",
            "grad_fn": "a grad_fn name such as PowBackward0, or None",
            "": "a value",
        }
        return f"What is `{target}` now? ({kinds.get(prop, 'a value')})"
    return ""
