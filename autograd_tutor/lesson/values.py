"""Values as a lesson file writes them: numbers, vectors, matrices, names."""

from __future__ import annotations

import math
from typing import Annotated, Any

import numpy as np
from pydantic import BeforeValidator, WithJsonSchema

NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
MAX_ELEMENTS = 1024  # a lesson is small; this bounds the work of every check

# Checked by the loader (with a located message); the pattern is for editors.
Name = Annotated[str, WithJsonSchema({"type": "string", "pattern": NAME_PATTERN})]


def number(value: Any) -> float:
    if isinstance(value, str) and _looks_numeric(value):
        # YAML 1.1 reads 1e-8 as text: a float needs a dot, as in 1.0e-8
        raise ValueError(f"expected a number, got the text {value!r}: write it as {yaml_float(value)}")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"expected a number, got {value!r}")
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


TensorValue = Annotated[
    float | list[float] | list[list[float]],
    BeforeValidator(tensor_value),
]


def array(value: float | list) -> np.ndarray:
    return np.asarray(value, dtype=float)


def tensor_literal(value: Any) -> str:
    """A value as the literal inside `torch.tensor(...)`."""
    data = np.asarray(value, dtype=float).tolist()
    return repr(data)


def _looks_numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return text.strip().lower() not in ("nan", "inf", "-inf", "+inf", "infinity", "-infinity")


def yaml_float(text: str) -> str:
    mantissa, _, exponent = text.lower().partition("e")
    mantissa = mantissa if "." in mantissa else mantissa + ".0"
    sign = "" if exponent.startswith(("-", "+")) else "+"
    return f"{mantissa}e{sign}{exponent}" if exponent else mantissa
