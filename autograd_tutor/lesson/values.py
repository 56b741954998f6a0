"""Values as a lesson file writes them: numbers, vectors, matrices, names."""

from __future__ import annotations

import math
from typing import Annotated, Any

import numpy as np
from pydantic import BeforeValidator, WithJsonSchema

from .problems import quote

NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
MAX_ELEMENTS = 1024  # a lesson is small; this bounds the work of every check

# Checked by the loader (with a located message); the pattern is for editors.
Name = Annotated[str, WithJsonSchema({"type": "string", "pattern": NAME_PATTERN})]


def number(value: Any) -> float:
    if isinstance(value, str) and reads_as_number(value):  # the lesson reader reads 1e-8 as a number: quoted
        raise ValueError(f"expected a number, got the text {quote(value)}: write the number without quotes")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"expected a number, got {quote(value)}")
    try:
        result = float(value)
    except OverflowError:
        raise ValueError("expected a finite number") from None
    if not math.isfinite(result):
        raise ValueError("expected a finite number")
    return result


def tensor_value(value: Any) -> float | list:
    """A number, a list of numbers (a vector) or a list of equal rows (a matrix)."""
    if not isinstance(value, list):
        return number(value)
    if not value:
        raise ValueError("a vector needs at least one number")
    if all(isinstance(v, list) for v in value):
        rows = [[number(x) for x in row] for row in value]
        if any(not row for row in rows):
            raise ValueError("a matrix row needs at least one number")
        if len({len(row) for row in rows}) > 1:
            lengths = ", ".join(str(len(row)) for row in rows)
            raise ValueError(f"the rows of a matrix must have the same length (these have {lengths})")
        if len(rows) * len(rows[0]) > MAX_ELEMENTS:
            raise ValueError(f"too many numbers (at most {MAX_ELEMENTS})")
        return rows
    if any(isinstance(v, list) for v in value):
        raise ValueError("a matrix is a list of rows, each a list of numbers: [[1, 2], [3, 4]]")
    if len(value) > MAX_ELEMENTS:
        raise ValueError(f"too many numbers (at most {MAX_ELEMENTS})")
    return [number(v) for v in value]


_VECTOR = {"type": "array", "items": {"type": "number"}, "minItems": 1}
_TENSOR_SCHEMA = {"anyOf": [{"type": "number"}, _VECTOR, {"type": "array", "items": _VECTOR, "minItems": 1}]}
TensorValue = Annotated[
    float | list[float] | list[list[float]],
    BeforeValidator(tensor_value),
    WithJsonSchema(_TENSOR_SCHEMA),  # for editors: vectors and rows are never empty
]


def array(value: float | list) -> np.ndarray:
    return np.asarray(value, dtype=float)


def tensor_literal(value: Any) -> str:
    """A value as the literal inside `torch.tensor(...)`."""
    data = np.asarray(value, dtype=float).tolist()
    return repr(data)


def reads_as_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return text.strip().lower() not in ("nan", "inf", "-inf", "+inf", "infinity", "-infinity")
