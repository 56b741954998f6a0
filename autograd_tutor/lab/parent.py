"""The warm parent: one process that has imported torch, sympy and Textual and loaded
the lessons, and forks one child per session (an SSH terminal or a browser tab).

Why a separate process rather than forking the server itself: the server runs an
asyncio loop (and asyncssh or aiohttp), and a child forked from the middle of that would
inherit the loop, its selector, its signal wake-up fd and whatever threads were running.
The parent is forked from the server at start, *before* any of that exists, and never
runs an event loop while serving: when it forks it is single-threaded (the app's
rehearsal run, below, has ended and its threads with it).

Signals. The parent wakes up on signals through a wake-up pipe, and a child starts as a
copy of it, handlers and pipe included. So signals are blocked around `fork`, and the
child, before anything else, drops the parent's handlers and pipe and only then lets
signals in: a SIGTERM sent to a tutor that is still starting can never be mistaken for
one sent to the parent. The parent also does not trust the pipe's bytes: its own
handlers set flags, and the pipe only wakes it up.

When the server's end of the socket closes (the server stopped or died), the parent
ends every session and exits. It is a child subreaper, so anything a session left
behind is reparented to it and reaped too: no orphans.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import fcntl
import gc
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
from . import protocol
from .protocol import End, Exited, Failed, ProtocolError, Ready, Spawn, Spawned
from .session import lab_app, run_session

_PR_SET_NAME = 15
_PR_SET_CHILD_SUBREAPER = 36
_ALL_SIGNALS = signal.valid_signals()


@dataclass(frozen=True)
class Options:
    lessons: tuple[str, ...]  # lesson files or directories
    data_dir: str  # absolute
    rehearse: bool = True  # run the app once, headless, before serving (imports and caches)


def start(options: Options) -> tuple[int, socket.socket]:
    """Fork the parent (call before any event loop or thread exists); its pid and the
    server's end of the socket."""
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            ours.close()
            code = _main(theirs, options)
        except BaseException:
            traceback.print_exc()
        finally:
            os._exit(code)
    theirs.close()
    return pid, ours


def _main(sock: socket.socket, options: Options) -> int:
    _close_fds_except({0, 1, 2, sock.fileno()})
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # ^C in the server's terminal: the server decides
    with contextlib.suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    _name("agt-lab-parent")
    lessons, problems = _warm(options)
    try:
        protocol.send(sock, Ready(len(lessons), [str(p)[:500] for p in problems[:50]]))
    except OSError:  # the server stopped while we were loading
        return 0
    if not lessons:
        return 0
    gc.collect()
    gc.freeze()  # the children's collector leaves the shared objects (and their pages) alone
    return Parent(sock, options, lessons, problems).serve()


def _warm(options: Options) -> tuple[list, list]:
    """Everything a session needs, imported and loaded once."""
    from ..engine.torch_import import torch
    from ..expr.symbolic import _sympy
    from ..lesson.loader import library

    torch()
    _sympy()
    import textual.drivers.linux_driver  # noqa: F401 - the driver of a terminal session
    import textual.drivers.web_driver  # noqa: F401 - and of a browser's

    from ..ui.app import TutorApp  # noqa: F401

    lessons, problems = library(list(options.lessons))
    if lessons and options.rehearse:
        try:
            _rehearse(lessons, problems)
        except Exception as err:  # a cold start is slower, not wrong
            print(f"autograd-tutor: warm-up run failed ({err}); sessions start cold", file=sys.stderr)
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


class Parent:
    """The parent's loop: spawn and end sessions as the server asks, reap them, tell it."""

    def __init__(self, sock: socket.socket, options: Options, lessons: list, problems: list):
        self.sock = sock
        self.options = options
        self.lessons = lessons
        self.problems = problems
        self.children: dict[int, float | None] = {}  # pid -> when to SIGKILL its group
        self.closing = False
        self.stop_requested = False  # set by our own SIGTERM handler only
        self.wake_r, self.wake_w = os.pipe()
        for fd in (self.wake_r, self.wake_w):
            os.set_blocking(fd, False)
        signal.set_wakeup_fd(self.wake_w)
        signal.signal(signal.SIGCHLD, lambda *_: None)  # wakes the loop: reap
        signal.signal(signal.SIGTERM, self._on_sigterm)
        self.baseline = _open_fds() - {self.sock.fileno(), self.wake_r, self.wake_w}

    def _on_sigterm(self, *_args) -> None:
        self.stop_requested = True

    def serve(self) -> int:
        while True:
            self.reap()
            self.kill_overdue()
            if self.stop_requested and not self.closing:
                self.close_all()
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
                _drain(self.wake_r)  # only a wake-up: what happened is in our own flags
            if self.sock in ready:
                try:
                    self.receive()
                except Exception:  # one bad request never takes the lab down
                    traceback.print_exc()

    def receive(self) -> None:
        try:
            message, fd = protocol.receive(self.sock)
        except ProtocolError as err:
            print(f"autograd-tutor: session parent: bad request ({err})", file=sys.stderr)
            return
        except OSError:
            message, fd = None, None
        if message is None:
            self.close_all()
        elif isinstance(message, Spawn):
            if fd is None:
                self.reply(Failed(message.id, "no terminal"))
            else:
                self.spawn(message, fd)
        else:
            if fd is not None:
                os.close(fd)
            if isinstance(message, End):
                self.end(message.pid, message.grace)

    def reply(self, message) -> None:
        with contextlib.suppress(OSError):
            protocol.send(self.sock, message)

    def spawn(self, request: Spawn, fd: int) -> None:
        if not valid_student(request.student):
            os.close(fd)
            self.reply(Failed(request.id, "invalid student name"))
            return
        sys.stdout.flush()
        sys.stderr.flush()
        # Nothing may be delivered to the child before it has dropped our handlers.
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, _ALL_SIGNALS)
        try:
            pid = os.fork()
        except OSError as err:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
            os.close(fd)
            self.reply(Failed(request.id, str(err)))
            return
        if pid == 0:
            self._child(request, fd, mask)  # never returns
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        os.close(fd)
        self.children[pid] = None
        self.reply(Spawned(request.id, pid))

    def end(self, pid: int, grace: float) -> None:
        if pid not in self.children:
            return
        with contextlib.suppress(OSError):
            os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + max(0.0, grace)
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
                self.reply(Exited(pid, os.waitstatus_to_exitcode(status)))

    def _child(self, request: Spawn, fd: int, mask: set) -> None:
        code = 1
        try:
            # first of all: the parent's signal handling is not ours
            signal.set_wakeup_fd(-1)
            for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGHUP):
                signal.signal(sig, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.default_int_handler)
            os.close(self.wake_r)
            os.close(self.wake_w)
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
            os.setsid()
            if request.front == "terminal":
                fcntl.ioctl(fd, termios.TIOCSCTTY, 0)
                for target in (0, 1, 2):
                    os.dup2(fd, target)
            else:  # the web driver's packets on stdin and stdout; stderr stays the server's log
                for target in (0, 1):
                    os.dup2(fd, target)
            self.sock.close()
            if fd > 2:
                os.close(fd)
            _close_fds_except({0, 1, 2} | self.baseline)
            _name(f"agt-{request.student}")
            code = run_session(self.options.data_dir, self.lessons, self.problems, request)
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


def _drain(fd: int) -> None:
    while True:
        try:
            if not os.read(fd, 512):
                return
        except (BlockingIOError, InterruptedError):
            return
