"""The lesson format, version 1, as typed models (the contract in
docs/lesson-format.md). `autograd-tutor schema` prints their JSON Schema."""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema, model_validator

KINDS = ("forward", "local", "gradient", "run", "predict")
PROPERTIES = ("grad", "requires_grad", "is_leaf", "grad_fn")
OPERATIONS = ("forward", "backward", "zero_grad", "requires_grad", "detach", "retain_grad", "set")
DEFAULT_TOLERANCE = {"float16": (1e-2, 1e-3), "float32": (5e-3, 5e-5), "float64": (5e-3, 5e-5)}

NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"


def _number(value: Any) -> float:
    if isinstance(value, str) and _looks_numeric(value):
        # YAML 1.1 reads 1e-8 as text: a float needs a dot, as in 1.0e-8
        raise ValueError(f"expected a number, got the text {value!r}: write it as {_yaml_float(value)}")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"expected a number, got {value!r}")
    if not math.isfinite(value):
        raise ValueError("expected a finite number")
    return float(value)


def _tensor_value(value: Any) -> float | list[float]:
    if isinstance(value, list):
        if not value:
            raise ValueError("a vector needs at least one number")
        return [_number(v) for v in value]
    return _number(value)


def _looks_numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return text.strip().lower() not in ("nan", "inf", "-inf", "+inf", "infinity", "-infinity")


def _yaml_float(text: str) -> str:
    mantissa, _, exponent = text.lower().partition("e")
    mantissa = mantissa if "." in mantissa else mantissa + ".0"
    sign = "" if exponent.startswith(("-", "+")) else "+"
    return f"{mantissa}e{sign}{exponent}" if exponent else mantissa


TensorValue = Annotated[float | list[float], BeforeValidator(_tensor_value)]


