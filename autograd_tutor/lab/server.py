"""`autograd-tutor serve`: an SSH server where every session is a student's own tutor.

One asyncio process speaks SSH (asyncssh); it never runs a tutor itself. For each
session it opens a pseudo-terminal, hands the slave side to the warm parent
(`forker.Forker`), which forks the tutor onto it, and then relays bytes between the
SSH channel and the pty master: keystrokes in, screen out, window sizes through
TIOCSWINSZ (the kernel then sends the tutor SIGWINCH).

What a client gets is the tutor and nothing else: `exec` (`ssh host ls`), subsystems
(sftp), TCP/UNIX forwarding (-L, -R, -D), agent and X11 forwarding are all refused, and
a session without a terminal is turned away with a message. A session ends when the
student quits, disconnects, stays idle too long or the server stops; then the tutor's
process group gets SIGTERM (the app exits cleanly) and, if it lingers, SIGKILL. Every
answer was saved when it was judged, so nothing is lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import signal
import struct
import sys
import termios
import time
from dataclasses import dataclass
from pathlib import Path

import asyncssh

from ..progress import STUDENTS, valid_student
from .forker import Forker, ForkerLost, Options
from .keys import AuthorizedKeys, read_authorized_keys
from .session import safe_term

HOST_KEY = "ssh_host_ed25519_key"
# What Textual turns on, turned off again: used when a tutor had to be killed.
TERMINAL_RESET = (
    b"\x1b[<u\x1b[?1049l\x1b[?25h\x1b[?1000l\x1b[?1003l\x1b[?1015l\x1b[?1006l\x1b[?1004l\x1b[?2004l\x1b[?7h\x1b[0m"
)
_INPUT_LIMIT = 1 << 20  # keystrokes waiting for the tutor; beyond this they are dropped


@dataclass(frozen=True)
class ServeOptions:
    host: str
    port: int
    data_dir: Path
    lessons: tuple[str, ...]
    authorized_keys: Path | None = None
    open: bool = False
    max_sessions: int = 100
    idle_timeout: float = 1800.0  # 0: never
    grace: float = 3.0  # seconds between SIGTERM and SIGKILL


class Lab:
    """The running server: its options, the spawner and the live sessions."""

    def __init__(self, options: ServeOptions, spawner, keys: AuthorizedKeys | None):
        self.options = options
        self.spawner = spawner
        self.keys = keys
        self.sessions: set[TutorSession] = set()
        self.stopping = False

    def log(self, message: str) -> None:
        print(f"{time.strftime('%H:%M:%S')} {message}", file=sys.stderr, flush=True)


class TutorServer(asyncssh.SSHServer):
    """One per connection: who the student is, and what they may open (one thing)."""

    def __init__(self, lab: Lab):
        self.lab = lab
        self.conn: asyncssh.SSHServerConnection | None = None
        self.student: str | None = None
        self._key_student: str | None = None
        self.peer = "?"

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self.conn = conn
        peer = conn.get_extra_info("peername") or ("?", 0)
        self.peer = f"{peer[0]}:{peer[1]}"

    def begin_auth(self, username: str) -> bool:
        if self.lab.options.open:
            if valid_student(username):
                self.student = username
                return False  # no authentication: the classroom network is trusted
            self.conn.send_auth_banner(
                f"autograd-tutor: {username[:70]!r} is not a student name"
                " (letters, digits, '.', '_', '-'; at most 64).\r\n"
            )
            return True  # and no method will succeed
        if self.lab.keys.reload_if_changed():
            self.lab.log(f"authorized keys re-read: {len(self.lab.keys.students)} students")
            for problem in self.lab.keys.problems:
                self.lab.log(problem)
        return True

    def public_key_auth_supported(self) -> bool:
        return self.lab.keys is not None

    def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        student = self.lab.keys.student(key)
        if student is None:
            return False
        self._key_student = student  # the key names the student; the user name is ignored
        return True

    def auth_completed(self) -> None:
        if not self.lab.options.open:
            self.student = self._key_student
        self.lab.log(f"{self.student}: connected from {self.peer}")

    def session_requested(self):
        return TutorSession(self.lab, self.student, self.peer)

    # Nothing but the tutor: every kind of forwarding is refused (asyncssh's defaults, made explicit).

    def connection_requested(self, dest_host, dest_port, orig_host, orig_port) -> bool:
        self.lab.log(f"{self.student}: refused port forwarding to {dest_host}:{dest_port}")
        return False

    def server_requested(self, listen_host, listen_port) -> bool:
        self.lab.log(f"{self.student}: refused remote forwarding from {listen_host}:{listen_port}")
        return False

    def unix_connection_requested(self, dest_path) -> bool:
        self.lab.log(f"{self.student}: refused socket forwarding")
        return False

    def unix_server_requested(self, listen_path) -> bool:
        self.lab.log(f"{self.student}: refused socket forwarding")
        return False

    def tun_requested(self, unit) -> bool:
        return False

    def tap_requested(self, unit) -> bool:
        return False


class TutorSession(asyncssh.SSHServerSession):
    """One SSH session channel <-> one tutor process on its own pty."""

    def __init__(self, lab: Lab, student: str, peer: str):
        self.lab = lab
        self.student = student
        self.peer = peer
        self.loop = asyncio.get_running_loop()
        self.chan: asyncssh.SSHServerChannel | None = None
        self.term: str | None = None
        self.cols, self.rows, self.pixels = 80, 24, (0, 0)
        self.master: int | None = None
        self.pid: int | None = None
        self.closed = False  # the connection is gone
        self.gone = False  # the tutor is gone (or being reaped)
        self.ending = False  # we asked the tutor to stop
        self.farewell = b""  # said after the tutor has gone (idle, shutdown)
        self.pending = bytearray()  # keystrokes not yet written to the pty
        self.reading = False
        self.paused = False
        self.writing = False
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
        else:
            self.lab.sessions.add(self)
            self.loop.create_task(self._start())

    def _refuse(self, message: str) -> None:
        self.chan.write_stderr(f"autograd-tutor: {message}\r\n".encode())
        self.chan.exit(1)

    async def _start(self) -> None:
        master, slave = os.openpty()
        self.master = master
        self._apply_size()
        # keys typed before the app takes the terminal neither echo nor raise signals
        attrs = termios.tcgetattr(slave)
        attrs[3] &= ~(termios.ECHO | termios.ICANON | termios.ISIG | termios.IEXTEN)
        termios.tcsetattr(slave, termios.TCSANOW, attrs)
        os.set_blocking(master, False)
        env = {k: v for k, v in self.chan.get_environment().items() if k == "COLORTERM"}
        try:
            self.pid = await self.lab.spawner.spawn(slave, self.student, self.term, self.cols, self.rows, env)
        except (OSError, ForkerLost) as err:
            self.lab.log(f"{self.student}: could not start a tutor: {err}")
            self._close_master()
            self.lab.sessions.discard(self)
            if not self.closed:
                self._refuse("could not start the tutor; tell your instructor.")
            return
        self.lab.log(f"{self.student}: session pid {self.pid} started")
        if self.closed:  # the student left while the tutor was starting
            self.gone = True
            self._stop_tutor()
            self._close_master()
            self._reap_later()
            return
        self._read(not self.paused)
        self._flush_input()
        self._arm_idle()

    # --- bytes both ways --------------------------------------------------------------------------

    def data_received(self, data: bytes, datatype) -> None:
        self.last_input = time.monotonic()
        if len(self.pending) + len(data) <= _INPUT_LIMIT:
            self.pending += data
        self._flush_input()

    def _flush_input(self) -> None:
        if self.master is None or self.pid is None:
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
        if not self.gone:
            self.gone = True
            self.loop.create_task(self._tutor_gone())

    def pause_writing(self) -> None:
        self.paused = True
        self._read(False)  # back-pressure: a slow client slows the tutor, not the server's memory

    def resume_writing(self) -> None:
        self.paused = False
        if self.pid is not None and not self.closed and not self.gone:
            self._read(True)

    def terminal_size_changed(self, width: int, height: int, pixwidth: int, pixheight: int) -> None:
        self.last_input = time.monotonic()
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
        self.lab.sessions.discard(self)
        if self.pid is not None and not self.gone:
            self.gone = True
            self._stop_tutor()
            self._close_master()  # the kernel hangs up the tutor's terminal: SIGHUP too
            self._reap_later()

    def end(self, farewell: str) -> None:
        """Ask the tutor to quit; `farewell` is shown once it has."""
        if farewell:
            self.farewell = f"\r\nautograd-tutor: {farewell}\r\n".encode()
        if self.pid is None:
            if not self.closed and self.chan is not None:
                self.chan.write(self.farewell)
                self.chan.exit(0)
            return
        self._stop_tutor()

    def _stop_tutor(self) -> None:
        if not self.ending and self.pid is not None:
            self.ending = True
            self.lab.spawner.end(self.pid, self.lab.options.grace)

    async def _tutor_gone(self) -> None:
        status = await self._exit_status(self.lab.options.grace + 5)
        self._cancel_idle()
        self.lab.log(f"{self.student}: session pid {self.pid} ended (status {status})")
        self._close_master()
        self.lab.sessions.discard(self)
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

        self.loop.create_task(reap())

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
            self.end(f"no key pressed for {_duration(timeout)}: session closed. Your progress is saved.")
        else:
            self._arm_idle()

    def _cancel_idle(self) -> None:
        if self.idle_timer is not None:
            self.idle_timer.cancel()
            self.idle_timer = None


def _duration(seconds: float) -> str:
    if seconds >= 120:
        return f"{seconds / 60:g} minutes"
    return f"{seconds:g} seconds"


# --- starting and stopping ----------------------------------------------------------------------------


def host_key(data_dir: Path) -> tuple[asyncssh.SSHKey, Path]:
    """The server's host key, generated on first start and kept in the data directory."""
    path = data_dir / HOST_KEY
    if not path.exists():
        key = asyncssh.generate_private_key("ssh-ed25519", comment="autograd-tutor")
        tmp = path.with_name(f".{HOST_KEY}.{os.getpid()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(key.export_private_key())
        os.replace(tmp, path)
        path.with_suffix(".pub").write_bytes(key.export_public_key())
    return asyncssh.read_private_key(path), path


def serve(options: ServeOptions, spawner=None) -> int:
    """Run the server until SIGINT/SIGTERM. `spawner` defaults to the warm forker."""
    data_dir = options.data_dir
    keys = None
    if options.authorized_keys is not None:
        try:
            keys = read_authorized_keys(options.authorized_keys)
        except OSError as err:
            print(f"autograd-tutor serve: cannot read {options.authorized_keys}: {err}", file=sys.stderr)
            return 2
        for problem in keys.problems:
            print(problem, file=sys.stderr)
        if not keys.students:
            print(f"autograd-tutor serve: no usable key in {options.authorized_keys}", file=sys.stderr)
            return 2
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / STUDENTS).mkdir(mode=0o700, exist_ok=True)
    if spawner is None:
        spawner = Forker.start(Options(tuple(options.lessons), str(data_dir)))
    try:
        spawner.wait_ready()
    except ForkerLost as err:
        print(f"autograd-tutor serve: {err}", file=sys.stderr)
        spawner.join(5)
        return 1
    for problem in spawner.problems:
        print(problem, file=sys.stderr)
    if not spawner.lessons:
        print("autograd-tutor serve: no lesson to serve", file=sys.stderr)
        spawner.join(10)
        return 2
    try:
        key, key_path = host_key(data_dir)
        return asyncio.run(_serve(options, Lab(options, spawner, keys), key, key_path))
    finally:
        spawner.close()
        spawner.join(options.grace + 5)


