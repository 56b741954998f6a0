"""One SSH session channel <-> one tutor process on its own pseudo-terminal.

The spawner starts the tutor on a pty and hands the server the master side; the server
relays bytes between the channel and the pty master: keystrokes in, screen out,
window sizes through TIOCSWINSZ (the kernel then sends the tutor SIGWINCH). A session
ends when the student quits, disconnects, stays idle too long or the server stops; then
the tutor's process group gets SIGTERM (the app exits cleanly) and, if it lingers,
SIGKILL. Every answer was saved when it was judged, so nothing is lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import fcntl
import os
import struct
import termios
import time
from typing import Protocol

import asyncssh

from .context import Lab
from .protocol import Spawn
from .session import safe_term
from .spawner import SpawnerLost

# What Textual turns on, turned off again: used when a tutor had to be killed.
TERMINAL_RESET = (
    b"\x1b[<u\x1b[?1049l\x1b[?25h\x1b[?1000l\x1b[?1003l\x1b[?1015l\x1b[?1006l\x1b[?1004l\x1b[?2004l\x1b[?7h\x1b[0m"
)
INPUT_LIMIT = 1 << 20  # keystrokes waiting for the tutor; beyond this they are dropped


class Tutor(enum.Enum):
    """Where a session's tutor process is in its life."""

    NONE = "none"  # not asked for yet (no shell request), or refused
    STARTING = "starting"  # the spawner is forking it
    RUNNING = "running"  # bytes flow both ways
    STOPPING = "stopping"  # told to quit (SIGTERM), not gone yet
    GONE = "gone"  # exited, or being reaped


class Owner(Protocol):
    """The connection a session belongs to (it counts channels and keeps its own idle clock)."""

    def channel_closed(self, session: TutorSession) -> None: ...

    def tutor_started(self, session: TutorSession) -> None: ...

    def tutor_ended(self, session: TutorSession) -> None: ...


