"""The step kinds, one definition each: how its target is read and checked,
its default prompt and label, how it shows in `steps --json`, and where its
truth comes from (`truth` reads an analysis of the graph; `live` kinds are
judged on the live torch state). Adding a kind means adding a class here.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from ..expr.display import to_text
from ..expr.evaluate import shape_text
from .computation import Computation
from .model import PROPERTIES, Option, StepSpec
from .problems import quote

Check = tuple[tuple, str, str]  # (path inside the step, message, "error" | "warning")
Made = frozenset[str]  # names of tensors that earlier run steps created (autograd_grad's `as`)


class Kind:
    name: ClassVar[str]
    label: ClassVar[str]  # the step's title in the app
    # where the truth comes from: the graph, the live torch state, the author's options, or none
    source: ClassVar[Literal["graph", "live", "options", "text"]]
    asks_value: ClassVar[bool] = False  # asks for a node's value: the node itself may not be named

    def target(self, spec: StepSpec) -> Any:
        return getattr(spec, self.name)

    def check(self, target: Any, comp: Computation, made: Made = frozenset()) -> Iterator[Check]:
        return iter(())

    def prompt(self, target: Any, comp: Computation, ask: bool) -> str:
        return ""

    def full_prompt(self, authored: str | None, target: Any, comp: Computation, ask: bool) -> str:
        """What the step shows: the author's `prompt`, else the default question."""
        return authored or self.prompt(target, comp, ask)

    def default_answer(self, target: Any) -> str | None:
        """The model answer when the author gives none."""
        return None

    def target_json(self, target: Any) -> Any:
        return target

    def takes_answer(self, ask: bool) -> bool:
        return ask

    def truth(self, analysis: Any, target: Any, upstream: Any = None) -> Any:
        raise TypeError(f"a {self.name} step's truth is not in the graph")

    def asked_node(self, target: Any) -> str | None:
        """The node whose value the step asks for (tightened judging)."""
        return None


def _expr(comp: Computation, node: str) -> str:
    return to_text(comp.nodes[node]) if node in comp.nodes else "?"


def _nodes(comp: Computation) -> str:
    return ", ".join(comp.nodes)


class Forward(Kind):
    name, label, source, asks_value = "forward", "Forward pass", "graph", True

    def check(self, target: str, comp: Computation, made: Made = frozenset()) -> Iterator[Check]:
        if target not in comp.nodes:
            yield ("forward",), f"forward: {quote(target)} is not a node (nodes: {_nodes(comp)})", "error"

    def prompt(self, target: str, comp: Computation, ask: bool) -> str:
        expr = _expr(comp, target)
        shape = comp.shapes.get(target, ())
        form = f" (a {'×'.join(map(str, shape))} matrix)" if len(shape) == 2 else ""
        return (
            f"What is the value of `{target} = {expr}`{form}?"
            if ask
            else f"The forward pass computes `{target} = {expr}`."
        )

    def truth(self, analysis: Any, target: str, upstream: Any = None) -> Any:
        return analysis.values[target]

    def asked_node(self, target: str) -> str:
        return target


class _Edge(Kind):
    """A (node, argument) pair of the graph: `local` and `backprop`."""

    source = "graph"

    def target(self, spec: StepSpec) -> tuple[str, str]:
        return tuple(getattr(spec, self.name))

    def target_json(self, target: tuple[str, str]) -> list[str]:
        return list(target)

    def check(self, target: tuple[str, str], comp: Computation, made: Made = frozenset()) -> Iterator[Check]:
        of, wrt = target
        if of not in comp.nodes:
            yield (self.name, 0), f"{self.name}: {quote(of)} is not a node (nodes: {_nodes(comp)})", "error"
        elif wrt not in comp.args(of):
            args = ", ".join(comp.args(of)) or "none"
            yield (
                (self.name, 1),
                f"{self.name}: {quote(wrt)} is not an argument of {of} (its arguments: {args})",
                "error",
            )


