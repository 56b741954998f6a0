"""One student's tutor in a lab: the app as a lab runs it, and how it starts and stops.

`run_session` is what a forked child of `serve` (or `web`) runs; `autograd-tutor lab`
(OpenSSH's ForceCommand) uses `lab_app` and `run_until_hangup` the same way.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from pathlib import Path

from ..progress import ProgressStore
from .protocol import Spawn

_TERM = re.compile(r"[A-Za-z0-9._+-]{1,64}")


def safe_term(term: str | None) -> str:
    return term if term and _TERM.fullmatch(term) else "xterm-256color"


def run_session(data_dir: str, lessons: list, problems: list, request: Spawn) -> int:
    """In the forked child, on its terminal (or its browser's socket): the tutor for one
    student, until it quits or is told to. The exit status is 1 when progress could not
    be saved (the student is told why)."""
    from ..engine.torch_import import torch

    torch().set_num_threads(1)
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
    if store.failed:
        print(f"autograd-tutor: your progress was not saved. {store.problem or ''}", file=sys.stderr)
        return 1
    return code


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


def run_until_hangup(app) -> int:
    """Run the app; SIGHUP (the terminal went away) or SIGTERM (the server ends the session)
    make it quit the normal way, giving the terminal back when there still is one."""

    async def main() -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGHUP):
            loop.add_signal_handler(sig, app.exit)
        await app.run_async()

    asyncio.run(main())
    return app.return_code or 0
