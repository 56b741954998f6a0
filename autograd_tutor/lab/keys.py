"""The authorized-keys file of `serve`: OpenSSH's format, one key per student.

Each key names its student, and the student is taken from the key, never from the
user name the client sends:

    environment="STUDENT=alice" ssh-ed25519 AAAAC3Nz... anything
    ssh-ed25519 AAAAC3Nz... bob

`environment="STUDENT=NAME"` wins; otherwise the comment must be the name itself. A line
whose key names no valid student, repeats a key, or carries an option this server cannot
honour (`from=`, `command=`, ...) is reported and skipped: it lets nobody in.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from ..progress import valid_student

# Options that restrict what OpenSSH allows; the tutor server allows less anyway.
_HARMLESS = {
    "restrict",
    "pty",
    "no-pty",
    "no-port-forwarding",
    "no-agent-forwarding",
    "no-x11-forwarding",
    "no-user-rc",
    "no-touch-required",
    "verify-required",
}
_KEY_TYPES = ("ssh-", "ecdsa-sha2-", "sk-ssh-", "sk-ecdsa-")


@dataclass
class AuthorizedKeys:
    path: Path
    students: dict[bytes, str] = field(default_factory=dict)  # public key blob -> student
    problems: list[str] = field(default_factory=list)
    stamp: tuple[int, int] | None = None  # (mtime_ns, size) of the file read

    def student(self, key) -> str | None:
        """The student an asyncssh public key belongs to, or None."""
        return self.students.get(key.public_data)

    def reload_if_changed(self) -> bool:
        """Read the file again when it changed (students added while the server runs)."""
        try:
            info = os.stat(self.path)
        except OSError:
            return False
        if (info.st_mtime_ns, info.st_size) == self.stamp:
            return False
        fresh = read_authorized_keys(self.path)
        self.students, self.problems, self.stamp = fresh.students, fresh.problems, fresh.stamp
        return True


def read_authorized_keys(path: Path) -> AuthorizedKeys:
    """Parse the file; OSError when it cannot be read."""
    info = os.stat(path)
    text = Path(path).read_text(encoding="utf-8", errors="replace")
    keys = AuthorizedKeys(Path(path), stamp=(info.st_mtime_ns, info.st_size))
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        where = f"{path}:{number}"
        try:
            blob, student = _parse_line(line)
        except ValueError as err:
            keys.problems.append(f"{where}: {err}; line skipped")
            continue
        if blob in keys.students:
            keys.problems.append(f"{where}: this key is already {keys.students[blob]}'s; line skipped")
            continue
        keys.students[blob] = student
    return keys


def _parse_line(line: str) -> tuple[bytes, str]:
    import asyncssh

    options = ""
    if not line.startswith(_KEY_TYPES):
        options, line = _split_options(line)
    parts = line.split(None, 2)
    if len(parts) < 2:
        raise ValueError("not a public key line")
    kind, data = parts[0], parts[1]
    comment = parts[2].strip() if len(parts) > 2 else ""
    try:
        key = asyncssh.import_public_key(f"{kind} {data}")
    except (asyncssh.KeyImportError, ValueError) as err:
        raise ValueError(f"cannot read the key ({err})") from None
    named = None
    for option in _options(options):
        name, _, value = option.partition("=")
        name = name.lower()
        if name == "environment":
            var, _, val = _unquote(value).partition("=")
            if var == "STUDENT":
                named = val
        elif name not in _HARMLESS:
            raise ValueError(f"option {name!r} is not supported by autograd-tutor serve")
    if named is None and valid_student(comment):
        named = comment
    if named is None:
        raise ValueError('the key names no student (add environment="STUDENT=NAME" or make the comment the name)')
    if not valid_student(named):
        raise ValueError(f"{named!r} is not a valid student name (letters, digits, . _ -; at most 64)")
    return key.public_data, named


def _split_options(line: str) -> tuple[str, str]:
    """The leading options field (up to unquoted whitespace) and the rest."""
    quoted = False
    i = 0
    while i < len(line):
        ch = line[i]
        if ch == "\\" and quoted and i + 1 < len(line):
            i += 2
            continue
        if ch == '"':
            quoted = not quoted
        elif ch in " \t" and not quoted:
            return line[:i], line[i:].lstrip()
        i += 1
    raise ValueError("options but no key")


def _options(field: str) -> list[str]:
    """Split `a,b="x,y",c` at the commas outside quotes."""
    options, current, quoted, i = [], [], False, 0
    while i < len(field):
        ch = field[i]
        if ch == "\\" and quoted and i + 1 < len(field):
            current += field[i : i + 2]
            i += 2
            continue
        if ch == '"':
            quoted = not quoted
        if ch == "," and not quoted:
            options.append("".join(current))
            current = []
        else:
            current.append(ch)
        i += 1
    if current:
        options.append("".join(current))
    return [o for o in options if o]


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1].replace('\\"', '"')
    return value