class Local(_Edge):
    name, label = "local", "Local factor"

    def prompt(self, target: tuple[str, str], comp: Computation, ask: bool) -> str:
        of, wrt = target
        return (
            f"What is the local factor ∂{of}/∂{wrt}, where `{of} = {_expr(comp, of)}`?"
            " Treat the other arguments as constants."
        )

    def truth(self, analysis: Any, target: tuple[str, str], upstream: Any = None) -> Any:
        return analysis.local[tuple(target)]


class Backprop(_Edge):
    name, label = "backprop", "Backprop"

    def prompt(self, target: tuple[str, str], comp: Computation, ask: bool) -> str:
        of, wrt = target
        return (
            f"The gradient `grad_{of}` = ∂{comp.output}/∂{of} {shape_text(comp.shapes.get(of, ()))} flows back into"
            f" `{of} = {_expr(comp, of)}`. What flows on into `{wrt}` {shape_text(comp.shapes.get(wrt, ()))}?"
            f" Write it with `grad_{of}`; the other arguments are constants."
        )

    def truth(self, analysis: Any, target: tuple[str, str], upstream: Any = None) -> Any:
        of = target[0]
        return analysis.vjp(tuple(target), analysis.gradients[of] if upstream is None else upstream)


class Gradient(Kind):
    name, label, source = "gradient", "Gradient", "graph"

    def check(self, target: str, comp: Computation, made: Made = frozenset()) -> Iterator[Check]:
        if target not in (*comp.inputs, *comp.nodes):
            yield ("gradient",), f"gradient: {quote(target)} is not an input or node", "error"
        elif target in comp.inputs and not comp.requires_grad[target]:
            yield ("gradient",), f"gradient of {target}, which does not require grad in torch", "warning"

    def prompt(self, target: str, comp: Computation, ask: bool) -> str:
        shape = comp.shapes.get(target, ())
        what = {0: "", 1: " (a vector: one entry per element)"}.get(len(shape), f" (shape {shape_text(shape)})")
        return f"What is the gradient d{comp.output}/d{target}{what}?"

    def truth(self, analysis: Any, target: str, upstream: Any = None) -> Any:
        return analysis.gradients[target]


class Run(Kind):
    name, label, source = "run", "Run", "live"

    def check(self, target: list, comp: Computation, made: Made = frozenset()) -> Iterator[Check]:
        names = {*comp.inputs, *comp.nodes, *made}
        for j, op in enumerate(target):
            for name, input_only in op.names():
                if input_only and name not in comp.inputs:
                    yield ("run", j), f"{op.key}: {quote(name)} is not an input ({op.key} acts on inputs only)", "error"
                elif name not in names:
                    yield ("run", j), f"{op.key}: {quote(name)} is not an input or node", "error"
            if op.key in ("set", "set_data"):
                for name, value in getattr(op, op.key).items():
                    have, want = _shape(value), comp.shapes.get(name)
                    if want is not None and have != want:
                        yield ("run", j), f"{op.key}: {name} must keep its shape {shape_text(want)}", "error"
            new = op.makes()
            if new is not None and new in (*comp.inputs, *comp.nodes):
                yield (
                    ("run", j),
                    f"{op.key}: {quote(new)} is already an input or node; name the result otherwise",
                    "error",
                )
            elif new is not None:
                names.add(new)

    def prompt(self, target: list, comp: Computation, ask: bool) -> str:
        code = "\n".join(line for op in target for line in op.code(comp))
        question = "Will it run (`ok`) or raise an error (`error`)?" if ask else "Run it."
        return f"```python\n{code}\n```\n{question}"

    def target_json(self, target: list) -> list:
        return [op.as_json() for op in target]


