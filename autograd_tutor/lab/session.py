"""One student's tutor in a lab: the app as a lab runs it, and how it starts and stops.

`run_session` is what a forked child of `serve` (or `web`) runs; `autograd-tutor lab`
(OpenSSH's ForceCommand) uses `lab_app` and `run_until_hangup` the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import json
import os
import re
import signal
import socket
import sys
from pathlib import Path

from ..progress import ProgressStore
from .protocol import Spawn

_TERM = re.compile(r"[A-Za-z0-9._+-]{1,64}")
_PR_SET_NAME = 15


def safe_term(term: str | None) -> str:
    return term if term and _TERM.fullmatch(term) else "xterm-256color"


def run_session(data_dir: str, lessons: list, problems: list, request: Spawn) -> int:
    """In the forked child, on its terminal (or its browser's socket): the tutor for one
    student, until it quits or is told to. The exit status is 1 when progress could not
    be saved (the student is told why)."""
    from ..engine.torch_import import torch

    torch().set_num_threads(1)
    process_name(f"agt-{request.student}")
    try:
        store = ProgressStore.for_student(Path(data_dir), request.student, fallback=True)
    except (OSError, ValueError) as err:
        print(f"autograd-tutor: cannot open your progress ({err}); tell your instructor.", file=sys.stderr)
        return 1
    os.environ.clear()
    os.environ.update(session_environment(request, store.path.parent))
    os.chdir(store.path.parent)
    try:
        app = lab_app(lessons, problems, store)
        if request.front == "web":
            from textual.drivers.web_driver import WebDriver

            app.driver_class = WebDriver
        code = run_until_hangup(app)
    finally:
        store.close()
    return _exit_status(store, code)


def run_ready(data_dir: str, lessons: list, problems: list, ctl: int) -> int:
    """In a forked child: a terminal tutor started ahead, for a student not known yet. The
    app runs on its own pty with a store in memory; it says "drawn" on `ctl` (a datagram
    socket to the parent) once its first screen is up, and waits there for a student
    (`{"student", "term"}`): then it opens their progress, shows it, and says "assigned"."""
    from ..engine.torch_import import torch

    torch().set_num_threads(1)
    process_name("agt-ready")
    os.environ.clear()
    os.environ.update({"TERM": "xterm-256color", "LANG": "C.UTF-8", "PATH": "/usr/bin:/bin", "HOME": "/"})
    os.chdir("/")
    channel = socket.socket(fileno=ctl)
    app = lab_app(lessons, problems, ProgressStore(None))

    def assign() -> None:
        asyncio.get_running_loop().remove_reader(ctl)
        try:
            request = json.loads(channel.recv(4096))
            student, term = str(request["student"]), str(request["term"])
        except (OSError, ValueError, KeyError, TypeError):
            app.exit(return_code=1)  # the parent is gone, or confused: nobody to serve
            return
        try:
            store = ProgressStore.for_student(Path(data_dir), student, fallback=True)
        except (OSError, ValueError) as err:
            app.exit(return_code=1, message=f"autograd-tutor: cannot open your progress ({err}); tell your instructor.")
        else:
            os.environ.update(session_environment(Spawn(0, student, "terminal", term, 0, 0), store.path.parent))
            os.chdir(store.path.parent)
            process_name(f"agt-{student}")
            app.store.close()
            app.use_store(store)
        with contextlib.suppress(OSError):
            channel.send(b"assigned")
        channel.close()

    async def say_when_drawn() -> None:
        for _ in range(1500):  # at most 30 s
            if app.engines_ready:  # set once the first screen is up (and torch answers)
                with contextlib.suppress(OSError):
                    channel.send(b"drawn")
                return
            await asyncio.sleep(0.02)

    def start(loop: asyncio.AbstractEventLoop) -> list:
        loop.add_reader(ctl, assign)
        return [loop.create_task(say_when_drawn())]

    code = run_until_hangup(app, start)
    app.store.close()
    return _exit_status(app.store, code)


def _exit_status(store: ProgressStore, code: int) -> int:
    if store.failed:
        print(f"autograd-tutor: your progress was not saved. {store.problem or ''}", file=sys.stderr)
        return 1
    return code


def process_name(name: str) -> None:
    """The process's name in `ps -o comm` and `top` (at most 15 bytes)."""
    with contextlib.suppress(Exception):
        ctypes.CDLL(None).prctl(_PR_SET_NAME, name.encode()[:15], 0, 0, 0)


def session_environment(request: Spawn, home: Path) -> dict[str, str]:
    """A tutor's whole environment, rebuilt: nothing the client sent but a checked TERM."""
    env = {
        "TERM": safe_term(request.term),
        "LANG": "C.UTF-8",
        "PATH": "/usr/bin:/bin",
        "HOME": str(home),
        "USER": request.student,
    }
    if request.colorterm:
        env["COLORTERM"] = "truecolor"
    if request.front == "web":  # what Textual's web driver reads
        env.update({"COLUMNS": str(request.cols), "ROWS": str(request.rows), "TEXTUAL_COLOR_SYSTEM": "truecolor"})
    return env


def lab_app(lessons: list, problems: list, store: ProgressStore):
    """The tutor for a student on a shared server: `lab=True` (nothing that reaches the
    server's files or programs), and no blinking cursor or animations: over SSH every
    frame costs the server's CPU and the network, for every student at once (a blinking
    cursor alone is ~1% of a CPU and 1.5 kB/s per idle session)."""
    from ..ui.app import TutorApp

    app = TutorApp(lessons, problems, store, lab=True)
    app.animation_level = "none"
    return app


def run_until_hangup(app, start=None) -> int:
    """Run the app; SIGHUP (the terminal went away) or SIGTERM (the server ends the session)
    make it quit the normal way, giving the terminal back when there still is one.
    `start(loop)`, if given, is called first (it returns the tasks it started)."""

    async def main() -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGHUP):
            loop.add_signal_handler(sig, app.exit)
        tasks = start(loop) if start is not None else []  # kept referenced while the app runs
        await app.run_async()
        for task in tasks:
            task.cancel()

    asyncio.run(main())
    return app.return_code or 0
