"""The lab's defences, each against the attack that broke it (SECURITY.md), over real SSH."""

from __future__ import annotations

import subprocess
import threading

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
