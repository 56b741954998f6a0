"""The warm parent: one process that has imported torch, sympy and Textual and loaded
the lessons, and forks one child per lab session.

Why a separate process rather than forking the SSH server itself: the server runs an
asyncio loop (and asyncssh), and a child forked from the middle of that would inherit
the loop, its selector, its signal wake-up fd and whatever threads were running. The
forker is forked from the server at start, *before* any of that exists, and never runs
an event loop while serving: when it forks it is single-threaded (the app's rehearsal
run, below, has ended and its threads with it). Each child starts from a clean, warm state: it
opens its own SQLite connection, starts its own event loop, and its imports are
already done, so the app's warm-up (importing torch) finishes at once.

Protocol (an AF_UNIX SOCK_SEQPACKET pair, one JSON object per message):

    server -> forker   {"op": "spawn", "id", "student", "term", "cols", "rows", "env"} + the pty slave fd
                       {"op": "end", "pid", "grace"}   SIGTERM the session's process group,
                                                       SIGKILL it `grace` seconds later
    forker -> server   {"op": "ready", "lessons", "problems"}
                       {"op": "spawned", "id", "pid"} | {"op": "failed", "id", "error"}
                       {"op": "exited", "pid", "status"}

When the server's end of the socket closes (the server stopped or died), the forker ends
every session the same way and exits. It is a child subreaper, so anything a session
left behind is reparented to it and reaped too: no orphans.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import ctypes
import fcntl
import gc
import json
import os
import select
import signal
import socket
import sys
import tempfile
import termios
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

from ..progress import ProgressStore, valid_student
from .session import lab_app, run_session

_MAX_MESSAGE = 65536
_PR_SET_NAME = 15
_PR_SET_CHILD_SUBREAPER = 36


@dataclass(frozen=True)
class Options:
    lessons: tuple[str, ...]  # lesson files or directories
    data_dir: str  # absolute
    rehearse: bool = True  # run the app once, headless, before serving (imports and caches)


# --- the server's side ------------------------------------------------------------------------------


class ForkerLost(RuntimeError):
    pass


class Forker:
    """The server's handle on the warm parent. `start` before any event loop exists."""

    def __init__(self, pid: int, sock: socket.socket):
        self.pid = pid
        self.sock = sock
        self.lessons = 0
        self.problems: list[str] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._next_id = 0
        self._spawning: dict[int, asyncio.Future] = {}
        self._exits: dict[int, asyncio.Future] = {}
        self._queue: collections.deque = collections.deque()
        self._writing = False
        self.lost = False
        self.on_lost = None  # called once if the forker goes away

    @classmethod
    def start(cls, options: Options) -> Forker:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # the forker
            code = 1
            try:
                ours.close()
                code = _forker_main(theirs, options)
            except BaseException:
                traceback.print_exc()
            finally:
                os._exit(code)
        theirs.close()
        return cls(pid, ours)

    def wait_ready(self, timeout: float = 180) -> None:
        """Block until the forker has imported and loaded everything (before the loop starts)."""
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(_MAX_MESSAGE)
        except OSError as err:
            raise ForkerLost(f"the session parent did not start: {err}") from None
        if not data:
            raise ForkerLost("the session parent exited while loading")
        message = json.loads(data)
        self.lessons = message["lessons"]
        self.problems = message["problems"]

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self.sock.setblocking(False)
        loop.add_reader(self.sock.fileno(), self._readable)

    async def spawn(self, slave: int, student: str, term: str, cols: int, rows: int, env: dict) -> int:
        """Fork a session onto the pty `slave` (which this call closes); its pid."""
        if self.lost:
            os.close(slave)
            raise ForkerLost("the session parent is gone")
        self._next_id += 1
        future = self._loop.create_future()
        self._spawning[self._next_id] = future
        request = {"op": "spawn", "id": self._next_id, "student": student, "term": term}
        self._send({**request, "cols": cols, "rows": rows, "env": env}, slave)
        return await future

    def end(self, pid: int, grace: float) -> None:
        """Ask the session to quit (SIGTERM), and kill its process group after `grace` s."""
        if not self.lost:
            self._send({"op": "end", "pid": pid, "grace": grace})

    def exit_status(self, pid: int) -> asyncio.Future:
        """Resolved with the session's exit status (None if the forker went away)."""
        if pid not in self._exits:
            self._exits[pid] = self._loop.create_future()
        return self._exits[pid]

    def forget(self, pid: int) -> None:
        self._exits.pop(pid, None)

    def close(self) -> None:
        """The forker ends every session and exits when it sees the socket close."""
        if self._loop is not None and not self.lost:
            with contextlib.suppress(Exception):
                self._loop.remove_reader(self.sock.fileno())
                self._loop.remove_writer(self.sock.fileno())
        self.sock.close()

    def join(self, timeout: float) -> int | None:
        """Wait (bounded) for the forker to exit; kill it if it does not."""
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

    def _send(self, message: dict, fd: int | None = None) -> None:
        self._queue.append((json.dumps(message).encode(), fd))
        self._flush()

    def _flush(self) -> None:
        while self._queue:
            data, fd = self._queue[0]
            try:
                if fd is None:
                    self.sock.send(data)
                else:
                    socket.send_fds(self.sock, [data], [fd])
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
                os.close(fd)  # the copy in flight keeps the pty open until the child has it
        if self._writing:
            self._writing = False
            self._loop.remove_writer(self.sock.fileno())

    def _readable(self) -> None:
        while True:
            try:
                data, fds, _flags, _addr = socket.recv_fds(self.sock, _MAX_MESSAGE, 1)
            except BlockingIOError:
                return
            except OSError:
                data, fds = b"", []
            for fd in fds:
                os.close(fd)
            if not data:
                self._lose()
                return
            message = json.loads(data)
            op = message["op"]
            if op == "spawned":
                future = self._spawning.pop(message["id"], None)
                if future is not None and not future.done():
                    future.set_result(message["pid"])
            elif op == "failed":
                future = self._spawning.pop(message["id"], None)
                if future is not None and not future.done():
                    future.set_exception(OSError(message["error"]))
            elif op == "exited":
                future = self.exit_status(message["pid"])
                if not future.done():
                    future.set_result(message["status"])

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
                future.set_exception(ForkerLost("the session parent is gone"))
        for future in self._exits.values():
            if not future.done():
                future.set_result(None)
        for _data, fd in self._queue:
            if fd is not None:
                os.close(fd)
        self._queue.clear()
        if self.on_lost is not None:
            self.on_lost()


