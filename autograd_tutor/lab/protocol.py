"""What the server and the warm parent say to each other.

An AF_UNIX SOCK_SEQPACKET pair: one message per datagram, a JSON object whose "op" names
its type, and at most one file descriptor passed with it (SCM_RIGHTS). Every message is
one of the dataclasses below; `decode` checks each field's type, so a malformed message
is a `ProtocolError`, never a KeyError deep in a handler.

    server -> parent   Spawn   End
    parent -> server   Ready   Spawned (+ the server's side: a pty master, or a web socket) | Failed   Exited
"""

from __future__ import annotations

import json
import os
import socket
import types
import typing
from dataclasses import MISSING, asdict, dataclass, fields

MAX_MESSAGE = 65536


class ProtocolError(ValueError):
    pass


@dataclass(frozen=True)
class Spawn:
    """Start a tutor for `student`: on a pseudo-terminal (`front` "terminal") or on a
    socket speaking Textual's web driver protocol (`front` "web")."""

    id: int
    student: str
    front: str
    term: str
    cols: int
    rows: int
    colorterm: bool = False  # the client's terminal shows 24-bit colour


@dataclass(frozen=True)
class End:
    """SIGTERM the session's process group; SIGKILL it `grace` seconds later."""

    pid: int
    grace: float


@dataclass(frozen=True)
class Ready:
    lessons: int
    problems: list[str]


@dataclass(frozen=True)
class Spawned:
    """The tutor's pid; the server's side of its terminal or socket comes with it."""

    id: int
    pid: int


@dataclass(frozen=True)
class Failed:
    id: int
    error: str


@dataclass(frozen=True)
class Exited:
    pid: int
    status: int


Message = Spawn | End | Ready | Spawned | Failed | Exited
_TYPES: dict[str, type] = {cls.__name__.lower(): cls for cls in typing.get_args(Message)}
FRONTS = ("terminal", "web")


def encode(message: Message) -> bytes:
    return json.dumps({"op": type(message).__name__.lower(), **asdict(message)}).encode()


def decode(data: bytes) -> Message:
    try:
        raw = json.loads(data)
    except (ValueError, RecursionError) as err:
        raise ProtocolError(f"not JSON: {err}") from None
    if not isinstance(raw, dict) or raw.get("op") not in _TYPES:
        raise ProtocolError("no known op")
    cls = _TYPES[raw.pop("op")]
    hints = typing.get_type_hints(cls)
    values = {}
    for field in fields(cls):
        if field.name not in raw:
            if field.default is MISSING:
                raise ProtocolError(f"{cls.__name__}: no {field.name}")
            continue
        value = raw[field.name]
        if not _fits(value, hints[field.name]):
            raise ProtocolError(f"{cls.__name__}.{field.name}: {type(value).__name__}")
        values[field.name] = value
    message = cls(**values)
    if isinstance(message, Spawn) and message.front not in FRONTS:
        raise ProtocolError(f"Spawn.front: {message.front[:20]!r}")
    return message


def _fits(value: object, hint: object) -> bool:
    origin = typing.get_origin(hint)
    if origin is list:
        (item,) = typing.get_args(hint)
        return isinstance(value, list) and all(_fits(v, item) for v in value)
    if origin in (typing.Union, types.UnionType):
        return any(_fits(value, h) for h in typing.get_args(hint))
    if hint is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, hint)  # type: ignore[arg-type]


def send(sock: socket.socket, message: Message, fd: int | None = None) -> None:
    """One message (and `fd`, if given); raises BlockingIOError or OSError like socket.send."""
    data = encode(message)
    if fd is None:
        sock.send(data)
    else:
        socket.send_fds(sock, [data], [fd])


def receive(sock: socket.socket) -> tuple[Message | None, int | None]:
    """The next message and the descriptor that came with it; (None, None) when the other
    end has closed. Extra descriptors are closed; a malformed message raises
    ProtocolError (its descriptor closed)."""
    data, fds, _flags, _addr = socket.recv_fds(sock, MAX_MESSAGE, 2)
    for extra in fds[1:]:
        os.close(extra)
    fd = fds[0] if fds else None
    if not data:
        if fd is not None:
            os.close(fd)
        return None, None
    try:
        return decode(data), fd
    except ProtocolError:
        if fd is not None:
            os.close(fd)
        raise
