"""`autograd-tutor serve` end to end: the real `ssh` client against the server on 127.0.0.1."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import threading
import time
from pathlib import Path

import pexpect

from .conftest import CHAIN, TITLE, Server, alive, client_options, ssh_args, wait_gone


def run_ssh(port: int, user: str, key=None, *options: str, command=(), stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run(
        ssh_args(port, user, key, *options, command=command),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_step_is_saved_and_a_new_connection_resumes_it(keyed_server, keys, tmux, cli):
    server = keyed_server
    # the user name claimed ("mallory") is ignored: the key says alice
    tmux.start("first", ssh_args(server.port, "mallory", keys["alice"]))
    tmux.wait_for("first", TITLE)
    tmux.wait_for("first", "not started")  # the catalogue's progress column
    (pid,) = server.wait_log(r"alice: session pid (\d+) started")
    tmux.keys("first", "Enter")
    tmux.wait_for("first", "Step 1 of 5")
    tmux.wait_for("first", "PowBackward0")  # torch is ready
    tmux.type("first", "16")
    tmux.keys("first", "Enter")
    tmux.wait_for("first", "✓ 16 was right")  # saved, and on to step 2
    tmux.wait_for("first", "Step 2 of 5")

    client = tmux.pane_pid("first")
    tmux.kill("first")  # the connection drops: no quit, no goodbye
    assert not wait_gone([client, int(pid)], timeout=20), "the tutor outlived its connection"
    server.wait_log(rf"session pid {pid} ended")

    tmux.start("again", ssh_args(server.port, "someone-else", keys["alice"]))
    tmux.wait_for("again", "step 2 of 5")  # the catalogue's progress column
    tmux.keys("again", "C-n")  # continue
    tmux.wait_for("again", "Step 2 of 5 · Forward pass")
    tmux.keys("again", "C-q")
    tmux.wait_for("again", "EXIT=0")

    students = server.data / "students"
    assert sorted(p.name for p in students.iterdir()) == ["alice"]
    assert (students / "alice").stat().st_mode & 0o777 == 0o700
    db = sqlite3.connect(students / "alice" / "progress.sqlite3")
    assert db.execute("SELECT student, step, solved FROM progress").fetchall() == [("alice", 1, 1)]
    db.close()
    report = cli("report", "--data-dir", server.data, "--lessons", CHAIN, "--format", "csv").stdout.splitlines()
    assert report[1].startswith("alice,chain-rule-sin-square,Chain rule through sin(x²),step 2/5,1/5,")


def test_a_key_that_names_its_student_in_the_comment(keyed_server, keys, tmux):
    tmux.start("bob", ssh_args(keyed_server.port, "alice", keys["bob"]))
    tmux.wait_for("bob", TITLE)
    keyed_server.wait_log(r"bob: session pid \d+ started")
    tmux.keys("bob", "C-q")
    tmux.wait_for("bob", "EXIT=0")


def test_an_unknown_key_is_refused(keyed_server, keys):
    before = len(keyed_server.session_pids())
    result = run_ssh(keyed_server.port, "alice", keys["eve"])
    assert result.returncode == 255
    assert "Permission denied" in result.stderr
    no_key = run_ssh(keyed_server.port, "alice")  # and no password or keyboard-interactive either
    assert no_key.returncode == 255 and "Permission denied" in no_key.stderr
    assert len(keyed_server.session_pids()) == before


def test_nothing_but_the_tutor(keyed_server, keys, tmp_path):
    server, alice = keyed_server, keys["alice"]
    before = len(server.session_pids())

    result = run_ssh(server.port, "alice", alice, command=("ls", "/"))
    assert result.returncode != 0 and "exec request failed" in result.stderr
    assert "bin" not in result.stdout

    result = run_ssh(server.port, "alice", alice, "-s", command=("sftp",))
    assert result.returncode != 0 and "subsystem request failed" in result.stderr

    sftp = subprocess.run(
        ["sftp", "-b", "-", "-P", str(server.port), *client_options(alice), "alice@127.0.0.1"],
        input="ls /\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert sftp.returncode != 0

    result = run_ssh(server.port, "alice", alice, "-T", stdin="")  # a session without a terminal
    assert result.returncode == 1 and "needs a terminal" in result.stderr

    # -R: the server refuses to listen for the client
    result = run_ssh(
        server.port, "alice", alice, "-N", "-o", "ExitOnForwardFailure=yes", "-R", "127.0.0.1:0:127.0.0.1:9"
    )
    assert result.returncode == 255 and "forwarding failed" in result.stderr

    # -L: the client listens, but the server opens no connection for it
    target = socket.socket()
    target.bind(("127.0.0.1", 0))
    target.listen()
    target.settimeout(1)
    local = socket.socket()
    local.bind(("127.0.0.1", 0))
    local_port = local.getsockname()[1]
    local.close()
    forward = f"127.0.0.1:{local_port}:127.0.0.1:{target.getsockname()[1]}"
    client = subprocess.Popen(
        ssh_args(server.port, "alice", alice, "-N", "-L", forward),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        data = _through_forward(local_port)
        assert data == b""  # closed at once, nothing relayed
        try:
            target.accept()
            reached = True
        except TimeoutError:
            reached = False
        assert not reached, "a forwarded connection reached the target"
        server.wait_log(r"alice: refused port forwarding")
    finally:
        client.terminate()
        client.wait(timeout=20)
        target.close()
    assert "refused command 'ls /'" in server.log()
    assert "refused subsystem 'sftp'" in server.log()
    assert len(server.session_pids()) == before  # not one tutor was started


def _through_forward(port: int) -> bytes:
    """Connect to ssh's -L listener (once it listens), send a line, read what comes back."""
    deadline = time.monotonic() + 30
    while True:
        try:
            conn = socket.create_connection(("127.0.0.1", port), timeout=5)
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    with conn:
        conn.settimeout(10)
        try:
            conn.sendall(b"hello\n")
            return conn.recv(100)
        except (ConnectionResetError, BrokenPipeError):
            return b""


