"""`autograd-tutor lab` as the ForceCommand of a real OpenSSH sshd, with the Match block
of docs/lab.md, on a loopback port, with its own host key and config in a temporary
directory. sshd needs root; the Match block matches the user running the tests (the
documented `Match Group tutor-students` becomes `Match User <that user>`, so no account
or group is created on the machine)."""

from __future__ import annotations

import getpass
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import CHAIN, TITLE, client_options, descendants, keygen, public, ssh_args, wait_gone

DOCS = Path(__file__).parent.parent.parent / "docs" / "lab.md"
SSHD = "/usr/sbin/sshd"

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="sshd's privilege separation needs root"),
    pytest.mark.skipif(not os.path.exists(SSHD), reason="needs Debian's openssh-server (/usr/sbin/sshd)"),
]


def documented_match_block() -> list[str]:
    """The `Match Group tutor-students` block of docs/lab.md's sshd_config."""
    text = DOCS.read_text()
    block = re.search(r"```\n(Match Group tutor-students\n(?:    .*\n)+)```", text)
    assert block, "docs/lab.md has no sshd_config Match block"
    return block.group(1).splitlines()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def sshd(tmp_path):
    user = getpass.getuser()
    data = tmp_path / "data"
    data.mkdir()
    (data / "students").mkdir(mode=0o1733)  # the self-service layout: each tutor makes its own directory
    (data / "students").chmod(0o1733)
    host_key = tmp_path / "ssh_host_ed25519_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(host_key)], check=True, timeout=30)
    client = keygen(tmp_path, "student")
    (tmp_path / "authorized_keys").write_text(public(client) + "\n")
    port = free_port()
    match = [
        line.replace("Match Group tutor-students", f"Match User {user}")
        .replace("/opt/autograd-tutor/.venv/bin/python", sys.executable)
        .replace("--data-dir /srv/autograd-lab", f"--data-dir {data} --lessons {CHAIN}")
        for line in documented_match_block()
    ]
    config = tmp_path / "sshd_config"
    config.write_text(
        "\n".join(
            [
                f"Port {port}",
                "ListenAddress 127.0.0.1",
                f"HostKey {host_key}",
                "PidFile none",
                f"AuthorizedKeysFile {tmp_path}/authorized_keys",
                "StrictModes no",
                "UsePAM no",
                "PasswordAuthentication no",
                "KbdInteractiveAuthentication no",
                "PubkeyAuthentication yes",
                "PermitRootLogin prohibit-password",
                f"AllowUsers {user}",
                "Subsystem sftp internal-sftp",
                "AcceptEnv PYTHON* TEXTUAL* LANG LC_*",  # the worst case: a server that lets clients set them
                *match,
                "",
            ]
        )
    )
    # sshd's privilege separation directory, which the package's service unit makes at boot;
    # it stays (a system sshd expects it), everything else of the test is in tmp_path
    os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
    with open(tmp_path / "sshd.log", "wb") as log:
        proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(config)], stdout=log, stderr=log, stdin=subprocess.DEVNULL)
    seen: set[int] = set()
    try:
        deadline = time.monotonic() + 30
        while "Server listening" not in (tmp_path / "sshd.log").read_text():
            assert proc.poll() is None, (tmp_path / "sshd.log").read_text()
            assert time.monotonic() < deadline, "sshd did not start"
            time.sleep(0.05)
        yield {"port": port, "user": user, "key": client, "data": data, "proc": proc, "seen": seen}
    finally:
        seen |= descendants(proc.pid)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        left = wait_gone(seen, timeout=15)
        for pid in left:
            os.kill(pid, signal.SIGKILL)
        assert not left, f"left behind: {left}"


