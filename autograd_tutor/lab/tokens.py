"""The students file of `autograd-tutor web`: one student per line, with their secret token.

    # names the instructor writes; `web --students FILE` adds a token to each line without one
    alice 3q9o0yb1U8m2lE3cJ0bNw6s3TdtKxC3t
    bob

A token is 32 random URL-safe characters (`secrets`); the student's link is
`PUBLIC_URL/t/TOKEN`. Tokens are compared in constant time, against every student each
time, so neither a wrong token nor a right one takes longer than another.
"""

from __future__ import annotations

import hmac
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from ..progress import valid_student

TOKEN_BYTES = 24  # 32 characters of base64


@dataclass
class StudentTokens:
    path: Path
    tokens: dict[str, str] = field(default_factory=dict)  # student -> token
    problems: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)  # students given a new token by `read`

    def student(self, token: str | None) -> str | None:
        """Whose token this is, or None; compared in constant time with every token."""
        if not token:
            return None
        offered = token.encode("utf-8", "replace")[:128]
        found = None
        for student, known in self.tokens.items():
            if hmac.compare_digest(offered, known.encode()):
                found = student
        return found


def read_tokens(path: Path) -> StudentTokens:
    """Read the file, give a token to every student without one and write it back
    (atomically, mode 0600) if any was added. OSError when it cannot be read or written."""
    lines = path.read_text(encoding="utf-8").splitlines()
    result = StudentTokens(path)
    out: list[str] = []
    for number, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            out.append(raw)
            continue
        parts = line.split()
        name = parts[0]
        if not valid_student(name) or len(parts) > 2:
            result.problems.append(f"{path}:{number}: not `NAME [TOKEN]` with a student name; line skipped")
            out.append(raw)
            continue
        if name in result.tokens:
            result.problems.append(f"{path}:{number}: {name} is listed twice; line skipped")
            out.append(raw)
            continue
        token = parts[1] if len(parts) == 2 else None
        if token is not None and len(token) < 16:
            result.problems.append(f"{path}:{number}: {name}'s token is too short (16 characters at least)")
            token = None
        if token is None:
            token = secrets.token_urlsafe(TOKEN_BYTES)
            result.added.append(name)
        result.tokens[name] = token
        out.append(f"{name} {token}")
    if result.added:
        _write(path, "\n".join(out) + "\n")
    return result


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
    os.replace(tmp, path)