class TutorSession(asyncssh.SSHServerSession):
    def __init__(self, lab: Lab, student: str, peer: str, owner: Owner | None = None):
        self.lab = lab
        self.student = student
        self.peer = peer
        self.owner = owner
        self.loop = asyncio.get_running_loop()
        self.chan: asyncssh.SSHServerChannel | None = None
        self.tutor = Tutor.NONE
        self.closed = False  # the channel is gone: nothing more can be written to it
        self.term: str | None = None
        self.cols, self.rows, self.pixels = 80, 24, (0, 0)
        self.master: int | None = None
        self.pid: int | None = None
        self.farewell = b""  # said after the tutor has gone (idle, shutdown)
        self.pending = bytearray()  # keystrokes not yet written to the pty
        self.reading = False  # the pty master is watched for output
        self.writing = False  # the pty master is watched for room to write
        self.paused = False  # the client cannot take more output for now
        self.last_input = time.monotonic()
        self.idle_timer: asyncio.TimerHandle | None = None

    # --- requests ---------------------------------------------------------------------------------

    def connection_made(self, chan: asyncssh.SSHServerChannel) -> None:
        self.chan = chan

    def pty_requested(self, term_type: str, term_size, term_modes) -> bool:
        self.term = safe_term(term_type)
        self._size(*term_size)
        return True

    def shell_requested(self) -> bool:
        return True

    def exec_requested(self, command: str) -> bool:
        self.lab.log(f"{self.student}: refused command {command[:80]!r}")
        return False

    def subsystem_requested(self, subsystem: str) -> bool:
        self.lab.log(f"{self.student}: refused subsystem {subsystem[:40]!r}")
        return False

    def break_received(self, msec: int) -> bool:
        return False

    def signal_received(self, signal: str) -> None:
        pass

    def session_started(self) -> None:
        options = self.lab.options
        if self.term is None:
            self._refuse("the tutor needs a terminal: connect with plain `ssh`, without -T or a command.")
        elif self.lab.stopping:
            self._refuse("The server is shutting down.")
        elif len(self.lab.sessions) >= options.max_sessions:
            self.lab.log(f"{self.student}: refused, {options.max_sessions} sessions already")
            self._refuse(f"The lab is full ({options.max_sessions} at once). Try again in a minute.")
        elif self.lab.sessions_of(self.student) >= options.max_sessions_per_student:
            most = options.max_sessions_per_student
            self.lab.log(f"{self.student}: refused, already {most} sessions")
            self._refuse(
                f"you already have {most} tutor session{'s' if most > 1 else ''} open, the most one student"
                " may have. Quit one (Ctrl+Q) and connect again."
            )
        else:
            self.lab.sessions.add(self)
            self.tutor = Tutor.STARTING
            if self.owner is not None:
                self.owner.tutor_started(self)
            self.lab.task(self._start())

    def _refuse(self, message: str) -> None:
        self.chan.write_stderr(f"autograd-tutor: {message}\r\n".encode())
        self.chan.exit(1)

    async def _start(self) -> None:
        colorterm = self.chan.get_environment().get("COLORTERM") in ("truecolor", "24bit")
        request = Spawn(0, self.student, "terminal", self.term or "", self.cols, self.rows, colorterm)
        try:
            self.pid, self.master = await self.lab.spawner.spawn(request)
        except (OSError, SpawnerLost) as err:
            self.lab.log(f"{self.student}: could not start a tutor: {err}")
            self.tutor = Tutor.GONE
            self._forget()
            if not self.closed:
                self._refuse("could not start the tutor; tell your instructor.")
            return
        os.set_blocking(self.master, False)
        self._apply_size()  # a tutor started ahead draws its first screen when it learns its size
        self.lab.log(f"{self.student}: session pid {self.pid} started")
        if self.closed:  # the student left while the tutor was starting
            self.lab.spawner.end(self.pid, self.lab.options.grace)
            self._close_master()
            self.tutor = Tutor.GONE
            self._reap_later()
            return
        if self.tutor is Tutor.STOPPING:  # told to end while it was starting (EOF at once)
            self.lab.spawner.end(self.pid, self.lab.options.grace)
        else:
            self.tutor = Tutor.RUNNING
        self._read(not self.paused)
        self._flush_input()
        self._arm_idle()

    # --- bytes both ways --------------------------------------------------------------------------

    def data_received(self, data: bytes, datatype) -> None:
        self.last_input = time.monotonic()
        if len(self.pending) + len(data) <= INPUT_LIMIT:
            self.pending += data
        self._flush_input()

    def _flush_input(self) -> None:
        if self.master is None or self.pid is None or self.tutor is Tutor.GONE:
            return
        while self.pending:
            try:
                written = os.write(self.master, self.pending)
            except BlockingIOError:
                break
            except OSError:
                self.pending.clear()
                break
            del self.pending[:written]
        want = bool(self.pending)
        if want != self.writing:
            self.writing = want
            if want:
                self.loop.add_writer(self.master, self._flush_input)
            else:
                self.loop.remove_writer(self.master)

    def _read(self, on: bool) -> None:
        if self.master is None or on == self.reading:
            return
        self.reading = on
        if on:
            self.loop.add_reader(self.master, self._pty_readable)
        else:
            self.loop.remove_reader(self.master)

    def _pty_readable(self) -> None:
        try:
            data = os.read(self.master, 65536)
        except BlockingIOError:
            return
        except OSError:  # EIO: every process holding the slave is gone
            data = b""
        if data:
            if not self.closed:
                self.chan.write(data)
            return
        self._read(False)
        if self.tutor is not Tutor.GONE:
            self.tutor = Tutor.GONE
            self.lab.task(self._tutor_gone())

    def pause_writing(self) -> None:
        self.paused = True
        self._read(False)  # back-pressure: a slow client slows the tutor, not the server's memory

    def resume_writing(self) -> None:
        self.paused = False
        if self.pid is not None and self.tutor is not Tutor.GONE and not self.closed:
            self._read(True)

    def terminal_size_changed(self, width: int, height: int, pixwidth: int, pixheight: int) -> None:
        # not a keystroke: resizing a window does not keep a session from being idle
        self._size(width, height, pixwidth, pixheight)
        self._apply_size()

    def _size(self, width: int, height: int, pixwidth: int = 0, pixheight: int = 0) -> None:
        self.cols = min(max(int(width), 1), 1000) if width else 80
        self.rows = min(max(int(height), 1), 1000) if height else 24
        self.pixels = (min(max(int(pixwidth), 0), 65535), min(max(int(pixheight), 0), 65535))

    def _apply_size(self) -> None:
        if self.master is not None:
            size = struct.pack("HHHH", self.rows, self.cols, *self.pixels)
            with contextlib.suppress(OSError):
                fcntl.ioctl(self.master, termios.TIOCSWINSZ, size)  # the kernel sends SIGWINCH

    # --- the end ----------------------------------------------------------------------------------

    def eof_received(self) -> bool:
        self.end("")  # no more keystrokes can come
        return True

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._cancel_idle()
        if self.owner is not None:
            self.owner.channel_closed(self)
        if self.tutor is Tutor.NONE:
            return
        if self.pid is None:
            return  # still starting: `_start` ends it once it has a pid
        if self.tutor is not Tutor.GONE:
            self._stop_tutor()
            self._close_master()  # the kernel hangs up the tutor's terminal: SIGHUP too
            self.tutor = Tutor.GONE
            self._reap_later()

    def end(self, farewell: str) -> None:
        """Ask the tutor to quit; `farewell` is shown once it has."""
        if farewell:
            self.farewell = f"\r\nautograd-tutor: {farewell}\r\n".encode()
        if self.tutor is Tutor.NONE:
            if not self.closed and self.chan is not None:
                self.chan.write(self.farewell)
                self.chan.exit(0)
            return
        self._stop_tutor()

    def _stop_tutor(self) -> None:
        if self.tutor is Tutor.RUNNING:
            self.tutor = Tutor.STOPPING
            self.lab.spawner.end(self.pid, self.lab.options.grace)
        elif self.tutor is Tutor.STARTING:
            self.tutor = Tutor.STOPPING  # `_start` ends it as soon as it has a pid

    async def _tutor_gone(self) -> None:
        status = await self._exit_status(self.lab.options.grace + 5)
        self._cancel_idle()
        self.lab.log(f"{self.student}: session pid {self.pid} ended (status {status})")
        self._close_master()
        self._forget()
        if not self.closed:
            if status != 0:
                self.chan.write(TERMINAL_RESET)
            if self.farewell:
                self.chan.write(self.farewell)
            self.chan.exit(status if status is not None and 0 <= status < 256 else 1)

    async def _exit_status(self, timeout: float) -> int | None:
        try:
            return await asyncio.wait_for(asyncio.shield(self.lab.spawner.exit_status(self.pid)), timeout)
        except TimeoutError:
            return None
        finally:
            self.lab.spawner.forget(self.pid)

    def _reap_later(self) -> None:
        async def reap() -> None:
            status = await self._exit_status(self.lab.options.grace + 5)
            self.lab.log(f"{self.student}: session pid {self.pid} ended after disconnect (status {status})")
            self._forget()

        self.lab.task(reap())

    def _forget(self) -> None:
        """No tutor any more: the session no longer counts against any limit."""
        if self in self.lab.sessions:
            self.lab.sessions.discard(self)
            if self.owner is not None:
                self.owner.tutor_ended(self)

    def _close_master(self) -> None:
        if self.master is not None:
            self._read(False)
            if self.writing:
                self.writing = False
                self.loop.remove_writer(self.master)
            os.close(self.master)
            self.master = None

    def _arm_idle(self) -> None:
        timeout = self.lab.options.idle_timeout
        if timeout > 0 and not self.closed:
            wait = max(0.05, self.last_input + timeout - time.monotonic())
            self.idle_timer = self.loop.call_later(wait, self._check_idle)

    def _check_idle(self) -> None:
        self.idle_timer = None
        timeout = self.lab.options.idle_timeout
        if time.monotonic() - self.last_input >= timeout:
            self.lab.log(f"{self.student}: idle for {timeout:g} s, session ended")
            self.end(f"no key pressed for {duration(timeout)}: session closed. Your progress is saved.")
        else:
            self._arm_idle()

    def _cancel_idle(self) -> None:
        if self.idle_timer is not None:
            self.idle_timer.cancel()
            self.idle_timer = None


def duration(seconds: float) -> str:
    if seconds >= 120:
        return f"{seconds / 60:g} minutes"
    return f"{seconds:g} seconds"
