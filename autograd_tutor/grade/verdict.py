"""A judged answer: correct, wrong (with a diagnosis where one holds) or invalid."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Status = Literal["correct", "wrong", "invalid"]


@dataclass(frozen=True)
class Verdict:
    status: Status
    feedback: str = ""
    diagnosis: str | None = None  # a stable tag (docs/lesson-format.md lists them): sign, missing_factor, ...
    read_as: str = ""  # how the answer was understood, e.g. 2·x·cos(x²)
    col: int | None = None  # where an invalid answer goes wrong (0-based)

    @classmethod
    def right(cls, read_as: str = "") -> Verdict:
        return cls("correct", read_as=read_as)

    @classmethod
    def wrong(cls, feedback: str, diagnosis: str | None = None, read_as: str = "") -> Verdict:
        return cls("wrong", feedback, diagnosis, read_as)

    @classmethod
    def invalid(cls, message: str, col: int | None = 0) -> Verdict:
        return cls("invalid", message, col=col)

    @property
    def correct(self) -> bool:
        return self.status == "correct"
