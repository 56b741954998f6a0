"""The lesson format (format 1, with the additions of version 1.1) as typed
models: the contract in docs/lesson-format.md. `autograd-tutor schema` prints
their JSON Schema."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema, model_validator

from .ops import Op, op_schema, parse_op
from .problems import quote
from .values import NAME_PATTERN, Name, TensorValue, number, tensor_value  # noqa: F401 - re-exported

PROPERTIES = ("grad", "requires_grad", "is_leaf", "grad_fn", "_version")
DEFAULT_TOLERANCE = {"float16": (1e-2, 1e-3), "float32": (5e-3, 5e-5), "float64": (5e-3, 5e-5)}
STEP_KINDS = ("forward", "local", "gradient", "backprop", "run", "predict", "choose")  # the kind keys (plus explain)
_ONLY_NAMES = {"additionalProperties": False}  # for editors: a key that is not a name (`α:`) is refused


def answer_text(value: Any) -> str:
    """Answers may be written as YAML numbers, booleans or lists: keep them as text."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(answer_text(v) for v in value) + "]"
    if isinstance(value, str):
        return value
    raise ValueError(f"expected an answer (text, a number or a list), got {quote(value)}")


AnswerText = Annotated[str, BeforeValidator(answer_text, json_schema_input_type=str | float | bool | list)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class Tolerance(_Strict):
    rtol: float = Field(ge=0, le=1, description="relative tolerance")
    atol: float = Field(ge=0, description="absolute tolerance")


class Range(_Strict):
    """`sample: {low: L, high: H, step: S}`: uniform on [L, H], or on the grid L, L+S, … ≤ H."""

    low: Annotated[float, BeforeValidator(number)]
    high: Annotated[float, BeforeValidator(number)]
    step: Annotated[float, BeforeValidator(number)] | None = Field(None, gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> Range:
        if self.low > self.high:
            raise ValueError(f"low ({self.low}) must not be above high ({self.high})")
        return self


def _sample(raw: Any) -> Any:
    """`fixed`, a list of values, or {low, high, step}: one clear message for each."""
    if isinstance(raw, str):
        if raw != "fixed":
            raise ValueError(f"sample is `fixed`, a list of values or {{low: L, high: H}}, not {quote(raw)}")
        return raw
    if isinstance(raw, list):
        if not raw:
            raise ValueError("a sample list needs at least one value")
        return [tensor_value(v) for v in raw]
    if isinstance(raw, dict):
        return Range.model_validate(raw)
    raise ValueError("sample is `fixed`, a list of values, or {low: L, high: H} (optionally with step: S)")


Sample = Annotated[
    Literal["fixed"] | list[TensorValue] | Range,
    BeforeValidator(_sample),
]


class Input(_Strict):
    value: TensorValue = Field(description="a number, a list of numbers (a vector) or a list of rows (a matrix)")
    requires_grad: bool = False
    sample: Sample | None = Field(
        None, description="where test points and variants may move it: fixed, a list of values, or {low, high, step}"
    )


def _input(value: Any) -> Any:
    return {"value": value} if not isinstance(value, dict) else value


class Mistake(_Strict):
    answer: AnswerText
    feedback: str


class Option(_Strict):
    """One option of a `choose` step."""

    model_config = ConfigDict(frozen=True)

    text: str = Field(min_length=1, description="Markdown; {name} works")
    correct: bool = False
    feedback: str | None = Field(None, description="why this option is right or wrong (required on a wrong one)")


class LessonTest(_Strict):
    """A lesson test (as STACK's question tests): how one answer to one step must be judged."""

    step: int = Field(ge=0, description="the step's index, from 0, as `steps` lists it")
    answer: AnswerText
    expect: Literal["correct", "wrong", "invalid"]
    diagnosis: str | None = Field(None, description="the diagnosis tag the verdict must carry")


def _op_list(raw: Any) -> list:
    items = raw if isinstance(raw, list) else [raw]
    if not items:
        raise ValueError("a run step needs at least one operation")
    return items


_RUN_SCHEMA = {"anyOf": [op_schema(), {"type": "array", "items": op_schema(), "minItems": 1}]}


def _hints(raw: Any) -> list[str]:
    items = raw if isinstance(raw, list) else [raw]
    if not all(isinstance(h, str) for h in items):
        raise ValueError("a hint is text, or a list of texts from gentle to strong")
    return items


Pair = Annotated[list[Name], Field(min_length=2, max_length=2)]


class StepSpec(_Strict):
    """A step: exactly one kind key, plus optional common fields."""

    forward: Name | None = Field(None, description="ask for (or show) the value of this node")
    local: Pair | None = Field(None, description="[of, wrt]: the factor ∂of/∂wrt")
    gradient: Name | None = Field(None, description="ask for d(output)/d(this)")
    backprop: Pair | None = Field(None, description="[y, W]: what flows into W from grad_y through y's operation")
    run: (
        Annotated[
            list[Annotated[Op, BeforeValidator(parse_op)]], BeforeValidator(_op_list), WithJsonSchema(_RUN_SCHEMA)
        ]
        | None
    ) = Field(None, description="operations on the live state")
    predict: str | None = Field(
        None, description="N.grad, N.requires_grad, N.is_leaf, N.grad_fn, N._version or N (its value)"
    )
    choose: str | None = Field(None, description="a multiple-choice question (Markdown); its options in `options`")
    options: list[Option] | None = Field(None, description="choose: at least 2 options, at least one correct")
    explain: str | None = Field(None, description="Markdown: the step itself, or shown once the step is solved")
    id: str | None = Field(None, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", description="keeps progress across edits")
    ask: bool | Literal["outcome"] | None = Field(None, description="forward: false only shows; run: outcome")
    form: Literal["formula", "number", "any"] = Field("any", description="the form of answer the step wants")
    prompt: str | None = None
    hint: Annotated[list[str], BeforeValidator(_hints, json_schema_input_type=str | list[str])] | None = None
    answer: AnswerText | None = None
    mistakes: list[Mistake] = []
    skills: list[str] = []

    @model_validator(mode="after")
    def _one_kind(self) -> StepSpec:
        kinds = [k for k in STEP_KINDS if getattr(self, k) is not None]
        if len(kinds) > 1:
            raise ValueError(f"a step has exactly one kind; this one has {' and '.join(kinds)}")
        if not kinds and self.explain is None:
            raise ValueError(f"a step needs a kind: one of {', '.join((*STEP_KINDS, 'explain'))}")
        return self

    @property
    def kind(self) -> str:
        return next((k for k in STEP_KINDS if getattr(self, k) is not None), "explain")


class LessonSpec(_Strict):
    format: Literal[1]
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    title: str = Field(min_length=1)
    summary: str | None = None
    level: int | None = Field(None, ge=1, le=5)
    tags: list[str] = []
    skills: list[str] = []
    intro: str | None = None
    recap: str | None = Field(None, description="Markdown: what the learner takes away, shown in the summary")
    dtype: Literal["float16", "float32", "float64"] = "float32"
    tolerance: Tolerance | None = None
    variants: bool = Field(False, description="give each learner their own numbers, and new ones on restart")
    inputs: dict[Name, Annotated[Input, BeforeValidator(_input, json_schema_input_type=Input | TensorValue)]] = Field(
        min_length=1, json_schema_extra=_ONLY_NAMES
    )
    nodes: dict[Name, str] = Field(min_length=1, json_schema_extra=_ONLY_NAMES)
    output: Name | None = None
    grad_output: TensorValue | None = Field(None, description="for a non-scalar output: output.backward(grad_output)")
    steps: list[StepSpec] | None = Field(None, min_length=1, description="omit for the automatic sequence")
    tests: list[LessonTest] = []

    def tolerances(self) -> tuple[float, float]:
        if self.tolerance is not None:
            return self.tolerance.rtol, self.tolerance.atol
        return DEFAULT_TOLERANCE[self.dtype]


def json_schema() -> dict:
    schema = LessonSpec.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "autograd-tutor lesson, format 1"
    return schema