# --- the forker -------------------------------------------------------------------------------------


def _forker_main(sock: socket.socket, options: Options) -> int:
    _close_fds_except({0, 1, 2, sock.fileno()})
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # ^C in the server's terminal: the server decides
    with contextlib.suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    _name("agt-lab-parent")
    lessons, problems = _warm(options)
    note = [str(p)[:500] for p in problems[:50]]
    try:
        sock.send(json.dumps({"op": "ready", "lessons": len(lessons), "problems": note}).encode())
    except OSError:  # the server stopped while we were loading
        return 0
    if not lessons:
        return 0
    gc.collect()
    gc.freeze()  # the children's collector leaves the shared objects (and their pages) alone
    return _Forker(sock, options, lessons, problems).serve()


def _warm(options: Options) -> tuple[list, list]:
    """Everything a session needs, imported and loaded once."""
    from ..engine.torch_import import torch
    from ..expr.symbolic import _sympy
    from ..lesson.loader import library
    from ..validate import lesson_errors

    torch()
    _sympy()
    import textual.drivers.linux_driver  # noqa: F401 - the driver a session uses

    from ..ui.app import TutorApp  # noqa: F401

    lessons, problems = library(list(options.lessons))
    for lesson in lessons:  # validate's checks, once for every session: the catalogue lists a failing lesson as broken
        lesson_errors(lesson)
    if lessons and options.rehearse:
        try:
            _rehearse(lessons, problems)
        except Exception as err:  # a cold start is slower, not wrong
            print(f"autograd-tutor serve: warm-up run failed ({err}); sessions start cold", file=sys.stderr)
    return lessons, problems


def _rehearse(lessons: list, problems: list) -> None:
    """Run the app once, headless, with a throwaway store: open the first lesson and judge
    an answer. This imports what Textual and the lesson screen load lazily (Markdown,
    pygments, ...) and fills module caches, once here instead of once per session."""
    from ..ui.app import TutorApp

    async def rehearsal(app: TutorApp) -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            for _ in range(500):
                if app.engines_ready:
                    break
                await pilot.pause(0.02)
            await pilot.press("enter")
            for _ in range(100):
                if app.screen.__class__.__name__ == "LessonScreen":
                    break
                await pilot.pause(0.02)
            await pilot.press("0", "enter")
            await pilot.pause(0.05)
            await pilot.press("escape")

    with tempfile.TemporaryDirectory(prefix="autograd-tutor-warm-") as tmp:
        store = ProgressStore(Path(tmp), "warm-up")
        try:
            app = lab_app(lessons, problems, store)
            asyncio.run(asyncio.wait_for(rehearsal(app), 60))
        finally:
            store.close()


