"""The operations of a `run` step, one typed model each.

Each model is what the author writes (a bare word, or a mapping with one key);
its fields validate it, its JSON Schema comes from it, and `code()` is the
PyTorch it stands for. The engine performs them (`engine/live.py`) with `match`
on these types.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator

from .problems import quote
from .values import Name, TensorValue, number, tensor_literal

if TYPE_CHECKING:
    from .computation import Computation


class Op(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    key: ClassVar[str]
    usage: ClassVar[str]
    word: ClassVar[bool] = False  # may be written as a bare word
    # the live facts it may change: "value", "grad", "flags" (requires_grad, is_leaf,
    # grad_fn) or "other" (anything else a step may ask, such as _version)
    changes: ClassVar[frozenset[str]] = frozenset({"value", "grad", "flags", "other"})

    def code(self, comp: Computation) -> list[str]:
        raise NotImplementedError

    def names(self) -> list[tuple[str, bool]]:
        """The names it acts on, each with whether it must be an input."""
        return []

    def makes(self) -> str | None:
        """The name of a new tensor it creates (later steps may use it)."""
        return None

    def as_json(self) -> Any:
        value = getattr(self, self.key)
        if isinstance(value, BaseModel):
            value = value.model_dump(by_alias=True, exclude_defaults=True)
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
    changes = frozenset({"grad"})
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
    changes = frozenset({"grad"})
    zero_grad: Name

    def code(self, comp: Computation) -> list[str]:
        return [f"{self.zero_grad}.grad.zero_()"]

    def names(self) -> list[tuple[str, bool]]:
        return [(self.zero_grad, False)]


class RequiresGrad(Op):
    key = "requires_grad"
    usage = "{requires_grad: {x: false}}"
    changes = frozenset({"flags"})
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
    changes = frozenset({"grad"})
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


class GradToNone(Op):
    key = "grad_to_none"
    usage = "{grad_to_none: x}"
    changes = frozenset({"grad"})
    grad_to_none: Name

    def code(self, comp: Computation) -> list[str]:
        return [f"{self.grad_to_none}.grad = None"]

    def names(self) -> list[tuple[str, bool]]:
        return [(self.grad_to_none, False)]


class _Args(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class SgdArgs(_Args):
    lr: Annotated[float, BeforeValidator(number)] = Field(gt=0, description="the learning rate")
    params: list[Name] | None = Field(None, description="default: every input that requires grad")
    no_grad: bool = Field(True, description="false: the update written outside torch.no_grad()")
    in_place: bool = Field(True, description="false: w = w - lr * w.grad (a new tensor) instead of w -= ...")


class Sgd(Op):
    key = "sgd"
    usage = "{sgd: {lr: 0.1}} (optionally params: [w, b], no_grad: false, in_place: false)"
    sgd: SgdArgs

    def params(self, comp: Computation) -> list[str]:
        if self.sgd.params is not None:
            return self.sgd.params
        return [n for n, flag in comp.requires_grad.items() if flag and n not in comp.targets]

    def code(self, comp: Computation) -> list[str]:
        lr = repr(self.sgd.lr)
        lines = [
            f"{p} -= {lr} * {p}.grad" if self.sgd.in_place else f"{p} = {p} - {lr} * {p}.grad"
            for p in self.params(comp)
        ]
        return ["with torch.no_grad():", *("    " + line for line in lines)] if self.sgd.no_grad else lines

    def names(self) -> list[tuple[str, bool]]:
        return [(p, True) for p in self.sgd.params or ()]


# `x.add_(1)`, `y.data.zero_()`, `y.detach().mul_(2)`: a name, how it is reached, one method
INPLACE_METHODS = {"add_": 1, "sub_": 1, "mul_": 1, "div_": 1, "fill_": 1, "zero_": 0}
_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_INPLACE = re.compile(
    rf"(?P<name>[A-Za-z_]\w*)(?P<via>\.data|\.detach\(\))?\.(?P<method>\w+)\(\s*(?P<arg>{_NUMBER})?\s*\)"
)


class InPlace(Op):
    key = "inplace"
    usage = (
        '{inplace: "x.add_(1)"}: x, x.data or x.detach(), then add_, sub_, mul_, div_ or fill_ (a number), or zero_()'
    )
    inplace: str

    @field_validator("inplace")
    @classmethod
    def _statement(cls, text: str) -> str:
        m = _INPLACE.fullmatch(text.strip())
        if m is None:
            raise ValueError("not an in-place statement")
        method, arg = m["method"], m["arg"]
        wanted = INPLACE_METHODS.get(method)
        if wanted is None or wanted != (arg is not None):
            raise ValueError(f"{method} is not one of the in-place methods, with its argument")
        return f"{m['name']}{m['via'] or ''}.{method}({arg or ''})"

    @property
    def parts(self) -> tuple[str, str, str, float | None]:
        """(name, via: "" | ".data" | ".detach()", method, its number or None)."""
        m = _INPLACE.fullmatch(self.inplace)
        assert m is not None
        return m["name"], m["via"] or "", m["method"], None if m["arg"] is None else float(m["arg"])

    def code(self, comp: Computation) -> list[str]:
        return [self.inplace]

    def names(self) -> list[tuple[str, bool]]:
        return [(self.parts[0], False)]


class SetData(Op):
    key = "set_data"
    usage = "{set_data: {x: 5.0}}"
    set_data: Annotated[dict[Name, TensorValue], Field(min_length=1)]

    def code(self, comp: Computation) -> list[str]:
        dtype = "" if comp.dtype == "float32" else f", dtype=torch.{comp.dtype}"
        return [f"{n}.data = torch.tensor({tensor_literal(v)}{dtype})" for n, v in self.set_data.items()]

    def names(self) -> list[tuple[str, bool]]:
        return [(n, False) for n in self.set_data]


class AutogradGradArgs(_Args):
    of: Name = Field(description="the tensor to differentiate (a scalar)")
    wrt: Name = Field(description="the tensor to differentiate with respect to")
    into: Name = Field(alias="as", description="the name the result gets, for later steps")
    create_graph: bool = Field(False, description="record the gradient's own graph (for a second derivative)")


class AutogradGrad(Op):
    key = "autograd_grad"
    usage = "{autograd_grad: {of: y, wrt: x, as: g}} (optionally create_graph: true)"
    changes = frozenset({"other"})  # a new tensor; .grad is left alone
    autograd_grad: AutogradGradArgs

    def code(self, comp: Computation) -> list[str]:
        a = self.autograd_grad
        flag = ", create_graph=True" if a.create_graph else ""
        return [f"{a.into} = torch.autograd.grad({a.of}, {a.wrt}{flag})[0]"]

    def names(self) -> list[tuple[str, bool]]:
        return [(self.autograd_grad.of, False), (self.autograd_grad.wrt, False)]

    def makes(self) -> str:
        return self.autograd_grad.into


class Hook(Op):
    key = "hook"
    usage = "{hook: y}"
    changes = frozenset()  # it prints during a later backward(), and changes nothing
    hook: Name

    def code(self, comp: Computation) -> list[str]:
        return [f'{self.hook}.register_hook(lambda grad: print("grad of {self.hook}:", grad))']

    def names(self) -> list[tuple[str, bool]]:
        return [(self.hook, False)]


OPERATIONS: dict[str, type[Op]] = {
    op.key: op
    for op in (
        Forward,
        Backward,
        ZeroGrad,
        RequiresGrad,
        Detach,
        RetainGrad,
        Set,
        GradToNone,
        Sgd,
        InPlace,
        SetData,
        AutogradGrad,
        Hook,
    )
}
RunOp = (
    Forward
    | Backward
    | ZeroGrad
    | RequiresGrad
    | Detach
    | RetainGrad
    | Set
    | GradToNone
    | Sgd
    | InPlace
    | SetData
    | AutogradGrad
    | Hook
)


def parse_op(raw: Any) -> Op:
    """One operation as written: a bare word or a one-key mapping."""
    if isinstance(raw, Op):
        return raw
    names = ", ".join(OPERATIONS)
    if isinstance(raw, str):
        op = OPERATIONS.get(raw)
        if op is None or not op.word:
            usage = f": write {op.usage}" if op else f" (operations: {names})"
            raise ValueError(f"unknown operation {quote(raw)}{usage}" if op is None else f"{raw} needs a value{usage}")
        return op()
    if not isinstance(raw, dict) or len(raw) != 1:
        raise ValueError("an operation is a word or a mapping with one key, like {zero_grad: x}")
    ((key, _),) = raw.items()
    op = OPERATIONS.get(key)
    if op is None:
        raise ValueError(f"unknown operation {quote(key)} (operations: {names})")
    try:
        return op.model_validate(raw)
    except ValidationError:
        raise ValueError(f"{key} is written {op.usage}") from None


def op_schema() -> dict:
    """The JSON Schema of one operation: a bare word or one of the models."""
    words = [key for key, op in OPERATIONS.items() if op.word]
    return {"anyOf": [{"enum": words}, *(_closed(op.model_json_schema()) for op in OPERATIONS.values())]}


def _closed(schema: dict) -> dict:
    schema = _inline(schema, schema.pop("$defs", {}))
    schema.pop("title", None)
    return {**schema, "minProperties": 1, "maxProperties": 1}


def _inline(schema: Any, defs: dict) -> Any:
    """The schema with its local `$ref`s replaced by their definitions (it is
    embedded in the lesson's schema, where `#/$defs/...` means something else)."""
    if isinstance(schema, dict):
        ref = schema.get("$ref", "")
        if ref.startswith("#/$defs/"):
            return _inline(defs[ref.removeprefix("#/$defs/")], defs)
        return {k: _inline(v, defs) for k, v in schema.items()}
    if isinstance(schema, list):
        return [_inline(v, defs) for v in schema]
    return schema
