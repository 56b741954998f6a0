"""`autograd-tutor serve`: an SSH server where every session is a student's own tutor.

One asyncio process speaks SSH (asyncssh); it never runs a tutor itself. Each session
channel (`channel.TutorSession`) gets a pseudo-terminal whose slave side goes to the
warm parent (`spawner.ForkSpawner`), which forks the tutor onto it.

What a client gets is the tutor and nothing else: `exec` (`ssh host ls`), subsystems
(sftp), TCP/UNIX forwarding (-L, -R, -D), agent and X11 forwarding are all refused, and
a session without a terminal is turned away with a message.

What one client can take is bounded (SECURITY.md): logins pending at once (`Startups`,
as OpenSSH's MaxStartups), session channels per connection, tutors per student and in
all, and time: a login must finish within `login_timeout`, and a connection or session
where no key is pressed for `idle_timeout` is closed. Running out of file descriptors
does not stop the server accepting: new connections are closed at once until some are
free again.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import random
import resource
import socket
import sys
import time
from pathlib import Path

import asyncssh

from ..progress import STUDENTS, valid_student
from .channel import TutorSession, duration
from .context import Lab, ServeOptions
from .keys import read_authorized_keys
from .parent import Options
from .spawner import ForkSpawner, Spawner, serve_with

HOST_KEY = "ssh_host_ed25519_key"
_OUT_OF_FDS = {errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM}


class TutorServer(asyncssh.SSHServer):
    """One per connection: who the student is, what they may open, how long they may idle."""

    def __init__(self, lab: Lab):
        self.lab = lab
        self.conn: asyncssh.SSHServerConnection | None = None
        self.student: str | None = None
        self._key_student: str | None = None
        self.peer = "?"
        self.channels = 0  # session channels open now
        self.tutors = 0  # of which have a tutor
        self.idle_timer: asyncio.TimerHandle | None = None

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self.conn = conn
        peer = conn.get_extra_info("peername") or ("?", 0)
        self.peer = f"{peer[0]}:{peer[1]}"

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_idle()

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
        self._arm_idle()

    def session_requested(self) -> TutorSession:
        most = self.lab.options.max_sessions_per_student
        if self.channels >= most:
            self.lab.log(f"{self.student}: refused a session channel, {most} open on one connection")
            raise asyncssh.ChannelOpenError(
                asyncssh.OPEN_ADMINISTRATIVELY_PROHIBITED, f"autograd-tutor: at most {most} sessions on one connection"
            )
        self.channels += 1
        return TutorSession(self.lab, self.student, self.peer, owner=self)

    # the owner of its sessions (channel.Owner)

    def channel_closed(self, session: TutorSession) -> None:
        self.channels -= 1

    def tutor_started(self, session: TutorSession) -> None:
        self.tutors += 1
        self._cancel_idle()

    def tutor_ended(self, session: TutorSession) -> None:
        self.tutors -= 1
        if self.tutors == 0:
            self._arm_idle()

    def _arm_idle(self) -> None:
        """A connection without a tutor is idle, whatever else it sends (a keepalive,
        a window size, a channel it never starts)."""
        timeout = self.lab.options.idle_timeout
        if timeout > 0 and self.tutors == 0 and self.conn is not None:
            self._cancel_idle()
            self.idle_timer = asyncio.get_running_loop().call_later(timeout, self._idle)

    def _idle(self) -> None:
        self.idle_timer = None
        if self.tutors == 0:
            timeout = self.lab.options.idle_timeout
            self.lab.log(f"{self.student}: no tutor for {timeout:g} s, disconnected")
            self.conn.disconnect(
                asyncssh.DISC_BY_APPLICATION, f"autograd-tutor: no tutor session for {duration(timeout)}"
            )

    def _cancel_idle(self) -> None:
        if self.idle_timer is not None:
            self.idle_timer.cancel()
            self.idle_timer = None

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


class Acceptor:
    """Accepts TCP connections and hands them to asyncssh, within the limits: logins
    pending at once (MaxStartups), and file descriptors (out of them, a spare one is
    given up to accept and close each new connection at once, so that the server keeps
    accepting and clients are told rather than left waiting)."""

    def __init__(self, lab: Lab, sock: socket.socket, ssh_options: asyncssh.SSHServerConnectionOptions):
        self.lab = lab
        self.sock = sock
        self.ssh_options = ssh_options
        self.pending = 0  # accepted, not yet logged in
        self.spare: int | None = _spare_fd()
        self.loop = asyncio.get_running_loop()
        self._said: dict[str, float] = {}
        sock.setblocking(False)
        self.loop.add_reader(sock.fileno(), self._accept)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.loop.remove_reader(self.sock.fileno())
        self.sock.close()
        if self.spare is not None:
            os.close(self.spare)
            self.spare = None

    def _accept(self) -> None:
        for _ in range(64):  # then let the loop serve the others
            try:
                conn, peer = self.sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as err:
                if err.errno in _OUT_OF_FDS:
                    self._shed()
                elif err.errno not in (errno.ECONNABORTED, errno.EPROTO):
                    self._say("accept", f"accept failed: {err}")
                continue
            chance = self.lab.options.startups.drop_chance(self.pending)
            if chance and random.random() < chance:
                conn.close()
                self._say("startups", f"dropping new connections: {self.pending} logins pending"
                          f" (--max-startups {self.lab.options.startups})")  # fmt: skip
                continue
            self.pending += 1
            self.lab.task(self._login(conn))

    async def _login(self, conn: socket.socket) -> None:
        try:
            await asyncssh.run_server(conn, options=self.ssh_options)
        except (OSError, asyncssh.Error, TimeoutError):
            pass  # a failed or abandoned login: asyncssh has closed it
        except Exception as err:  # never let one connection end the server
            self.lab.log(f"a login failed unexpectedly: {err!r}")
        finally:
            self.pending -= 1

    def _shed(self) -> None:
        if self.spare is not None:
            os.close(self.spare)
            self.spare = None
            with contextlib.suppress(OSError):
                conn, _peer = self.sock.accept()
                conn.close()
            self.spare = _spare_fd()
        else:  # no spare to give up: wait a little for descriptors to come free
            self.loop.remove_reader(self.sock.fileno())
            self.loop.call_later(0.1, self.loop.add_reader, self.sock.fileno(), self._accept)
        self._say("fds", "out of file descriptors: new connections are closed at once until some are free")

    def _say(self, what: str, message: str) -> None:
        """Log `message`, at most once every 10 s for each `what`."""
        now = time.monotonic()
        if now - self._said.get(what, -1e9) >= 10:
            self._said[what] = now
            self.lab.log(message)


def _spare_fd() -> int | None:
    try:
        return os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None


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


def raise_fd_limit() -> int:
    """As many file descriptors as the system lets this process have; that number."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        wanted = 65536 if hard == resource.RLIM_INFINITY else hard
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def serve(options: ServeOptions, spawner: Spawner | None = None) -> int:
    """Run the server until SIGINT/SIGTERM. `spawner` defaults to the warm parent."""
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
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        (data_dir / STUDENTS).mkdir(mode=0o700, exist_ok=True)
        key, key_path = host_key(data_dir)
        family = socket.AF_INET6 if ":" in options.host else socket.AF_INET
        listener = socket.create_server((options.host, options.port), family=family, backlog=512)
    except OSError as err:
        print(f"autograd-tutor serve: {err}", file=sys.stderr)
        return 1
    fds = raise_fd_limit()
    if spawner is None:
        spawner = ForkSpawner.start(Options(tuple(options.lessons), str(data_dir), ready=options.ready))
    with listener:
        lab = Lab(options, spawner, keys)
        return serve_with(
            "serve", spawner, options.grace, lambda: asyncio.run(_serve(lab, listener, key, key_path, fds))
        )


