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
import sys
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

    async def spawn(self, request: Spawn) -> tuple[int, int]:
        """Start a tutor; its pid, and the server's side of it: the master of its pty, or
        for a web tutor a socket speaking Textual's web driver protocol."""

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
        self._queue: collections.deque[protocol.Message] = collections.deque()
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

    async def spawn(self, request: Spawn) -> tuple[int, int]:
        if self.lost:
            raise SpawnerLost("the session parent is gone")
        self._next_id += 1
        request = dataclasses.replace(request, id=self._next_id)
        future = self._loop.create_future()
        self._spawning[request.id] = future
        self._send(request)
        try:
            return await asyncio.shield(future)
        except asyncio.CancelledError:  # nobody wants it any more: end the tutor, close its side
            future.add_done_callback(self._abandon)
            raise

    def _abandon(self, future: asyncio.Future) -> None:
        if not future.cancelled() and future.exception() is None:
            pid, fd = future.result()
            os.close(fd)
            self.end(pid, 0)

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

    def _send(self, message: protocol.Message) -> None:
        self._queue.append(message)
        self._flush()

    def _flush(self) -> None:
        while self._queue:
            try:
                protocol.send(self.sock, self._queue[0])
            except BlockingIOError:
                if not self._writing:
                    self._writing = True
                    self._loop.add_writer(self.sock.fileno(), self._flush)
                return
            except OSError:
                self._lose()
                return
            self._queue.popleft()
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
            if isinstance(message, Spawned) and fd is not None:
                if not self._settle(message.id, result=(message.pid, fd)):
                    os.close(fd)
                    self.end(message.pid, 0)
                continue
            if fd is not None:
                os.close(fd)
            if message is None:
                self._lose()
                return
            if isinstance(message, Failed):
                self._settle(message.id, error=OSError(message.error))
            elif isinstance(message, Exited):
                future = self.exit_status(message.pid)
                if not future.done():
                    future.set_result(message.status)

    def _settle(self, request_id: int, result: tuple | None = None, error: Exception | None = None) -> bool:
        future = self._spawning.pop(request_id, None)
        if future is None or future.done():
            return False
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)
        return True

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
        self._queue.clear()
        if self.on_lost is not None:
            self.on_lost()


def serve_with(command: str, spawner: Spawner, grace: float, serve: Callable[[], int]) -> int:
    """Wait for the session parent, print its lesson problems, then `serve()`; the parent
    is stopped whatever happens. The exit status: 1 if the parent never started, 2 if no
    lesson loaded, else serve()'s."""
    try:
        try:
            spawner.wait_ready()
        except SpawnerLost as err:
            print(f"autograd-tutor {command}: {err}", file=sys.stderr)
            return 1
        for problem in spawner.problems:
            print(problem, file=sys.stderr)
        if not spawner.lessons:
            print(f"autograd-tutor {command}: no lesson to serve", file=sys.stderr)
            return 2
        return serve()
    finally:
        spawner.close()
        spawner.join(grace + 5)
