"""How a server starts tutors: the `Spawner` protocol, and `ForkSpawner`, the server's
handle on the warm parent (`parent.py`) that forks them.

The server's sessions only ever talk to a `Spawner`, so they can be tested with a fake
one on an `os.openpty` pair, and a benchmark can swap in a process-per-session spawner.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import os
import signal
import socket
import time
from collections.abc import Callable
from typing import Protocol

from . import parent, protocol
from .protocol import End, Exited, Failed, ProtocolError, Ready, Spawn, Spawned


class SpawnerLost(RuntimeError):
    """The process that starts tutors is gone."""


class Spawner(Protocol):
    lessons: int  # how many lessons the tutors offer (known once ready)
    problems: list[str]  # problems met loading them
    on_lost: Callable[[], None] | None  # called once if the spawner goes away

    def wait_ready(self) -> None:
        """Block until tutors can be started (before the event loop runs); SpawnerLost if never."""

    def attach(self, loop: asyncio.AbstractEventLoop) -> None: ...

    async def spawn(self, fd: int, request: Spawn) -> int:
        """Start a tutor on `fd` (closed by this call, whatever happens); its pid."""

    def end(self, pid: int, grace: float) -> None:
        """SIGTERM the tutor's process group, SIGKILL it `grace` seconds later."""

    def exit_status(self, pid: int) -> asyncio.Future:
        """Resolved with the tutor's exit status (None if the spawner went away)."""

    def forget(self, pid: int) -> None: ...

    def close(self) -> None: ...

    def join(self, timeout: float) -> int | None: ...


class ForkSpawner:
    """The server's end of the warm parent. `start` before any event loop exists."""

    def __init__(self, pid: int, sock: socket.socket):
        self.pid = pid
        self.sock = sock
        self.lessons = 0
        self.problems: list[str] = []
        self.on_lost: Callable[[], None] | None = None
        self.lost = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._next_id = 0
        self._spawning: dict[int, asyncio.Future] = {}
        self._exits: dict[int, asyncio.Future] = {}
        self._queue: collections.deque[tuple[protocol.Message, int | None]] = collections.deque()
        self._writing = False

    @classmethod
    def start(cls, options: parent.Options) -> ForkSpawner:
        return cls(*parent.start(options))

    def wait_ready(self, timeout: float = 180) -> None:
        self.sock.settimeout(timeout)
        try:
            message, fd = protocol.receive(self.sock)
        except (OSError, ProtocolError) as err:
            raise SpawnerLost(f"the session parent did not start: {err}") from None
        if fd is not None:
            os.close(fd)
        if not isinstance(message, Ready):
            raise SpawnerLost("the session parent exited while loading")
        self.lessons, self.problems = message.lessons, message.problems

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self.sock.setblocking(False)
        loop.add_reader(self.sock.fileno(), self._readable)

    async def spawn(self, fd: int, request: Spawn) -> int:
        if self.lost:
            os.close(fd)
            raise SpawnerLost("the session parent is gone")
        self._next_id += 1
        request = dataclasses.replace(request, id=self._next_id)
        future = self._loop.create_future()
        self._spawning[request.id] = future
        self._send(request, fd)
        return await future

    def end(self, pid: int, grace: float) -> None:
        if not self.lost:
            self._send(End(pid, grace))

    def exit_status(self, pid: int) -> asyncio.Future:
        if pid not in self._exits:
            self._exits[pid] = self._loop.create_future()
        return self._exits[pid]

    def forget(self, pid: int) -> None:
        self._exits.pop(pid, None)

    def close(self) -> None:
        """The parent ends every session and exits when it sees the socket close."""
        if self._loop is not None and not self.lost:
            with contextlib.suppress(Exception):
                self._loop.remove_reader(self.sock.fileno())
                self._loop.remove_writer(self.sock.fileno())
        self.sock.close()

    def join(self, timeout: float) -> int | None:
        """Wait (bounded) for the parent to exit; kill it if it does not."""
        deadline = time.monotonic() + timeout
        while True:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                return os.waitstatus_to_exitcode(status)
            if time.monotonic() > deadline:
                with contextlib.suppress(OSError):
                    os.kill(self.pid, signal.SIGKILL)
                _, status = os.waitpid(self.pid, 0)
                return os.waitstatus_to_exitcode(status)
            time.sleep(0.02)

    # internals

    def _send(self, message: protocol.Message, fd: int | None = None) -> None:
        self._queue.append((message, fd))
        self._flush()

    def _flush(self) -> None:
        while self._queue:
            message, fd = self._queue[0]
            try:
                protocol.send(self.sock, message, fd)
            except BlockingIOError:
                if not self._writing:
                    self._writing = True
                    self._loop.add_writer(self.sock.fileno(), self._flush)
                return
            except OSError:
                self._lose()
                return
            self._queue.popleft()
            if fd is not None:
                os.close(fd)  # the copy in flight keeps it open until the child has it
        if self._writing:
            self._writing = False
            self._loop.remove_writer(self.sock.fileno())

    def _readable(self) -> None:
        while not self.lost:
            try:
                message, fd = protocol.receive(self.sock)
            except BlockingIOError:
                return
            except ProtocolError:
                continue  # our own parent does not say such things; ignore it
            except OSError:
                message, fd = None, None
            if fd is not None:
                os.close(fd)
            if message is None:
                self._lose()
                return
            if isinstance(message, Spawned):
                self._settle(message.id, result=message.pid)
            elif isinstance(message, Failed):
                self._settle(message.id, error=OSError(message.error))
            elif isinstance(message, Exited):
                future = self.exit_status(message.pid)
                if not future.done():
                    future.set_result(message.status)

    def _settle(self, request_id: int, result: int | None = None, error: Exception | None = None) -> None:
        future = self._spawning.pop(request_id, None)
        if future is None or future.done():
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)

    def _lose(self) -> None:
        if self.lost:
            return
        self.lost = True
        with contextlib.suppress(Exception):
            self._loop.remove_reader(self.sock.fileno())
            if self._writing:
                self._loop.remove_writer(self.sock.fileno())
        for future in self._spawning.values():
            if not future.done():
                future.set_exception(SpawnerLost("the session parent is gone"))
        for future in self._exits.values():
            if not future.done():
                future.set_result(None)
        for _message, fd in self._queue:
            if fd is not None:
                os.close(fd)
        self._queue.clear()
        if self.on_lost is not None:
            self.on_lost()