async def _serve(lab: Lab, listener: socket.socket, key, key_path: Path, fds: int) -> int:
    options = lab.options
    stop = lab.until_stopped()
    ssh_options = await asyncssh.SSHServerConnectionOptions.construct(
        server_factory=lambda: TutorServer(lab),
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
        login_timeout=options.login_timeout,
        keepalive_interval=30,
        keepalive_count_max=4,
    )
    acceptor = Acceptor(lab, listener, ssh_options)
    _banner(lab, key, key_path, listener.getsockname()[1], fds)
    await stop.wait()
    acceptor.close()
    await lab.end_sessions()
    if lab.failure:
        print(f"autograd-tutor serve: {lab.failure}", file=sys.stderr)
        return 1
    return 0


def _banner(lab: Lab, key, key_path: Path, port: int, fds: int) -> None:
    options, out = lab.options, sys.stdout
    print(f"autograd-tutor serve: listening on {options.host}:{port} ({lab.spawner.lessons} lessons)", file=out)
    print(f"  host key   {key.get_fingerprint()}  ({key_path})", file=out)
    print(f"  progress   {options.data_dir / STUDENTS}/NAME/progress.sqlite3", file=out)
    if options.open:
        print("  students   OPEN: any user name, no key, no password", file=out)
    else:
        print(f"  students   {len(lab.keys.students)} keys in {options.authorized_keys}", file=out)
    idle = f"{options.idle_timeout:g} s" if options.idle_timeout > 0 else "never"
    print(
        f"  limits     {options.max_sessions} sessions, {options.max_sessions_per_student} per student,"
        f" idle timeout {idle}, logins pending {options.startups}, {fds} file descriptors;"
        f" {options.ready} tutors started ahead",
        file=out,
    )
    print(f"  connect    ssh -p {port} NAME@{options.host}", file=out, flush=True)
    if options.open:
        warning = (
            f"WARNING: --open: anyone who can reach {options.host}:{port} gets in under any student name,\n"
            "WARNING: with no key and no password, and can read and change that student's progress.\n"
            "WARNING: Use it only on a trusted classroom network; otherwise use --authorized-keys."
        )
        print(warning, file=sys.stderr, flush=True)