def test_a_resize_reaches_the_app(keyed_server, keys, tmux):
    def title_at(screen: str) -> int:
        first = screen.splitlines()[0] if screen.strip() else ""
        return first.find("autograd-tutor")

    tmux.start("wide", ssh_args(keyed_server.port, "alice", keys["alice"]))
    tmux.wait_for("wide", "Progress")  # the catalogue table
    screen = tmux.wait_until("wide", lambda s: "^p palette" in s and title_at(s) > 0, "the header and the footer")
    assert max(len(line.rstrip()) for line in screen.splitlines()) <= 80
    narrow = title_at(screen)
    tmux.run("resize-window", "-t", "wide", "-x", "120", "-y", "30")
    # the app redraws at the new size: the header's title is centred further right,
    # the footer spans 120 columns, and there are 30 lines
    screen = tmux.wait_until(
        "wide",
        lambda s: (
            title_at(s) > narrow + 10
            and any("^p palette" in line and len(line.rstrip()) > 100 for line in s.splitlines())
        ),
        "a redraw at 120 columns",
    )
    assert len(screen.splitlines()) == 30
    tmux.keys("wide", "C-q")
    tmux.wait_for("wide", "EXIT=0")


def test_twenty_sessions_at_once(tmp_path):
    """20 students connect at the same moment; each gets a tutor, quits, and is reaped."""
    server = Server(tmp_path, "--open", "--lessons", str(CHAIN), "--max-sessions", "25")
    clients: list[pexpect.spawn] = []
    try:
        errors: list[str] = []

        def connect(i: int) -> None:
            argv = ssh_args(server.port, f"student{i:02}")
            try:
                child = pexpect.spawn(argv[0], argv[1:], dimensions=(24, 80), timeout=90)
                clients.append(child)
                child.expect(TITLE)
            except Exception as err:  # reported below, with the others
                errors.append(f"student{i:02}: {type(err).__name__}")

        threads = [threading.Thread(target=connect, args=(i,)) for i in range(20)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert not errors, errors
        pids = [int(p) for p in server.wait_log(r"session pid (\d+) started", count=20)]
        assert len(set(pids)) == 20 and all(alive(p) for p in pids)
        assert server.watch() >= set(pids)  # all of them below the server
        for child in clients:
            child.send("\x11")  # ctrl+q
        for child in clients:
            child.expect(pexpect.EOF, timeout=60)
            child.close()
            assert child.exitstatus == 0
        assert not wait_gone(pids, timeout=30)
        server.wait_log(r"session pid \d+ ended \(status 0\)", count=20)
        assert sorted(p.name for p in (server.data / "students").iterdir()) == [f"student{i:02}" for i in range(20)]
    finally:
        for child in clients:
            child.close(force=True)
        server.stop()


def test_max_sessions_idle_timeout_and_a_bad_name(tmp_path):
    server = Server(tmp_path, "--open", "--lessons", str(CHAIN), "--max-sessions", "1", "--idle-timeout", "5")
    try:
        first = pexpect.spawn(
            ssh_args(server.port, "ann")[0], ssh_args(server.port, "ann")[1:], dimensions=(24, 80), timeout=60
        )
        first.expect(TITLE)
        (pid,) = server.wait_log(r"ann: session pid (\d+) started")

        full = subprocess.run(ssh_args(server.port, "ben", None, "-tt"), capture_output=True, text=True, timeout=60)
        assert full.returncode == 1 and "The lab is full (1 at once)" in full.stdout + full.stderr

        bad = run_ssh(server.port, "no..good/name", None, "-o", "LogLevel=INFO")  # INFO shows the banner
        assert bad.returncode == 255 and "not a student name" in bad.stderr

        # nobody types: the session ends by itself, the terminal is given back, the student told why
        first.expect("no key pressed for 5 seconds: session closed. Your progress is saved.", timeout=60)
        first.expect(pexpect.EOF, timeout=30)
        first.close()
        assert first.exitstatus == 0
        assert not wait_gone([int(pid)], timeout=20)
        assert "ann: idle for 5 s, session ended" in server.log()
    finally:
        server.stop()


def test_stopping_the_server_ends_every_session(tmp_path):
    server = Server(tmp_path, "--open", "--lessons", str(CHAIN))
    client = pexpect.spawn(ssh_args(server.port, "cid")[0], ssh_args(server.port, "cid")[1:], timeout=60)
    try:
        # a student whose progress cannot be opened is told so, and nothing else happens
        (server.data / "students" / "blocked").write_text("not a directory")
        argv = ssh_args(server.port, "blocked")
        blocked = pexpect.spawn(argv[0], argv[1:], timeout=60)
        blocked.expect("cannot open your progress")
        blocked.expect(pexpect.EOF)
        blocked.close()
        assert blocked.exitstatus == 1

        client.expect(TITLE)
        (pid,) = server.wait_log(r"cid: session pid (\d+) started")
        forker = server.watch() - {int(pid)}
        assert len(forker) == 1  # the warm parent, and the session below it
        (parent,) = forker
        assert os.listdir(f"/proc/{parent}/task") == [str(parent)]  # it forks with one thread only
        os.kill(server.proc.pid, signal.SIGTERM)
        client.expect("the server is stopping. Your progress is saved.", timeout=30)
        client.expect(pexpect.EOF, timeout=30)
        assert server.proc.wait(timeout=30) == 0
        assert not wait_gone([int(pid), *forker], timeout=20)
    finally:
        client.close(force=True)
        server.stop()


def test_a_killed_server_leaves_no_tutor_behind(tmp_path):
    """kill -9 of the server: its ptys hang up and the session parent, seeing the server
    gone, ends every tutor and exits."""
    server = Server(tmp_path, "--open", "--lessons", str(CHAIN))
    argv = ssh_args(server.port, "dee")
    client = pexpect.spawn(argv[0], argv[1:], timeout=60)
    try:
        client.expect(TITLE)
        server.wait_log(r"dee: session pid \d+ started")
        below = server.watch()
        assert len(below) == 2  # the session parent and dee's tutor
        os.kill(server.proc.pid, signal.SIGKILL)
        server.proc.wait(timeout=10)
        assert not wait_gone(below, timeout=20)
        client.expect(pexpect.EOF, timeout=30)
    finally:
        client.close(force=True)
        server.stop()


def test_a_tutor_started_ahead_shows_its_students_own_progress(tmp_path, tmux):
    """With tutors started ahead, the one a returning student gets was drawn before anyone
    connected: it must show that student's progress, at the student's window size, and
    save to the student's own store."""
    server = Server(tmp_path, "--open", "--lessons", str(CHAIN), "--ready", "2")
    try:
        server.wait_log("2 tutors started ahead are ready")
        tmux.start("first", ssh_args(server.port, "rita"))
        tmux.wait_for("first", "not started")
        tmux.keys("first", "Enter")
        tmux.wait_for("first", "PowBackward0")
        tmux.type("first", "16")
        tmux.keys("first", "Enter")
        tmux.wait_for("first", "Step 2 of 5")
        tmux.keys("first", "C-q")
        tmux.wait_for("first", "EXIT=0")
        server.wait_log("2 tutors started ahead are ready", count=2)  # refilled once it was quiet
        started = len(server.session_pids())
        tmux.start("again", ssh_args(server.port, "rita"))
        screen = tmux.wait_for("again", "step 2 of 5")
        assert "autograd-tutor" in screen.splitlines()[0]  # drawn at 80x24, not at the size it waited at
        (pid,) = server.session_pids()[started:]
        assert Path(f"/proc/{pid}/comm").read_text().strip() == "agt-rita"
        tmux.keys("again", "C-q")
        tmux.wait_for("again", "EXIT=0")
        assert sorted(p.name for p in (server.data / "students").iterdir()) == ["rita"]
    finally:
        server.stop()
