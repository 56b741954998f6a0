"""The lab's defences, each against the attack that broke it (SECURITY.md), over real SSH."""

from __future__ import annotations

import asyncio
import os
import re
import resource
import socket
import subprocess
import threading
import time

import asyncssh
import pexpect

from .conftest import CHAIN, TITLE, Server, ssh_args


def spawn_ssh(port: int, user: str, *options: str) -> pexpect.spawn:
    argv = ssh_args(port, user, None, *options)
    return pexpect.spawn(argv[0], argv[1:], dimensions=(24, 80), timeout=60)


def test_students_hanging_up_at_once_cannot_stop_the_lab(tmp_path):
    """Connect and send EOF at once, many times and in parallel: each new tutor is told to
    stop while it is still starting. No child may reach the session parent's signal
    handling: a student who is working keeps working, and new students still get in."""
    server = Server(tmp_path, "--open", "--lessons", str(CHAIN), "--max-sessions", "40")
    working = spawn_ssh(server.port, "worker")
    try:
        working.expect(TITLE)

        def hang_up(i: int) -> None:
            argv = ssh_args(server.port, f"quitter{i}", None, "-tt")
            subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=60, check=False)

        for _round in range(4):
            threads = [threading.Thread(target=hang_up, args=(i,)) for i in range(10)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=90)
        assert server.proc.poll() is None, server.log()
        assert "the session parent exited" not in server.log()
        working.send("\r")  # the working student opens the lesson: their tutor is still there
        working.expect("Step 1 of 5")
        late = spawn_ssh(server.port, "late")
        late.expect(TITLE)
        late.send("\x11")
        late.expect(pexpect.EOF)
        working.send("\x11")
        working.expect(pexpect.EOF)
    finally:
        working.close(force=True)
        server.stop()


def test_one_connection_cannot_take_every_session(tmp_path, tmux):
    """50 session channels on one connection give that student 2 tutors (the default
    --max-sessions-per-student) and a clear refusal for the rest; a third session from
    another connection is refused by name; other students still get in."""
    server = Server(tmp_path, "--open", "--lessons", str(CHAIN), "--max-sessions", "10")

    async def greedy() -> list:
        async with asyncssh.connect(
            "127.0.0.1", server.port, username="greedy", known_hosts=None, client_keys=(), agent_path=None
        ) as conn:
            opened = await asyncio.gather(
                *[conn.create_session(asyncssh.SSHClientSession, term_type="xterm", term_size=(80, 24))
                  for _ in range(50)],
                return_exceptions=True,
            )  # fmt: skip
            server.wait_log(r"greedy: session pid \d+ started", count=2)
            third = subprocess.run(
                ssh_args(server.port, "greedy", None, "-tt"), capture_output=True, text=True, timeout=60
            )
            return [opened, third]

    try:
        opened, third = asyncio.run(asyncio.wait_for(greedy(), 120))
        refused = [r for r in opened if isinstance(r, asyncssh.ChannelOpenError)]
        assert len(refused) == 48 and all("at most 2 sessions on one connection" in r.reason for r in refused)
        assert third.returncode == 1
        assert "you already have 2 tutor sessions open" in third.stdout + third.stderr
        assert len(re.findall(r"greedy: session pid \d+ started", server.log())) == 2
        tmux.start("other", ssh_args(server.port, "other"))
        tmux.wait_for("other", TITLE)
        tmux.keys("other", "C-q")
        tmux.wait_for("other", "EXIT=0")
    finally:
        server.stop()


def silent_connections(port: int, count: int) -> list[socket.socket]:
    """TCP connections that never say a word (an attacker's, or a stuck client's)."""
    held = []
    for _ in range(count):
        try:
            held.append(socket.create_connection(("127.0.0.1", port), timeout=5))
        except OSError:
            break
    return held


