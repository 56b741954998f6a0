"""`TutorSession` on a real pseudo-terminal pair, with a fake spawner: the test plays the
tutor on the pty's slave side and the SSH client through a fake channel."""

from __future__ import annotations

import asyncio
import fcntl
import os
import struct
import termios
import tty
from pathlib import Path

from autograd_tutor.lab.channel import Tutor, TutorSession
from autograd_tutor.lab.context import Lab, ServeOptions


class FakeChannel:
    def __init__(self, env: dict | None = None):
        self.out = bytearray()
        self.err = bytearray()
        self.status: int | None = None
        self.env = env or {}

    def write(self, data: bytes) -> None:
        self.out += data

    def write_stderr(self, data: bytes) -> None:
        self.err += data

    def exit(self, status: int) -> None:
        self.status = status

    def get_environment(self) -> dict:
        return self.env


class FakeSpawner:
    """Keeps each pty's slave side for the test; `exit` plays the tutor quitting."""

    lessons, problems, on_lost = 1, [], None

    def __init__(self, delay: float = 0.0):
        self.delay = delay
        self.slaves: dict[int, int] = {}
        self.requests = []
        self.ended: list[int] = []
        self.exits: dict[int, asyncio.Future] = {}

    async def spawn(self, request) -> tuple[int, int]:
        await asyncio.sleep(self.delay)
        pid = 1000 + len(self.requests)
        self.requests.append(request)
        master, slave = os.openpty()
        tty.setraw(slave)  # as the app does with its terminal
        os.set_blocking(slave, False)
        self.slaves[pid] = slave
        return pid, master

    def end(self, pid: int, grace: float) -> None:
        self.ended.append(pid)
        self.exit(pid, 0)

    def exit(self, pid: int, status: int) -> None:
        if pid in self.slaves:
            os.close(self.slaves.pop(pid))  # the pty hangs up, as when the process is gone
        future = self.exit_status(pid)
        if not future.done():
            future.set_result(status)

    def exit_status(self, pid: int) -> asyncio.Future:
        return self.exits.setdefault(pid, asyncio.get_running_loop().create_future())

    def forget(self, pid: int) -> None:
        pass


def make(spawner: FakeSpawner, **options) -> tuple[Lab, TutorSession, FakeChannel]:
    lab = Lab(ServeOptions("127.0.0.1", 0, Path("/nonexistent"), (), open=True, grace=0.1, **options), spawner)
    lab.log = lambda message: None
    session = TutorSession(lab, "alice", "127.0.0.1:1")
    channel = FakeChannel({"COLORTERM": "truecolor"})
    session.connection_made(channel)
    return lab, session, channel


def readable(fd: int) -> bytes:
    try:
        return os.read(fd, 100)
    except BlockingIOError:
        return b""


async def until(condition, what: str, timeout: float = 5.0) -> None:
    for _ in range(int(timeout / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never: {what}")


def started(lab: Lab, session: TutorSession, spawner: FakeSpawner):
    session.pty_requested("xterm-256color", (100, 30, 0, 0), {})
    session.shell_requested()
    session.session_started()
    return until(lambda: session.tutor is Tutor.RUNNING, "the tutor running")


def test_bytes_flow_both_ways_and_a_resize_reaches_the_terminal():
    async def main() -> None:
        spawner = FakeSpawner()
        lab, session, channel = make(spawner)
        await started(lab, session, spawner)
        (request,) = spawner.requests
        assert (request.student, request.front, request.cols, request.rows, request.colorterm) == (
            "alice", "terminal", 100, 30, True
        )  # fmt: skip
        slave = spawner.slaves[session.pid]
        session.data_received(b"16\r", None)
        typed = bytearray()
        await until(lambda: typed.extend(readable(slave)) or typed == b"16\r", "keystrokes on the tutor's terminal")
        os.write(slave, b"\x1b[2Jcatalogue")
        await until(lambda: bytes(channel.out).endswith(b"catalogue"), "the tutor's screen on the channel")
        clock = session.last_input
        session.terminal_size_changed(120, 40, 0, 0)
        rows, cols = struct.unpack("HHHH", fcntl.ioctl(slave, termios.TIOCGWINSZ, b"\0" * 8))[:2]
        assert (cols, rows) == (120, 40)
        assert session.last_input == clock  # a resize is not a keystroke
        spawner.exit(session.pid, 0)  # the student quit
        await until(lambda: channel.status == 0, "the channel closed with the tutor's status")
        assert session.tutor is Tutor.GONE and session not in lab.sessions

    asyncio.run(main())


def test_eof_while_the_tutor_starts_ends_it_once_it_has_a_pid():
    async def main() -> None:
        spawner = FakeSpawner(delay=0.1)
        lab, session, channel = make(spawner)
        session.pty_requested("xterm", (80, 24, 0, 0), {})
        session.session_started()
        assert session.tutor is Tutor.STARTING
        session.eof_received()  # at once: the tutor has no pid yet
        assert session.tutor is Tutor.STOPPING and spawner.ended == []
        await until(lambda: spawner.ended == [1000], "the tutor ended")
        await until(lambda: channel.status == 0, "the channel closed")
        assert not lab.sessions

    asyncio.run(main())


def test_a_lost_connection_ends_the_tutor():
    async def main() -> None:
        spawner = FakeSpawner()
        lab, session, channel = make(spawner)
        await started(lab, session, spawner)
        session.connection_lost(None)
        assert spawner.ended == [session.pid] and session.tutor is Tutor.GONE
        await until(lambda: not lab.sessions, "the session forgotten")
        assert channel.status is None  # nothing is written to a closed channel

    asyncio.run(main())


def test_a_connection_lost_while_starting_ends_the_tutor_it_gets():
    async def main() -> None:
        spawner = FakeSpawner(delay=0.1)
        lab, session, _channel = make(spawner)
        session.pty_requested("xterm", (80, 24, 0, 0), {})
        session.session_started()
        session.connection_lost(None)
        await until(lambda: spawner.ended == [1000], "the tutor ended")
        await until(lambda: not lab.sessions, "the session forgotten")

    asyncio.run(main())


def test_no_terminal_and_too_many_sessions_are_refused_with_a_message():
    async def main() -> None:
        spawner = FakeSpawner()
        lab, first, _ = make(spawner, max_sessions_per_student=1)
        await started(lab, first, spawner)
        second = TutorSession(lab, "alice", "127.0.0.1:2")
        channel = FakeChannel()
        second.connection_made(channel)
        second.pty_requested("xterm", (80, 24, 0, 0), {})
        second.session_started()
        assert channel.status == 1 and b"you already have 1 tutor session open" in channel.err
        third = TutorSession(lab, "bob", "127.0.0.1:3")
        channel = FakeChannel()
        third.connection_made(channel)
        third.session_started()  # no pty requested
        assert channel.status == 1 and b"needs a terminal" in channel.err
        assert len(spawner.requests) == 1

    asyncio.run(main())


def test_an_idle_session_is_ended_with_a_farewell():
    async def main() -> None:
        spawner = FakeSpawner()
        lab, session, channel = make(spawner, idle_timeout=0.2)
        await started(lab, session, spawner)
        await until(lambda: channel.status == 0, "the idle session ended", timeout=5)
        assert b"no key pressed for 0.2 seconds: session closed. Your progress is saved." in channel.out

    asyncio.run(main())
