"""What every part of a running `serve` shares: its options, its spawner, the live
sessions, the log, and the background tasks it keeps references to."""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from collections.abc import Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from .channel import TutorSession
    from .keys import AuthorizedKeys
    from .spawner import Spawner


@dataclass(frozen=True)
class Startups:
    """OpenSSH's MaxStartups `start:rate:full`: with `start` logins pending, a new
    connection is dropped with probability `rate`%, rising linearly to 100% at `full`."""

    start: int = 100
    rate: int = 30
    full: int = 200

    @classmethod
    def parse(cls, text: str) -> Startups:
        """`N` or `START:RATE:FULL`; ValueError with the reason."""
        parts = text.split(":")
        try:
            numbers = [int(p) for p in parts]
        except ValueError:
            raise ValueError(f"{text!r} is not N or START:RATE:FULL") from None
        if len(numbers) == 1:
            numbers = [numbers[0], 100, numbers[0]]
        if len(numbers) != 3:
            raise ValueError(f"{text!r} is not N or START:RATE:FULL")
        start, rate, full = numbers
        if not (1 <= start <= full and 0 <= rate <= 100):
            raise ValueError(f"{text!r}: needs 1 <= START <= FULL and RATE from 0 to 100")
        return cls(start, rate, full)

    def drop_chance(self, pending: int) -> float:
        """The probability of dropping a new connection when `pending` logins are pending."""
        if pending < self.start:
            return 0.0
        if pending >= self.full:
            return 1.0
        rate = self.rate / 100
        return rate + (1 - rate) * (pending - self.start) / (self.full - self.start)

    def __str__(self) -> str:
        return f"{self.start}:{self.rate}:{self.full}"


@dataclass(frozen=True)
class ServeOptions:
    host: str
    port: int
    data_dir: Path
    lessons: tuple[str, ...]
    authorized_keys: Path | None = None
    open: bool = False
    max_sessions: int = 100
    max_sessions_per_student: int = 2  # also the session channels one connection may open
    ready: int = 0  # tutors started ahead for students not yet connected
    startups: Startups = Startups()
    idle_timeout: float = 1800.0  # 0: never
    login_timeout: float = 30.0
    grace: float = 3.0  # seconds between SIGTERM and SIGKILL


class Limits(Protocol):
    """What every front end's options say about its sessions (`serve`'s and `web`'s)."""

    max_sessions: int
    max_sessions_per_student: int
    idle_timeout: float
    grace: float


class Lab:
    """The running server: its options, the spawner and the live sessions."""

    def __init__(self, options: Limits, spawner: Spawner, keys: AuthorizedKeys | None = None):
        self.options: Any = options  # ServeOptions or WebOptions
        self.spawner = spawner
        self.keys = keys
        self.sessions: set[TutorSession] = set()
        self.stopping = False
        self.failure: str | None = None  # why the server stops, when it is not asked to
        self._tasks: set[asyncio.Task] = set()

    def sessions_of(self, student: str) -> int:
        return sum(1 for s in self.sessions if s.student == student)

    def task(self, coroutine: Coroutine) -> asyncio.Task:
        """Run `coroutine` in the background, keeping a reference until it is done."""
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def log(self, message: str) -> None:
        print(f"{time.strftime('%H:%M:%S')} {message}", file=sys.stderr, flush=True)

    def until_stopped(self) -> asyncio.Event:
        """An event set on SIGINT or SIGTERM, or when the session parent exits (then
        `failure` says so). Call from the running loop."""
        loop, stop = asyncio.get_running_loop(), asyncio.Event()

        def lost() -> None:
            self.failure = "the session parent exited"
            stop.set()

        self.spawner.attach(loop)
        self.spawner.on_lost = lost
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        return stop

    async def end_sessions(self) -> None:
        """Tell every student the server is stopping and wait (bounded) for their tutors."""
        self.stopping = True
        self.log("stopping: ending every session")
        for session in list(self.sessions):
            session.end("the server is stopping. Your progress is saved.")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.options.grace + 5
        while self.sessions and loop.time() < deadline:
            await asyncio.sleep(0.05)