class _Forker:
    def __init__(self, sock: socket.socket, options: Options, lessons: list, problems: list):
        self.sock = sock
        self.options = options
        self.lessons = lessons
        self.problems = problems
        self.children: dict[int, float | None] = {}  # pid -> when to SIGKILL its group
        self.closing = False
        self.wake_r, self.wake_w = os.pipe()
        for fd in (self.wake_r, self.wake_w):
            os.set_blocking(fd, False)
        signal.set_wakeup_fd(self.wake_w)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        signal.signal(signal.SIGTERM, lambda *_: None)  # wakes the loop; treated as "close"
        self.baseline = _open_fds() - {self.sock.fileno(), self.wake_r, self.wake_w}

    def serve(self) -> int:
        while True:
            self.reap()
            self.kill_overdue()
            if self.closing and not self.children:
                return 0
            deadlines = [d for d in self.children.values() if d is not None]
            timeout = max(0.0, min(deadlines) - time.monotonic()) if deadlines else None
            watched = [self.wake_r] if self.closing else [self.wake_r, self.sock]
            try:
                ready, _, _ = select.select(watched, [], [], timeout)
            except InterruptedError:
                continue
            if self.wake_r in ready:
                signals = _drain(self.wake_r)
                if signal.SIGTERM in signals:
                    self.close_all()
            if self.sock in ready:
                self.receive()

    def receive(self) -> None:
        try:
            data, fds, _flags, _addr = socket.recv_fds(self.sock, _MAX_MESSAGE, 1)
        except OSError:
            data, fds = b"", []
        if not data:
            for fd in fds:
                os.close(fd)
            self.close_all()
            return
        message = json.loads(data)
        if message["op"] == "spawn":
            if not fds:
                self.reply({"op": "failed", "id": message["id"], "error": "no terminal"})
                return
            self.spawn(message, fds[0])
            for fd in fds[1:]:
                os.close(fd)
        elif message["op"] == "end":
            self.end(int(message["pid"]), float(message["grace"]))

    def reply(self, message: dict) -> None:
        with contextlib.suppress(OSError):
            self.sock.send(json.dumps(message).encode())

    def spawn(self, message: dict, slave: int) -> None:
        student = str(message["student"])
        if not valid_student(student):
            os.close(slave)
            self.reply({"op": "failed", "id": message["id"], "error": "invalid student name"})
            return
        sys.stdout.flush()
        sys.stderr.flush()
        try:
            pid = os.fork()
        except OSError as err:
            os.close(slave)
            self.reply({"op": "failed", "id": message["id"], "error": str(err)})
            return
        if pid == 0:
            self._child(message, student, slave)  # never returns
        os.close(slave)
        self.children[pid] = None
        self.reply({"op": "spawned", "id": message["id"], "pid": pid})

    def end(self, pid: int, grace: float) -> None:
        if pid not in self.children:
            return
        with contextlib.suppress(OSError):
            os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        current = self.children[pid]
        self.children[pid] = deadline if current is None else min(current, deadline)

    def close_all(self, grace: float = 3.0) -> None:
        self.closing = True
        for pid in list(self.children):
            self.end(pid, grace)

    def kill_overdue(self) -> None:
        now = time.monotonic()
        for pid, deadline in self.children.items():
            if deadline is not None and now >= deadline:
                with contextlib.suppress(OSError):
                    os.killpg(pid, signal.SIGKILL)
                self.children[pid] = now + 1.0  # again in a second, should it linger

    def reap(self) -> None:
        while True:
            try:
                info = os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
            except ChildProcessError:
                return
            if info is None:
                return
            pid = info.si_pid
            if pid in self.children:
                # still a zombie, so its process group id cannot have been reused:
                # take anything it left in its group with it
                with contextlib.suppress(OSError):
                    os.killpg(pid, signal.SIGKILL)
            _, status = os.waitpid(pid, 0)
            if self.children.pop(pid, "orphan") != "orphan":
                self.reply({"op": "exited", "pid": pid, "status": os.waitstatus_to_exitcode(status)})

    def _child(self, message: dict, student: str, slave: int) -> None:
        code = 1
        try:
            os.setsid()
            fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
            for fd in (0, 1, 2):
                os.dup2(slave, fd)
            signal.set_wakeup_fd(-1)
            for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGHUP):
                signal.signal(sig, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.default_int_handler)
            self.sock.close()
            for fd in (self.wake_r, self.wake_w) + ((slave,) if slave > 2 else ()):
                os.close(fd)
            _close_fds_except({0, 1, 2} | self.baseline)
            _name(f"agt-{student}")
            code = run_session(student, self.options.data_dir, self.lessons, self.problems, message)
        except BaseException:
            with contextlib.suppress(Exception):
                traceback.print_exc()
                sys.stderr.flush()
        finally:
            os._exit(code)


def _name(name: str) -> None:
    """The process's name in `ps -o comm` and `top` (at most 15 bytes)."""
    with contextlib.suppress(Exception):
        ctypes.CDLL(None).prctl(_PR_SET_NAME, name.encode()[:15], 0, 0, 0)


def _open_fds() -> set[int]:
    try:
        listed = {int(fd) for fd in os.listdir("/proc/self/fd")}
    except OSError:
        return set(range(3))
    open_now = set()
    for fd in listed:  # one of them was the listing's own, closed by now
        with contextlib.suppress(OSError):
            fcntl.fcntl(fd, fcntl.F_GETFD)
            open_now.add(fd)
    return open_now


def _close_fds_except(keep: set[int]) -> None:
    for fd in _open_fds() - keep:
        with contextlib.suppress(OSError):
            os.close(fd)


def _drain(fd: int) -> set[int]:
    signals: set[int] = set()
    while True:
        try:
            data = os.read(fd, 512)
        except (BlockingIOError, InterruptedError):
            return signals
        if not data:
            return signals
        signals.update(data)