def test_a_step_through_sshd_and_the_documented_force_command(sshd, tmux, cli):
    port, user, key, data = sshd["port"], sshd["user"], sshd["key"], sshd["data"]
    tmux.start("lab", ssh_args(port, user, key))
    tmux.wait_for("lab", TITLE)
    sshd["seen"] |= descendants(sshd["proc"].pid)
    tmux.keys("lab", "Enter")
    tmux.wait_for("lab", "Step 1 of 5")
    tmux.wait_for("lab", "PowBackward0")
    tmux.type("lab", "16")
    tmux.keys("lab", "Enter")
    tmux.wait_for("lab", "✓ 16 was right")  # saved, and on to step 2
    tmux.wait_for("lab", "Step 2 of 5")
    tmux.keys("lab", "C-q")
    tmux.wait_for("lab", "EXIT=0")

    mine = data / "students" / user
    info = mine.stat()
    assert info.st_uid == os.getuid() and info.st_mode & 0o777 == 0o700
    db = sqlite3.connect(mine / "progress.sqlite3")
    assert db.execute("SELECT student, step, solved FROM progress").fetchall() == [(user, 1, 1)]
    db.close()

    report = cli("report", "--data-dir", data, "--lessons", CHAIN)
    assert report.returncode == 0, report.stderr
    assert any(
        line.split()[:5] == [user, "chain-rule-sin-square", "step", "2/5", "1/5"] for line in report.stdout.splitlines()
    )


def test_sshd_gives_the_tutor_and_nothing_else(sshd):
    port, user, key = sshd["port"], sshd["user"], sshd["key"]

    def ssh(*options: str, command=(), stdin: str = "") -> subprocess.CompletedProcess:
        argv = ssh_args(port, user, key, *options, command=command)
        return subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=60)

    result = ssh(command=("ls", "/"))
    assert result.returncode == 1 and "runs the tutor only" in result.stderr and "bin" not in result.stdout
    result = ssh("-T")
    assert result.returncode == 1 and "needs a terminal" in result.stderr
    sftp = subprocess.run(
        ["sftp", "-b", "-", "-P", str(port), *client_options(key), f"{user}@127.0.0.1"],
        input="ls /\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert sftp.returncode != 0
    result = ssh("-N", "-o", "ExitOnForwardFailure=yes", "-R", "127.0.0.1:0:127.0.0.1:9")
    assert result.returncode == 255 and "forwarding failed" in result.stderr


def test_the_students_environment_cannot_reach_python(sshd, tmux, tmp_path):
    """With sshd accepting PYTHON* and TEXTUAL* from clients, a student sends
    PYTHONINSPECT (quitting would drop to `>>>`), PYTHONPATH with a sitecustomize.py and a
    crafted TERM: the tutor runs isolated, and quitting ends the session."""
    port, user, key = sshd["port"], sshd["user"], sshd["key"]
    evil = tmp_path / "evil"
    evil.mkdir()
    marker = tmp_path / "ran"
    (evil / "sitecustomize.py").write_text(f"open({str(marker)!r}, 'w').write('ran')\n")
    sent = f"PYTHONINSPECT=1 PYTHONPATH={evil} TEXTUAL=devtools TEXTUAL_DRIVER=os:system"
    tmux.start("lab", ["env", "TERM=../../x;y", *ssh_args(port, user, key, "-o", f"SetEnv={sent}", "-tt")])
    tmux.wait_for("lab", TITLE)
    sshd["seen"] |= descendants(sshd["proc"].pid)
    (tutor,) = [
        p for p in descendants(sshd["proc"].pid) if b"autograd_tutor" in Path(f"/proc/{p}/cmdline").read_bytes()
    ]
    assert Path(f"/proc/{tutor}/cmdline").read_bytes().split(b"\0")[1] == b"-I"
    env = dict(item.split(b"=", 1) for item in Path(f"/proc/{tutor}/environ").read_bytes().split(b"\0") if item)
    assert env[b"TERM"] == b"xterm-256color"
    assert not [name for name in env if name.startswith((b"PYTHON", b"TEXTUAL"))]
    tmux.keys("lab", "C-q")
    screen = tmux.wait_for("lab", "EXIT=")
    assert "EXIT=0" in screen and ">>>" not in screen
    assert not marker.exists()
