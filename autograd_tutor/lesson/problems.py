"""Located problems: what `validate` prints as FILE:LINE:COL: severity: message."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    file: str
    line: int  # 1-based; 0 for a problem of a whole path (a missing file, an empty directory)
    col: int  # 1-based; 0 with line 0
    message: str
    severity: str = "error"  # or "warning"

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.col}" if self.line else self.file
        return f"{where}: {self.severity}: {self.message}"

    def as_dict(self) -> dict:
        return {
            "file": self.file,
            "line": self.line,
            "col": self.col,
            "severity": self.severity,
            "message": self.message,
        }


class LessonInvalid(Exception):
    """A lesson that cannot be played; `problems` says where and why."""

    def __init__(self, problems: list[Problem]):
        super().__init__("\n".join(map(str, problems)))
        self.problems = problems


QUOTE_LIMIT = 24


def quote(text: object, limit: int = QUOTE_LIMIT) -> str:
    """Text from a file, as a message may show it: at most `limit` characters,
    control characters escaped, so that a message never echoes a whole line of
    a file that is not a lesson (or a terminal escape sequence)."""
    text = str(text)
    if len(text) > limit:
        return repr(text[:limit]) + "…"
    return repr(text)
