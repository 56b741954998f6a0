"""Real components for the lab tests: `autograd-tutor serve` on 127.0.0.1, OpenSSH's
`ssh` client in tmux (its own tmux server) or in a pty (pexpect), keys made by
`ssh-keygen`. Everything is bounded in time, and every process a test starts is
ended by pid and checked gone."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

TESTS = Path(__file__).parent.parent
LESSONS = TESTS / "lessons"
CHAIN = LESSONS / "chain.yaml"
COMMAND = Path(sys.executable).parent / "autograd-tutor"
TITLE = "Chain rule through sin"  # the catalogue of CHAIN


def alive(pid: int) -> bool:
    """Running (a zombie has finished: it only waits to be reaped)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False


def wait_gone(pids, timeout: float = 20) -> list[int]:
    """The pids still running after `timeout` seconds (empty when all are gone)."""
    deadline = time.monotonic() + timeout
    left = [p for p in pids if alive(p)]
    while left and time.monotonic() < deadline:
        time.sleep(0.05)
        left = [p for p in left if alive(p)]
    return left


def descendants(root: int) -> set[int]:
    """Every running process below `root` (by parent pid)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    found, todo = set(), [root]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return {p for p in found if alive(p)}


def client_options(key: Path | None = None) -> list[str]:
    """For OpenSSH's clients (ssh, sftp): ignore every user and system setting."""
    args = ["-F", "/dev/null", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null"]
    args += ["-o", "LogLevel=ERROR", "-o", "BatchMode=yes", "-o", "IdentityAgent=none", "-o", "ConnectTimeout=20"]
    if key is not None:
        return [*args, "-i", str(key), "-o", "IdentitiesOnly=yes"]
    return [*args, "-o", "PubkeyAuthentication=no"]


def ssh_args(port: int, user: str, key: Path | None = None, *options: str, command: tuple = ()) -> list[str]:
    # ssh takes the first value it is given: `options` come first, so they win
    return ["ssh", "-p", str(port), *options, *client_options(key), f"{user}@127.0.0.1", *command]


def keygen(directory: Path, name: str) -> Path:
    """A fresh ed25519 key pair; the private key's path (public: .pub)."""
    key = directory / name
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"{name}@laptop", "-f", str(key)],
        check=True,
        timeout=30,
    )
    return key


def public(key: Path) -> str:
    return key.with_suffix(".pub").read_text().strip()


