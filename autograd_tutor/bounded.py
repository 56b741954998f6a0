"""Run a function with a time limit, in a forked child that is killed when the
limit passes.

sympy cannot be interrupted from another thread (a runaway `simplify` would go
on burning a core after its caller gave up), so work that may not end in time
runs in a child process: fork is cheap here because the parent has already
imported what the function needs, and the child shares those pages. The
result comes back pickled through a pipe. On any failure, and where fork does
not exist, the answer is None: the caller shows what it has without it.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import select
import signal
import time
from collections.abc import Callable
from typing import Any


def call_with_limit(function: Callable[..., Any], *args: Any, seconds: float) -> Any | None:
    """`function(*args)` computed in a child process, or None when it raised,
    or did not finish within `seconds` (the child is then killed)."""
    if not hasattr(os, "fork"):
        return None
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: compute, write, leave without running the parent's exit handlers
        os.close(read_end)
        _child(function, args, write_end)
    os.close(write_end)
    try:
        data = _read_until(read_end, time.monotonic() + seconds)
    finally:
        os.close(read_end)
        _reap(pid)
    if data is None:
        return None
    try:
        ok, value = pickle.loads(data)
    except Exception:  # a truncated or unreadable answer counts as none
        return None
    return value if ok else None


def _child(function: Callable[..., Any], args: tuple, write_end: int) -> None:
    try:
        with contextlib.suppress(ValueError):
            signal.set_wakeup_fd(-1)  # never write into the parent's event-loop pipe
            for number in (signal.SIGINT, signal.SIGTERM):
                signal.signal(number, signal.SIG_DFL)
        try:
            data = pickle.dumps((True, function(*args)))
        except Exception:
            data = pickle.dumps((False, None))
        view = memoryview(data)
        while view:
            view = view[os.write(write_end, view) :]
    finally:
        os._exit(0)


def _read_until(fd: int, deadline: float) -> bytes | None:
    chunks = []
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            return None
        chunk = os.read(fd, 65536)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _reap(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)  # finished or not, it has nothing more to give
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)
