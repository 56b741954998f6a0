"""One student's tutor in a lab: the app as a lab runs it, and how it starts and stops.

`run_session` is what a forked child of `serve` runs on its pty; `autograd-tutor lab`
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

_TERM = re.compile(r"[A-Za-z0-9._+-]{1,64}")


def safe_term(term: str | None) -> str:
    return term if term and _TERM.fullmatch(term) else "xterm-256color"


def run_session(student: str, data_dir: str, lessons: list, problems: list, request: dict) -> int:
    """In the forked child, on its pty: the tutor for one student, until it quits or is told to."""
    from ..engine.torch_import import torch

    torch().set_num_threads(1)
    try:
        store = ProgressStore.for_student(Path(data_dir), student)
    except OSError as err:
        print(f"autograd-tutor: cannot open your progress ({err}); tell your instructor.", file=sys.stderr)
        return 1
    os.environ.clear()
    os.environ.update(
        {
            "TERM": safe_term(request.get("term")),
            "LANG": "C.UTF-8",
            "PATH": "/usr/bin:/bin",
            "HOME": str(store.path.parent),
            "USER": student,
            **{k: v for k, v in (request.get("env") or {}).items() if k == "COLORTERM" and v in ("truecolor", "24bit")},
        }
    )
    os.chdir(store.path.parent)
    try:
        return run_until_hangup(lab_app(lessons, problems, store))
    finally:
        store.close()


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