def connects(port: int, student: str, attempts: int = 30) -> bool:
    """A real student's `ssh` reaches the catalogue, trying for a while (bounded)."""
    for _ in range(attempts):
        client = spawn_ssh(port, student)
        try:
            client.expect(TITLE, timeout=15)
            client.send("\x11")
            client.expect(pexpect.EOF, timeout=30)
            return True
        except (pexpect.EOF, pexpect.TIMEOUT):
            time.sleep(0.5)
        finally:
            client.close(force=True)
    return False


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def test_silent_connections_cannot_lock_students_out(tmp_path):
    """300 silent TCP connections: beyond --max-startups pending logins new connections
    are dropped (the server's descriptors stay bounded), a student already in keeps
    working, and once the silent ones time out, students get in again."""
    server = Server(tmp_path, "--open", "--lessons", str(CHAIN), "--max-startups", "10:30:20", "--login-timeout", "3")
    inside = spawn_ssh(server.port, "inside")
    held: list[socket.socket] = []
    try:
        inside.expect(TITLE)
        held = silent_connections(server.port, 300)
        server.wait_log(r"dropping new connections: \d+ logins pending \(--max-startups 10:30:20\)")
        assert open_fds(server.proc.pid) < 80, "the server holds a descriptor for every silent connection"
        inside.send("\r")  # the student who is in keeps working
        inside.expect("Step 1 of 5")
        assert connects(server.port, "newcomer"), server.log()
        inside.send("\x11")
        inside.expect(pexpect.EOF)
    finally:
        for sock in held:
            sock.close()
        inside.close(force=True)
        server.stop()


def test_out_of_file_descriptors_the_server_keeps_accepting(tmp_path):
    """With a low descriptor limit and no MaxStartups cap, silent connections exhaust the
    descriptors: the server closes new connections at once instead of stopping, and lets
    students in as soon as descriptors are free again."""

    def few_descriptors() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))

    server = Server(
        tmp_path,
        "--open",
        "--lessons",
        str(CHAIN),
        "--max-startups",
        "1000",
        "--login-timeout",
        "3",
        preexec_fn=few_descriptors,
    )
    held: list[socket.socket] = []
    try:
        held = silent_connections(server.port, 120)
        server.wait_log(r"out of file descriptors: new connections are closed at once")
        late = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        late.settimeout(10)
        answer = late.recv(100)  # closed at once, or served: never left waiting in the backlog
        assert answer == b"" or answer.startswith(b"SSH-2.0-autograd_tutor")
        late.close()
        assert server.proc.poll() is None
        assert connects(server.port, "patient"), server.log()
    finally:
        for sock in held:
            sock.close()
        server.stop()


def test_a_connection_without_a_tutor_is_idle(tmp_path):
    """`ssh -N` (logged in, no session) is disconnected after --idle-timeout, with the reason."""
    server = Server(tmp_path, "--open", "--lessons", str(CHAIN), "--idle-timeout", "3")
    try:
        result = subprocess.run(
            ssh_args(server.port, "lurker", None, "-N", "-o", "LogLevel=INFO"),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 255
        assert "no tutor session for 3 seconds" in result.stderr
        assert "lurker: no tutor for 3 s, disconnected" in server.log()
    finally:
        server.stop()


def test_resizing_the_window_does_not_keep_a_session_alive(tmp_path):
    server = Server(tmp_path, "--open", "--lessons", str(CHAIN), "--idle-timeout", "4")
    client = spawn_ssh(server.port, "resizer")
    try:
        client.expect(TITLE)
        ended = False
        for i in range(40):  # 20 s of resizing, bounded
            client.setwinsize(24 + i % 2, 80)
            try:
                client.expect("no key pressed for 4 seconds: session closed", timeout=0.5)
                ended = True
                break
            except pexpect.TIMEOUT:
                continue
        assert ended, server.log()
        client.expect(pexpect.EOF, timeout=30)
    finally:
        client.close(force=True)
        server.stop()


def test_two_sessions_of_one_student_merge_their_progress(tmp_path, tmux, cli):
    """Window B opens the lesson, window A solves two steps, then B takes a hint: both
    steps stay solved, and the hint counts."""
    server = Server(tmp_path, "--open", "--lessons", str(CHAIN))
    try:
        for window in ("second", "first"):
            tmux.start(window, ssh_args(server.port, "ann"))
            tmux.wait_for(window, TITLE)
            tmux.keys(window, "Enter")
            tmux.wait_for(window, "PowBackward0")  # in the lesson, torch ready
        tmux.type("first", "16")
        tmux.keys("first", "Enter")
        tmux.wait_for("first", "Step 2 of 5")
        tmux.type("first", "sin(16)")
        tmux.keys("first", "Enter")
        tmux.wait_for("first", "Step 3 of 5")
        tmux.keys("second", "C-t")
        tmux.wait_for("second", "Put the values")  # the hint is shown (and saved)
        report = cli("report", "--data-dir", server.data, "--lessons", CHAIN, "--format", "csv").stdout.splitlines()
        assert report[1].split(",")[3:8] == ["step 1/5", "2/5", "2", "5", "0"]  # status, score, solved, asked, attempts
        assert report[1].split(",")[8] == "1"  # hints
        for window in ("first", "second"):
            tmux.keys(window, "C-q")
            tmux.wait_for(window, "EXIT=0")
    finally:
        server.stop()