async def _serve(options: ServeOptions, lab: Lab, key, key_path: Path) -> int:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    failure: list[str] = []

    def lost() -> None:
        failure.append("the session parent exited")
        stop.set()

    lab.spawner.attach(loop)
    lab.spawner.on_lost = lost
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    acceptor = await asyncssh.create_server(
        lambda: TutorServer(lab),
        options.host,
        options.port,
        server_host_keys=[key],
        server_version="autograd_tutor",
        encoding=None,
        line_editor=False,
        allow_pty=True,
        agent_forwarding=False,
        x11_forwarding=False,
        allow_scp=False,
        password_auth=False,
        kbdint_auth=False,
        login_timeout=30,
        keepalive_interval=30,
        keepalive_count_max=4,
    )
    port = acceptor.sockets[0].getsockname()[1]
    _banner(options, lab, key, key_path, port)
    await stop.wait()
    lab.stopping = True
    lab.log("stopping: ending every session")
    acceptor.close()
    for session in list(lab.sessions):
        session.end("the server is stopping. Your progress is saved.")
    deadline = loop.time() + options.grace + 5
    while lab.sessions and loop.time() < deadline:
        await asyncio.sleep(0.05)
    with contextlib.suppress(Exception):
        await asyncio.wait_for(acceptor.wait_closed(), 5)
    if failure:
        print(f"autograd-tutor serve: {failure[0]}", file=sys.stderr)
        return 1
    return 0


def _banner(options: ServeOptions, lab: Lab, key, key_path: Path, port: int) -> None:
    out = sys.stdout
    print(f"autograd-tutor serve: listening on {options.host}:{port} ({lab.spawner.lessons} lessons)", file=out)
    print(f"  host key   {key.get_fingerprint()}  ({key_path})", file=out)
    print(f"  progress   {options.data_dir / STUDENTS}/NAME/progress.sqlite3", file=out)
    if options.open:
        print("  students   OPEN: any user name, no key, no password", file=out)
    else:
        print(f"  students   {len(lab.keys.students)} keys in {options.authorized_keys}", file=out)
    idle = f"{options.idle_timeout:g} s" if options.idle_timeout > 0 else "never"
    print(f"  limits     {options.max_sessions} sessions, idle timeout {idle}", file=out)
    print(f"  connect    ssh -p {port} NAME@{options.host}", file=out, flush=True)
    if options.open:
        warning = (
            f"WARNING: --open: anyone who can reach {options.host}:{port} gets in under any student name,\n"
            "WARNING: with no key and no password, and can read and change that student's progress.\n"
            "WARNING: Use it only on a trusted classroom network; otherwise use --authorized-keys."
        )
        print(warning, file=sys.stderr, flush=True)
