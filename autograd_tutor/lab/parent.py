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
import functools
import gc
import json
import os
import select
import signal
import socket
import struct
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
from .session import lab_app, process_name, run_ready, run_session

_PR_SET_CHILD_SUBREAPER = 36
_ALL_SIGNALS = signal.valid_signals()
_QUIET = 0.5  # seconds without a request before a tutor is started ahead
_WAITING_SIZE = (10, 5)  # a tutor started ahead waits at a size no client has: any real one redraws it


@dataclass(frozen=True)
class Options:
    lessons: tuple[str, ...]  # lesson files or directories
    data_dir: str  # absolute
    rehearse: bool = True  # run the app once, headless, before serving (imports and caches)
    ready: int = 0  # terminal tutors kept started ahead, waiting for their student


@dataclass
class ReadyTutor:
    """A terminal tutor started ahead: its app is up on a pty of its own, at a size no
    client has; given a student, it opens their progress, and the client's window size
    makes it draw (about a quarter of a cold start's work)."""

    pid: int
    ctl: socket.socket  # the parent's end of a datagram pair to the tutor
    master: int  # the pty master, handed to the server once the tutor has its student
    drawn: bool = False  # it has drawn its first screen: taking it saves the most
    request: Spawn | None = None  # the student it is being given to


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
    process_name("agt-lab-parent")
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
    from ..validate import lesson_errors

    torch()
    _sympy()
    import textual.drivers.linux_driver  # noqa: F401 - the driver of a terminal session
    import textual.drivers.web_driver  # noqa: F401 - and of a browser's

    from ..ui.app import TutorApp  # noqa: F401

    lessons, problems = library(list(options.lessons))
    for lesson in lessons:  # validate's checks, once for every session: the catalogue lists a failing lesson as broken
        lesson_errors(lesson)
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
                if app.screen.__class__.__name__ == "IntroScreen":  # the lesson's first page: on to the steps
                    await pilot.press("enter")
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
        self.ready: dict[int, ReadyTutor] = {}  # pid -> a tutor started ahead (or being given out)
        self.last_request = 0.0  # when the server last asked for a tutor (refills wait for quiet)
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
            self.refill()
            deadlines = [d for d in self.children.values() if d is not None]
            if self.wants_refill():
                deadlines.append(self.last_request + _QUIET)
            timeout = max(0.0, min(deadlines) - time.monotonic()) if deadlines else None
            watched: list = [self.wake_r] if self.closing else [self.wake_r, self.sock]
            for tutor in self.ready.values():
                watched += [tutor.ctl, tutor.master]
            try:
                ready, _, _ = select.select(watched, [], [], timeout)
            except InterruptedError:
                continue
            if self.wake_r in ready:
                _drain(self.wake_r)  # only a wake-up: what happened is in our own flags
            for tutor in list(self.ready.values()):
                if tutor.master in ready:
                    _drain(tutor.master)  # what it drew for no one
                if tutor.ctl in ready:
                    self.heard_from(tutor)
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
        if fd is not None:
            os.close(fd)
        if message is None:
            self.close_all()
        elif isinstance(message, Spawn):
            self.last_request = time.monotonic()
            self.spawn(message)
        elif isinstance(message, End):
            self.end(message.pid, message.grace)

    def reply(self, message) -> None:
        with contextlib.suppress(OSError):
            protocol.send(self.sock, message)

    def spawn(self, request: Spawn) -> None:
        if not valid_student(request.student):
            self.reply(Failed(request.id, "invalid student name"))
            return
        if request.front == "terminal" and not request.colorterm and self.give_ready(request):
            return
        if request.front == "terminal":
            ours, theirs = os.openpty()
            _set_size(ours, request.cols, request.rows)
            # keys typed before the app takes the terminal neither echo nor raise signals
            attrs = termios.tcgetattr(theirs)
            attrs[3] &= ~(termios.ECHO | termios.ICANON | termios.ISIG | termios.IEXTEN)
            termios.tcsetattr(theirs, termios.TCSANOW, attrs)
        else:
            ours, theirs = (s.detach() for s in socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM))
        run = functools.partial(run_session, self.options.data_dir, self.lessons, self.problems, request)
        try:
            pid = self.fork(theirs, request.front, run)
        except OSError as err:
            os.close(ours)
            self.reply(Failed(request.id, str(err)))
            return
        self.hand_over(Spawned(request.id, pid), ours)

    def hand_over(self, message: Spawned, fd: int) -> None:
        with contextlib.suppress(OSError):
            protocol.send(self.sock, message, fd)
        os.close(fd)

    def fork(self, fd: int, front: str, run, keep: tuple[int, ...] = ()) -> int:
        """Fork a child that runs `run()` on `fd` (which this closes); its pid."""
        sys.stdout.flush()
        sys.stderr.flush()
        # Nothing may be delivered to the child before it has dropped our handlers.
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, _ALL_SIGNALS)
        try:
            pid = os.fork()
        except OSError:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
            os.close(fd)
            raise
        if pid == 0:
            self._child(fd, front, mask, run, keep)  # never returns
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        os.close(fd)
        self.children[pid] = None
        return pid

    # --- tutors started ahead -------------------------------------------------------------------------

    def wants_refill(self) -> bool:
        preparing = any(not t.drawn and t.request is None for t in self.ready.values())
        waiting = sum(1 for t in self.ready.values() if t.request is None)
        return not self.closing and not preparing and waiting < self.options.ready

    def refill(self) -> None:
        """Start one more tutor ahead, one at a time, and only when no student has asked
        for one for a moment: a burst of students is served first, the pool after."""
        if not self.wants_refill() or time.monotonic() < self.last_request + _QUIET:
            return
        master, slave = os.openpty()
        _set_size(master, *_WAITING_SIZE)
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        ctl = theirs.detach()
        run = functools.partial(run_ready, self.options.data_dir, self.lessons, self.problems, ctl)
        try:
            pid = self.fork(slave, "terminal", run, keep=(ctl,))
        except OSError:
            os.close(master)
            ours.close()
            os.close(ctl)
            return
        os.close(ctl)
        os.set_blocking(master, False)
        self.ready[pid] = ReadyTutor(pid, ours, master)

    def give_ready(self, request: Spawn) -> bool:
        """Give `request`'s student a tutor started ahead, if there is one; the server
        gets it once the tutor has opened the student's progress (`heard_from`)."""
        waiting = [t for t in self.ready.values() if t.request is None]
        if not waiting:
            return False
        tutor = max(waiting, key=lambda t: t.drawn)  # one that has drawn, if any
        try:
            tutor.ctl.send(json.dumps({"student": request.student, "term": request.term}).encode())
        except OSError:
            self.drop_ready(tutor)
            return False
        tutor.request = request
        return True

    def heard_from(self, tutor: ReadyTutor) -> None:
        try:
            said = tutor.ctl.recv(64)
        except OSError:
            said = b""
        if said == b"drawn":
            tutor.drawn = True
            waiting = [t for t in self.ready.values() if t.request is None]
            if len(waiting) == self.options.ready and all(t.drawn for t in waiting):
                stamp = time.strftime("%H:%M:%S")
                print(f"{stamp} {len(waiting)} tutors started ahead are ready", file=sys.stderr, flush=True)
        elif said == b"assigned" and tutor.request is not None:
            del self.ready[tutor.pid]
            _drain(tutor.master)
            tutor.ctl.close()
            self.hand_over(Spawned(tutor.request.id, tutor.pid), tutor.master)
        elif not said:  # it is gone (reap() tells the server if it had a student)
            self.drop_ready(tutor)

    def drop_ready(self, tutor: ReadyTutor) -> None:
        self.ready.pop(tutor.pid, None)
        tutor.ctl.close()
        os.close(tutor.master)
        with contextlib.suppress(OSError):
            os.killpg(tutor.pid, signal.SIGKILL)
        if tutor.request is not None:
            self.reply(Failed(tutor.request.id, "the tutor started ahead exited"))

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
            if pid in self.ready:  # a tutor started ahead died before it had a student
                self.drop_ready(self.ready[pid])
                self.children.pop(pid, None)
            elif self.children.pop(pid, "orphan") != "orphan":
                self.reply(Exited(pid, os.waitstatus_to_exitcode(status)))

    def _child(self, fd: int, front: str, mask: set, run, keep: tuple[int, ...]) -> None:
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
            if front == "terminal":
                fcntl.ioctl(fd, termios.TIOCSCTTY, 0)
                for target in (0, 1, 2):
                    os.dup2(fd, target)
            else:  # the web driver's packets on stdin and stdout; stderr stays the server's log
                for target in (0, 1):
                    os.dup2(fd, target)
            self.sock.close()
            if fd > 2:
                os.close(fd)
            _close_fds_except({0, 1, 2, *keep} | self.baseline)
            code = run()
        except BaseException:
            with contextlib.suppress(Exception):
                traceback.print_exc()
                sys.stderr.flush()
        finally:
            os._exit(code)


def _set_size(fd: int, cols: int, rows: int) -> None:
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


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
