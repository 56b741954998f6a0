"""The operations of a `run` step, one typed model each.

Each model is what the author writes (a bare word, or a mapping with one key);
its fields validate it, its JSON Schema comes from it, and `code()` is the
PyTorch it stands for. The engine performs them (`engine/live.py`) with `match`
on these types.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .values import Name, TensorValue, tensor_literal

if TYPE_CHECKING:
    from .computation import Computation


class Op(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    key: ClassVar[str]
    usage: ClassVar[str]
    word: ClassVar[bool] = False  # may be written as a bare word

    def code(self, comp: Computation) -> list[str]:
        raise NotImplementedError

    def names(self) -> list[tuple[str, bool]]:
        """The names it acts on, each with whether it must be an input."""
        return []

    def as_json(self) -> Any:
        value = getattr(self, self.key)
        return self.key if value is None and self.word else {self.key: value}


class Forward(Op):
    key = "forward"
    usage = "forward, or {forward: no_grad}"
    word = True
    forward: Literal["no_grad"] | None = None

    def code(self, comp: Computation) -> list[str]:
        lines = comp.forward_code()
        return ["with torch.no_grad():", *("    " + line for line in lines)] if self.forward else lines


class Backward(Op):
    key = "backward"
    usage = "backward, or {backward: retain_graph}"
    word = True
    backward: Literal["retain_graph"] | None = None

    def code(self, comp: Computation) -> list[str]:
        args = []
        if comp.grad_output is not None:
            args.append(f"torch.tensor({tensor_literal(comp.grad_output)})")
        if self.backward:
            args.append("retain_graph=True")
        return [f"{comp.output}.backward({', '.join(args)})"]


class ZeroGrad(Op):
    key = "zero_grad"
    usage = "{zero_grad: x}"
    zero_grad: Name

    def code(self, comp: Computation) -> list[str]:
        return [f"{self.zero_grad}.grad.zero_()"]

    def names(self) -> list[tuple[str, bool]]:
        return [(self.zero_grad, False)]


class RequiresGrad(Op):
    key = "requires_grad"
    usage = "{requires_grad: {x: false}}"
    requires_grad: Annotated[dict[Name, bool], Field(min_length=1)]

    def code(self, comp: Computation) -> list[str]:
        return [f"{n}.requires_grad_({v})" for n, v in self.requires_grad.items()]

    def names(self) -> list[tuple[str, bool]]:
        return [(n, False) for n in self.requires_grad]


class Detach(Op):
    key = "detach"
    usage = "{detach: x}"
    detach: Name

    def code(self, comp: Computation) -> list[str]:
        return [f"{self.detach} = {self.detach}.detach()"]

    def names(self) -> list[tuple[str, bool]]:
        return [(self.detach, False)]


class RetainGrad(Op):
    key = "retain_grad"
    usage = "{retain_grad: y}"
    retain_grad: Name

    def code(self, comp: Computation) -> list[str]:
        return [f"{self.retain_grad}.retain_grad()"]

    def names(self) -> list[tuple[str, bool]]:
        return [(self.retain_grad, False)]


class Set(Op):
    key = "set"
    usage = "{set: {x: 3.0}}"
    set: Annotated[dict[Name, TensorValue], Field(min_length=1)]

    def code(self, comp: Computation) -> list[str]:
        dtype = "" if comp.dtype == "float32" else f", dtype=torch.{comp.dtype}"
        return [
            f"{n} = torch.tensor({tensor_literal(v)}{dtype}, requires_grad={n}.requires_grad)"
            for n, v in self.set.items()
        ]

    def names(self) -> list[tuple[str, bool]]:
        return [(n, True) for n in self.set]


OPERATIONS: dict[str, type[Op]] = {
    op.key: op for op in (Forward, Backward, ZeroGrad, RequiresGrad, Detach, RetainGrad, Set)
}
RunOp = Forward | Backward | ZeroGrad | RequiresGrad | Detach | RetainGrad | Set


def parse_op(raw: Any) -> Op:
    """One operation as written: a bare word or a one-key mapping."""
    if isinstance(raw, Op):
        return raw
    names = ", ".join(OPERATIONS)
    if isinstance(raw, str):
        op = OPERATIONS.get(raw)
        if op is None or not op.word:
            usage = f": write {op.usage}" if op else f" (operations: {names})"
            raise ValueError(f"unknown operation {raw!r}{usage}" if op is None else f"{raw} needs a value{usage}")
        return op()
    if not isinstance(raw, dict) or len(raw) != 1:
        raise ValueError("an operation is a word or a mapping with one key, like {zero_grad: x}")
    ((key, _),) = raw.items()
    op = OPERATIONS.get(key)
    if op is None:
        raise ValueError(f"unknown operation {key!r} (operations: {names})")
    try:
        return op.model_validate(raw)
    except ValidationError:
        raise ValueError(f"{key} is written {op.usage}") from None


def op_schema() -> dict:
    """The JSON Schema of one operation: a bare word or one of the models."""
    words = [key for key, op in OPERATIONS.items() if op.word]
    return {"anyOf": [{"enum": words}, *(_closed(op.model_json_schema()) for op in OPERATIONS.values())]}


def _closed(schema: dict) -> dict:
    schema.pop("title", None)
    return {**schema, "minProperties": 1, "maxProperties": 1}