class Predict(Kind):
    name, label, source, asks_value = "predict", "Predict", "live", True

    def check(self, target: str, comp: Computation, made: Made = frozenset()) -> Iterator[Check]:
        name, dot, prop = target.partition(".")
        if name not in (*comp.inputs, *comp.nodes, *made):
            yield ("predict",), f"predict: {quote(name)} is not an input, a node or a tensor made by a run", "error"
        elif dot and prop not in PROPERTIES:
            yield ("predict",), f"predict: {quote(prop)} is not one of {', '.join(PROPERTIES)}", "error"

    def prompt(self, target: str, comp: Computation, ask: bool) -> str:
        prop = target.partition(".")[2]
        kinds = {
            "grad": "a value, or None",
            "requires_grad": "True or False",
            "is_leaf": "True or False",
            "grad_fn": "a grad_fn name such as PowBackward0, or None",
            "_version": "a whole number: the in-place changes counted so far",
            "": "a value",
        }
        return f"What is `{target}` now? ({kinds.get(prop, 'a value')})"

    def asked_node(self, target: str) -> str | None:
        name, dot, _ = target.partition(".")
        return None if dot else name


@dataclass(frozen=True)
class Choice:
    """A `choose` step's target: the question and its options."""

    question: str
    options: tuple[Option, ...]

    @property
    def correct(self) -> tuple[int, ...]:
        """The numbers (from 1) of the correct options."""
        return tuple(i for i, o in enumerate(self.options, 1) if o.correct)

    def number(self, text: str) -> int | None:
        """The option number (from 1) an answer names: `2`, `b`, `B`, `(b)`, `b)`, `2.`; else None."""
        word = text.strip().lower().removeprefix("(").removesuffix(")").removesuffix(".").strip()
        count = len(self.options)
        if word.isdigit() and 1 <= int(word) <= count:
            return int(word)
        if len(word) == 1 and "a" <= word <= chr(ord("a") + count - 1):
            return ord(word) - ord("a") + 1
        return None

    def listed(self) -> str:
        """The options as the prompt lists them: `1. …` per line."""
        return "\n".join(f"{i}. {option.text.strip()}" for i, option in enumerate(self.options, 1))


def option_label(number: int) -> str:
    """`1 (a)`: how an option's number and letter read."""
    return f"{number} ({chr(ord('a') + number - 1)})"


class Choose(Kind):
    name, label, source = "choose", "Choose", "options"
    MAX_OPTIONS = 26  # one letter each

    def target(self, spec: StepSpec) -> Choice:
        return Choice(spec.choose or "", tuple(spec.options or ()))

    def target_json(self, target: Choice) -> str:
        return target.question

    def check(self, target: Choice, comp: Computation, made: Made = frozenset()) -> Iterator[Check]:
        options = target.options
        if len(options) < 2:
            yield ("options",), "a choose step needs `options`: at least 2", "error"
        elif len(options) > self.MAX_OPTIONS:
            yield ("options",), f"a choose step has at most {self.MAX_OPTIONS} options (one letter each)", "error"
        elif not target.correct:
            yield ("options",), "no option is `correct: true`: mark the right one (or several)", "error"
        texts: set[str] = set()
        for j, option in enumerate(options):
            if not option.correct and not (option.feedback or "").strip():
                yield ("options", j), "a wrong option needs `feedback` saying why it is wrong", "error"
            if option.text.strip() in texts:
                yield ("options", j, "text"), "two options with the same text", "error"
            texts.add(option.text.strip())

    def prompt(self, target: Choice, comp: Computation, ask: bool) -> str:
        return target.question

    def full_prompt(self, authored: str | None, target: Choice, comp: Computation, ask: bool) -> str:
        """The question, then the options numbered (the learner answers 1, 2, … or a, b, …)."""
        return (authored or target.question).rstrip() + "\n\n" + target.listed()

    def default_answer(self, target: Choice) -> str | None:
        return str(target.correct[0]) if target.correct else None


class Explain(Kind):
    name, label, source = "explain", "Read", "text"

    def target(self, spec: StepSpec) -> None:
        return None

    def takes_answer(self, ask: bool) -> bool:
        return False


def _shape(value: Any) -> tuple[int, ...]:
    import numpy as np

    return np.shape(value)


KINDS: dict[str, Kind] = {
    k.name: k for k in (Forward(), Local(), Backprop(), Gradient(), Run(), Predict(), Choose(), Explain())
}