class Server:
    """`autograd-tutor serve` in a subprocess, on 127.0.0.1 and a port the OS picks."""

    def __init__(self, directory: Path, *args: str, preexec_fn=None):
        self.dir = directory
        self.data = directory / "data"
        self.out_path = directory / "serve.out"
        self.err_path = directory / "serve.err"
        argv = [str(COMMAND), "serve", "--host", "127.0.0.1", "--port", "0", "--data-dir", str(self.data), *args]
        if "--ready" not in args:
            argv += ["--ready", "1"]  # one tutor started ahead: both ways of starting one are used
        with open(self.out_path, "wb") as out, open(self.err_path, "wb") as err:
            self.proc = subprocess.Popen(argv, stdout=out, stderr=err, stdin=subprocess.DEVNULL, preexec_fn=preexec_fn)
        self.seen: set[int] = set()  # every process ever seen below the server
        self.port = self._wait_listening()

    def _wait_listening(self, timeout: float = 120) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = re.search(r"listening on 127\.0\.0\.1:(\d+)", self.out_path.read_text())
            if found:
                self.watch()
                return int(found.group(1))
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        self.stop()
        raise AssertionError(f"serve did not start:\n{self.out_path.read_text()}\n{self.err_path.read_text()}")

    def log(self) -> str:
        return self.err_path.read_text()

    def watch(self) -> set[int]:
        now = descendants(self.proc.pid)
        self.seen |= now
        return now

    def session_pids(self) -> list[int]:
        return [int(p) for p in re.findall(r"session pid (\d+) started", self.log())]

    def ended(self, pid: int) -> bool:
        return re.search(rf"session pid {pid} ended", self.log()) is not None

    def wait_log(self, pattern: str, count: int = 1, timeout: float = 30) -> list[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = re.findall(pattern, self.log())
            if len(found) >= count:
                return found
            time.sleep(0.05)
        raise AssertionError(f"{pattern!r} ({count}x) never appeared in the log:\n{self.log()}")

    def stop(self) -> None:
        """SIGTERM, as an instructor's ^C would; bounded; then nothing of it may remain."""
        self.watch()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        left = wait_gone(self.seen, timeout=15)
        for pid in left:  # ours, by pid, so that a failing test leaves nothing behind
            os.kill(pid, signal.SIGKILL)
        assert not left, f"processes left behind by serve: {left}"


class Tmux:
    """A terminal: tmux on its own socket, 80x24; keys at a typist's pace."""

    PACE = 0.05

    def __init__(self, socket: str):
        assert shutil.which("tmux"), "these tests need tmux (apt-get install tmux)"
        self.socket = socket
        self.names: list[str] = []

    def run(self, *args: str) -> str:
        return subprocess.run(
            ["tmux", "-L", self.socket, *args], check=True, capture_output=True, text=True, timeout=30
        ).stdout

    def start(self, name: str, argv: list[str]) -> None:
        command = " ".join(_quote(a) for a in argv)
        self.run("new-session", "-d", "-s", name, "-x", "80", "-y", "24", f"{command}; echo EXIT=$?; sleep 600")
        self.names.append(name)

    def keys(self, name: str, *keys: str) -> None:
        for key in keys:
            self.run("send-keys", "-t", name, key)
            time.sleep(self.PACE)

    def type(self, name: str, text: str) -> None:
        self.run("send-keys", "-t", name, "-l", text)
        time.sleep(self.PACE)

    def screen(self, name: str) -> str:
        return self.run("capture-pane", "-p", "-t", name)

    def wait_for(self, name: str, text: str, timeout: float = 60) -> str:
        return self.wait_until(name, lambda screen: text in screen, repr(text), timeout)

    def wait_until(self, name: str, condition, what: str, timeout: float = 60) -> str:
        """The screen, once `condition(screen)` holds (bounded)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.screen(name)
            if condition(screen):
                return screen
            time.sleep(0.1)
        raise AssertionError(f"{what} never appeared; the screen was:\n{self.screen(name)}")

    def pane_pid(self, name: str) -> int:
        return int(self.run("list-panes", "-t", name, "-F", "#{pane_pid}").split()[0])

    def kill(self, name: str) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-session", "-t", name], capture_output=True, timeout=30)

    def close(self) -> None:
        pids = []
        for name in self.names:
            try:
                pid = self.pane_pid(name)
            except subprocess.SubprocessError:
                continue
            pids += [pid, *descendants(pid)]
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True, timeout=30)
        assert not wait_gone(pids, timeout=10)
        socket_file = Path(os.environ.get("TMUX_TMPDIR", "/tmp")) / f"tmux-{os.getuid()}" / self.socket
        socket_file.unlink(missing_ok=True)  # tmux leaves it behind


def _quote(arg: str) -> str:
    import shlex

    return shlex.quote(arg)


@pytest.fixture
def tmux(tmp_path):
    terminal = Tmux(f"agt-lab-{os.getpid()}-{tmp_path.name}")
    yield terminal
    terminal.close()


@pytest.fixture(scope="module")
def keys(tmp_path_factory) -> dict[str, Path]:
    """alice (named by an option), bob (named by the comment), eve (in no file)."""
    directory = tmp_path_factory.mktemp("keys")
    made = {name: keygen(directory, name) for name in ("alice", "bob", "eve")}
    authorized = directory / "students.keys"
    alice = public(made["alice"]).rsplit(" ", 1)[0]
    bob = public(made["bob"]).rsplit(" ", 1)[0]
    authorized.write_text(f'environment="STUDENT=alice" {alice} alice@laptop\n{bob} bob\n')
    made["file"] = authorized
    return made


@pytest.fixture(scope="module")
def keyed_server(tmp_path_factory, keys):
    """One server for the module, students by key, the chain lesson only."""
    server = Server(tmp_path_factory.mktemp("serve"), "--authorized-keys", str(keys["file"]), "--lessons", str(CHAIN))
    yield server
    server.stop()