def answer_text(value: Any) -> str:
    """Answers may be written as YAML numbers, booleans or lists: keep them as text."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(answer_text(v) for v in value) + "]"
    if isinstance(value, str):
        return value
    raise ValueError(f"expected an answer (text, a number or a list), got {value!r}")


AnswerText = Annotated[str, BeforeValidator(answer_text, json_schema_input_type=str | float | bool | list[float])]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class Tolerance(_Strict):
    rtol: float = Field(ge=0, le=1, description="relative tolerance")
    atol: float = Field(ge=0, description="absolute tolerance")


class Input(_Strict):
    value: TensorValue = Field(description="a number or a list of numbers (a 1-D vector)")
    requires_grad: bool = False


def _input(value: Any) -> Any:
    return {"value": value} if not isinstance(value, dict) else value


class Mistake(_Strict):
    answer: AnswerText
    feedback: str


class RunOp(BaseModel):
    """One operation of a `run` step: a bare word or a one-key mapping."""

    op: str
    arg: Any = None

    @classmethod
    def parse(cls, raw: Any) -> RunOp:
        if isinstance(raw, str):
            if raw not in ("forward", "backward"):
                raise ValueError(f"unknown operation {raw!r} (operations: {', '.join(OPERATIONS)})")
            return cls(op=raw)
        if not isinstance(raw, dict) or len(raw) != 1:
            raise ValueError("an operation is a word or a mapping with one key, like {zero_grad: x}")
        ((op, arg),) = raw.items()
        if op not in OPERATIONS:
            raise ValueError(f"unknown operation {op!r} (operations: {', '.join(OPERATIONS)})")
        expect = {
            "forward": (arg == "no_grad", "forward takes only no_grad: {forward: no_grad}"),
            "backward": (arg == "retain_graph", "backward takes only retain_graph: {backward: retain_graph}"),
            "zero_grad": (isinstance(arg, str), "zero_grad takes a name: {zero_grad: x}"),
            "detach": (isinstance(arg, str), "detach takes a name: {detach: x}"),
            "retain_grad": (isinstance(arg, str), "retain_grad takes a name: {retain_grad: y}"),
            "requires_grad": (
                isinstance(arg, dict) and len(arg) >= 1 and all(isinstance(v, bool) for v in arg.values()),
                "requires_grad takes names and booleans: {requires_grad: {x: false}}",
            ),
            "set": (isinstance(arg, dict) and len(arg) >= 1, "set takes names and values: {set: {x: 3.0}}"),
        }
        ok, usage = expect[op]
        if not ok:
            raise ValueError(usage)
        if op == "set":
            arg = {name: _tensor_value(v) for name, v in arg.items()}
        return cls(op=op, arg=arg)


_NAME = {"type": "string", "pattern": NAME_PATTERN}
_ONE_KEY = {"type": "object", "minProperties": 1, "maxProperties": 1}
_OP_SCHEMA = {
    "anyOf": [
        {"enum": ["forward", "backward"]},
        {**_ONE_KEY, "properties": {"forward": {"const": "no_grad"}}, "required": ["forward"]},
        {**_ONE_KEY, "properties": {"backward": {"const": "retain_graph"}}, "required": ["backward"]},
        *({**_ONE_KEY, "properties": {op: _NAME}, "required": [op]} for op in ("zero_grad", "detach", "retain_grad")),
        {
            **_ONE_KEY,
            "properties": {"requires_grad": {"type": "object", "additionalProperties": {"type": "boolean"}}},
            "required": ["requires_grad"],
        },
        {
            **_ONE_KEY,
            "properties": {
                "set": {
                    "type": "object",
                    "additionalProperties": {
                        "anyOf": [{"type": "number"}, {"type": "array", "items": {"type": "number"}}]
                    },
                }
            },
            "required": ["set"],
        },
    ]
}
_RUN_SCHEMA = {"anyOf": [_OP_SCHEMA, {"type": "array", "items": _OP_SCHEMA, "minItems": 1}]}


def _op_list(raw: Any) -> list:
    items = raw if isinstance(raw, list) else [raw]
    if not items:
        raise ValueError("a run step needs at least one operation")
    return items


def _hints(raw: Any) -> list[str]:
    items = raw if isinstance(raw, list) else [raw]
    if not all(isinstance(h, str) for h in items):
        raise ValueError("a hint is text, or a list of texts from gentle to strong")
    return items


class StepSpec(_Strict):
    """A step: exactly one kind key, plus optional common fields."""

    forward: str | None = Field(None, description="ask for (or show) the value of this node")
    local: list[str] | None = Field(None, min_length=2, max_length=2, description="[of, wrt]: the factor ∂of/∂wrt")
    gradient: str | None = Field(None, description="ask for d(output)/d(this)")
    run: (
        Annotated[
            list[Annotated[RunOp, BeforeValidator(RunOp.parse)]], BeforeValidator(_op_list), WithJsonSchema(_RUN_SCHEMA)
        ]
        | None
    ) = Field(None, description="operations on the live state")
    predict: str | None = Field(None, description="N.grad, N.requires_grad, N.is_leaf, N.grad_fn or N")
    explain: str | None = Field(None, description="Markdown: the step itself, or shown once the step is solved")
    ask: bool | Literal["outcome"] | None = Field(None, description="forward: false only shows; run: outcome")
    prompt: str | None = None
    hint: Annotated[list[str], BeforeValidator(_hints, json_schema_input_type=str | list[str])] | None = None
    answer: AnswerText | None = None
    mistakes: list[Mistake] = []

    @model_validator(mode="after")
    def _one_kind(self) -> StepSpec:
        kinds = [k for k in KINDS if getattr(self, k) is not None]
        if len(kinds) > 1:
            raise ValueError(f"a step has exactly one kind; this one has {' and '.join(kinds)}")
        if not kinds and self.explain is None:
            raise ValueError(f"a step needs a kind: one of {', '.join((*KINDS, 'explain'))}")
        return self

    @property
    def kind(self) -> str:
        return next((k for k in KINDS if getattr(self, k) is not None), "explain")


class LessonSpec(_Strict):
    format: Literal[1]
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    title: str = Field(min_length=1)
    summary: str | None = None
    level: int | None = Field(None, ge=1, le=5)
    tags: list[str] = []
    intro: str | None = None
    recap: str | None = Field(None, description="Markdown: what the learner takes away, shown in the summary")
    dtype: Literal["float16", "float32", "float64"] = "float32"
    tolerance: Tolerance | None = None
    inputs: dict[str, Annotated[Input, BeforeValidator(_input, json_schema_input_type=Input | float | list[float])]] = (
        Field(min_length=1)
    )
    nodes: dict[str, str] = Field(min_length=1)
    output: str | None = None
    steps: list[StepSpec] | None = Field(None, min_length=1, description="omit for the automatic sequence")

    def tolerances(self) -> tuple[float, float]:
        if self.tolerance is not None:
            return self.tolerance.rtol, self.tolerance.atol
        return DEFAULT_TOLERANCE[self.dtype]


def json_schema() -> dict:
    schema = LessonSpec.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "autograd-tutor lesson, format 1"
    return schema
