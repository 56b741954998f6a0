"""SSH lab: memory per student session and connect -> first screen, for 20 sessions at
once, with `autograd-tutor serve` (tutors forked from a warm parent) against a naive
server that starts a fresh `autograd-tutor` process per connection (which imports
everything itself), both measured in this run.

Both servers are the same asyncssh server on 127.0.0.1; only how a session's tutor is
started differs. Clients are OpenSSH's `ssh`, each in its own pty; the clock starts when
`ssh` is started and stops when the catalogue's text reaches its terminal. Memory is the
PSS of each session's process (/proc/PID/smaps_rollup), once every tutor shows the
catalogue and has torch loaded, and again once each has opened a lesson and answered a
step; and how much the PSS of all the server's processes grew, per session: what each
additional student costs, the bar. Bars: <= 60 MB per extra session,
connect -> first screen <= 0.3 s (for one more student, while the others are connected).

The web run: the same number of browser tabs (websocket clients carrying each student's
cookie) open `autograd-tutor web`'s tutor at once; memory and time to the catalogue,
beside serve's. Bars: <= 60 MB PSS per web session, first screen <= 1 s.

The dashboard run: 100 students' stores, answers saved 5 times a second by another
process; the dashboard's model kept current by the file-system change feed, against
re-reading every store every second; CPU per second and delay. Bar: <= 2 s.

The burst run: 50 students start `ssh` within one second, evenly spread, as when a lab
starts; the bar is the 95th percentile of their times to the catalogue, <= 1.5 s on 2
cores. It is measured with `serve --ready 50` (tutors started ahead) and, in the same
run, with `--ready 0` (each tutor forked when its student connects).

    python bench/lab.py [--sessions 20] [--burst 50]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fcntl
import os
import re
import select
import signal
import statistics
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

TUTOR = str(Path(sys.executable).parent / "autograd-tutor")
CATALOGUE = b"by hand and by autograd"  # the first lesson's title, in the catalogue
INTRO = b"To the steps"  # a lesson not begun opens on its introduction page
IN_LESSON = b"Step 1 of"
READY = b"PowBackward0"  # grad_fn names are drawn once torch is loaded: the lesson takes answers
LIVE = b"matches torch"  # the live check of what is typed
ANSWERED = b"was right"  # a right answer is saved and the lesson moves on
DEADLINE = 180  # seconds: no phase of the bench waits longer


# --- the naive server: the same SSH server, a fresh process per session ------------------------------


class ExecSpawner:
    """Starts `autograd-tutor --student NAME` (a new Python that imports everything) per session."""

    def __init__(self, data_dir: str):
        self.data_dir = data_dir
        self.lessons, self.problems = 0, []
        self.procs: dict[int, subprocess.Popen] = {}
        self.exits: dict[int, asyncio.Future] = {}
        self.on_lost = None
        self.loop = None

    def wait_ready(self) -> None:
        from autograd_tutor.lesson.files import BUNDLED
        from autograd_tutor.lesson.loader import library

        self.lessons = len(library([BUNDLED])[0])

    def attach(self, loop) -> None:
        self.loop = loop

    async def spawn(self, request) -> tuple[int, int]:
        master, slave = os.openpty()

        def controlling_terminal() -> None:
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        student = request.student
        env = {"TERM": request.term, "LANG": "C.UTF-8", "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        env["TEXTUAL_ANIMATIONS"] = "none"  # as serve's sessions: no blinking cursor
        proc = subprocess.Popen(
            [TUTOR, "--data-dir", self.data_dir, "--student", student],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            start_new_session=True,
            preexec_fn=controlling_terminal,  # noqa: PLW1509 - a bench, and the server's loop has no threads
        )
        os.close(slave)
        self.procs[proc.pid] = proc
        self.loop.create_task(self._watch(proc))
        return proc.pid, master

    async def _watch(self, proc: subprocess.Popen) -> None:
        while proc.poll() is None:
            await asyncio.sleep(0.05)
        future = self.exit_status(proc.pid)
        if not future.done():
            future.set_result(proc.returncode)

    def end(self, pid: int, grace: float) -> None:
        with contextlib.suppress(OSError):
            os.killpg(pid, signal.SIGTERM)

        def kill() -> None:
            if self.procs.get(pid) is not None and self.procs[pid].poll() is None:
                with contextlib.suppress(OSError):
                    os.killpg(pid, signal.SIGKILL)

        self.loop.call_later(grace, kill)

    def exit_status(self, pid: int):
        if pid not in self.exits:
            self.exits[pid] = self.loop.create_future()
        return self.exits[pid]

    def forget(self, pid: int) -> None:
        self.exits.pop(pid, None)

    def close(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                with contextlib.suppress(OSError):
                    os.killpg(proc.pid, signal.SIGKILL)

    def join(self, timeout: float) -> None:
        for proc in self.procs.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=timeout)


def naive_server(port: int, data_dir: str) -> int:
    from autograd_tutor.lab.context import ServeOptions
    from autograd_tutor.lab.server import serve
    from autograd_tutor.lesson.files import BUNDLED

    options = ServeOptions("127.0.0.1", port, Path(data_dir), (str(BUNDLED),), open=True, idle_timeout=0)
    return serve(options, spawner=ExecSpawner(data_dir))


# --- measuring -----------------------------------------------------------------------------------------


class Server:
    def __init__(self, kind: str, directory: Path, sessions: int):
        self.kind = kind
        data = directory / kind
        if kind in ("fork", "ready"):
            argv = [TUTOR, "serve", "--open", "--port", "0", "--data-dir", str(data)]
            argv += ["--max-sessions", str(sessions + 10), "--idle-timeout", "0"]
            argv += ["--ready", str(sessions if kind == "ready" else 0)]
        else:
            argv = [sys.executable, __file__, "--naive-server", "--data-dir", str(data)]
        self.out = directory / f"{kind}.out"
        self.err = directory / f"{kind}.err"
        with open(self.out, "wb") as out, open(self.err, "wb") as err:
            self.proc = subprocess.Popen(argv, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + DEADLINE
        while not (found := re.search(r"listening on 127\.0\.0\.1:(\d+)", self.out.read_text())):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"{kind} server did not start:\n{self.err.read_text()}")
            time.sleep(0.1)
        self.port = int(found.group(1))
        if kind == "ready":  # the tutors started ahead are up before the class arrives
            while "tutors started ahead are ready" not in self.err.read_text():
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"{kind} server never had its tutors ready:\n{self.err.read_text()}")
                time.sleep(0.2)

    def session_pids(self) -> list[int]:
        return [int(p) for p in re.findall(r"session pid (\d+) started", self.err.read_text())]

    def tree(self) -> list[int]:
        return [self.proc.pid, *descendants(self.proc.pid)]

    def stop(self) -> None:
        pids = self.tree()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        deadline = time.monotonic() + 15
        while any(alive(p) for p in pids) and time.monotonic() < deadline:
            time.sleep(0.1)
        for pid in pids:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def rollup(pid: int) -> dict[str, int]:
    """/proc/PID/smaps_rollup in kB."""
    values = {}
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                parts = line.split()
                if len(parts) == 3 and parts[2] == "kB":
                    values[parts[0].rstrip(":")] = int(parts[1])
    except OSError:
        pass
    return values


def pss_mb(pids) -> float:
    return sum(rollup(p).get("Pss", 0) for p in pids) / 1024


def uss_mb(pids) -> float:
    return sum(rollup(p).get("Private_Clean", 0) + rollup(p).get("Private_Dirty", 0) for p in pids) / 1024


class Client:
    """`ssh` in its own pty, 80x24, reading everything the tutor draws."""

    def __init__(self, port: int, student: str):
        import pexpect

        argv = ["ssh", "-F", "/dev/null", "-p", str(port), "-o", "StrictHostKeyChecking=no"]
        argv += ["-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", "-o", "BatchMode=yes"]
        argv += ["-o", "PubkeyAuthentication=no", "-o", "IdentityAgent=none", f"{student}@127.0.0.1"]
        self.started = time.perf_counter()
        self.child = pexpect.spawn(argv[0], argv[1:], dimensions=(24, 80))
        self.fd = self.child.child_fd
        self.buffer = b""
        self.arrived: dict[bytes, float] = {}

    def read(self) -> None:
        try:
            data = os.read(self.fd, 65536)
        except OSError:
            data = b""
        now = time.perf_counter()
        self.buffer = (self.buffer + data)[-200_000:]
        for text in (CATALOGUE, INTRO, IN_LESSON, READY, LIVE, ANSWERED):
            if text not in self.arrived and text in self.buffer:
                self.arrived[text] = now - self.started

    def send(self, data: bytes) -> None:
        self.buffer = b""
        os.write(self.fd, data)

    def close(self) -> None:
        self.child.close(force=True)


def wait_all(clients: list[Client], text: bytes, what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while True:
        waiting = [c for c in clients if text not in c.arrived]
        if not waiting:
            return
        if time.monotonic() > deadline:
            raise SystemExit(f"{len(waiting)} sessions never showed {what}")
        ready, _, _ = select.select([c.fd for c in clients], [], [], 0.5)
        for client in clients:
            if client.fd in ready:
                client.read()


def drain(clients: list[Client], seconds: float) -> None:
    end = time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0:
        ready, _, _ = select.select([c.fd for c in clients], [], [], min(0.1, left))
        for client in clients:
            if client.fd in ready:
                client.read()


def settle(pids: list[int], clients: list[Client]) -> None:
    """Until the sessions' memory stops growing (the naive ones import torch after the
    first screen): PSS within 1% over 2 s, at most DEADLINE."""
    deadline = time.monotonic() + DEADLINE
    history = [pss_mb(pids)]
    while time.monotonic() < deadline:
        drain(clients, 0.5)
        history.append(pss_mb(pids))
        recent = history[-5:]
        if len(recent) == 5 and max(recent) - min(recent) <= 0.01 * max(recent):
            return


def run(kind: str, directory: Path, sessions: int) -> dict:
    server = Server(kind, directory, sessions)
    result: dict = {}
    clients: list[Client] = []
    try:
        time.sleep(1)
        idle_tree = pss_mb(server.tree())
        # 20 students at the same moment
        clients = [Client(server.port, f"s{i:02}") for i in range(sessions)]
        wait_all(clients, CATALOGUE, "the catalogue")
        times = sorted(c.arrived[CATALOGUE] for c in clients)
        result["burst_median"], result["burst_max"] = statistics.median(times), times[-1]
        pids = server.session_pids()
        assert len(pids) == sessions, pids
        settle(pids, clients)
        result["pss_catalogue"] = pss_mb(pids) / sessions
        result["uss_catalogue"] = uss_mb(pids) / sessions
        result["tree_catalogue"] = (pss_mb(server.tree()) - idle_tree) / sessions
        # each opens the first lesson, reads past its introduction and answers its first step (y = x**2)
        for client in clients:
            client.send(b"\r")
        wait_all(clients, INTRO, "the lesson's introduction")
        for client in clients:
            client.send(b"\r")
        wait_all(clients, IN_LESSON, "the lesson")
        wait_all(clients, READY, "an answer box")
        for client in clients:
            client.send(b"x**2")  # right on every student's own variant of x
        wait_all(clients, LIVE, "the live check")
        for client in clients:
            client.send(b"\r")
        wait_all(clients, ANSWERED, "a judged answer")
        settle(pids, clients)
        result["pss_lesson"] = pss_mb(pids) / sessions
        result["uss_lesson"] = uss_mb(pids) / sessions
        result["tree_lesson"] = (pss_mb(server.tree()) - idle_tree) / sessions
        result["fixed"] = pss_mb([p for p in server.tree() if p not in pids])
        # one more student, while the others are working: 7 times, one at a time
        extra = []
        for i in range(7):
            client = Client(server.port, f"late{i}")
            wait_all([client], CATALOGUE, "the catalogue")
            extra.append(client.arrived[CATALOGUE])
            client.send(b"\x11")  # ctrl+q
            drain([client], 0.5)
            client.close()
        result["one_more"] = statistics.median(extra)
        for client in clients:
            client.send(b"\x11")
        drain(clients, 2)
    finally:
        for client in clients:
            client.close()
        server.stop()
    return result


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


def burst(kind: str, directory: Path, students: int, window: float = 1.0) -> dict:
    """`students` connect within `window` seconds, evenly spread (a lab starting): the
    time from each one's `ssh` to its catalogue. `kind` "ready": serve with as many
    tutors started ahead; "fork": with none (each forked when its student connects)."""
    (directory / f"burst-{kind}").mkdir(exist_ok=True)
    server = Server(kind, directory / f"burst-{kind}", students)
    clients: list[Client] = []
    try:
        time.sleep(1)
        start = time.monotonic()
        for i in range(students):
            due = start + i * window / students
            while time.monotonic() < due:
                drain(clients, max(0.0, due - time.monotonic()))
            clients.append(Client(server.port, f"b{i:02}"))
        wait_all(clients, CATALOGUE, "the catalogue")
        times = [c.arrived[CATALOGUE] for c in clients]
        for client in clients:
            client.send(b"\x11")
        drain(clients, 2)
    finally:
        for client in clients:
            client.close()
        server.stop()
    return {"median": statistics.median(times), "p95": percentile(times, 95), "max": max(times)}


# --- the web: the same tutors, in browsers -------------------------------------------------------------


def web(directory: Path, sessions: int) -> dict:
    """`autograd-tutor web` with `sessions` students: each opens the tutor's websocket
    (with the cookie their link sets) at the same moment; the time from opening it to the
    catalogue's text, and memory as for `serve`; then one more, 7 times."""
    import aiohttp

    data = directory / "web"
    students = directory / "web-class.txt"
    students.write_text("".join(f"w{i:02}\n" for i in range(sessions + 7)))
    out, err = directory / "web.out", directory / "web.err"
    argv = [TUTOR, "web", "--students", str(students), "--port", "0", "--data-dir", str(data)]
    argv += ["--max-sessions", str(sessions + 10), "--idle-timeout", "0"]
    with open(out, "wb") as o, open(err, "wb") as e:
        proc = subprocess.Popen(argv, stdout=o, stderr=e, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + DEADLINE
    while len(tokens := re.findall(r"^\s+(w\d+)\s+http://\S+/t/(\S+)$", out.read_text(), re.M)) < sessions + 7:
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"web did not start:\n{err.read_text()}")
        time.sleep(0.1)
    port = int(re.search(r"listening on 127\.0\.0\.1:(\d+)", out.read_text()).group(1))
    tree = lambda: [proc.pid, *descendants(proc.pid)]  # noqa: E731
    result: dict = {}

    async def tab(token: str, opened: list) -> float:
        session = aiohttp.ClientSession(cookies={"agt_token": token})
        start = time.perf_counter()
        ws = await session.ws_connect(
            f"http://127.0.0.1:{port}/ws?width=80&height=24", origin=f"http://127.0.0.1:{port}"
        )
        seen = b""
        async for message in ws:
            seen = (seen + message.data)[-100_000:] if isinstance(message.data, bytes) else seen
            if CATALOGUE in seen:
                break
        opened.append((session, ws))
        return time.perf_counter() - start

    async def run() -> None:
        await asyncio.sleep(1)
        idle_tree = pss_mb(tree())
        opened: list = []
        times = await asyncio.gather(*(tab(token, opened) for _name, token in tokens[:sessions]))
        result["burst_median"], result["burst_max"] = statistics.median(times), max(times)
        await asyncio.sleep(3)  # settled: nothing is drawn while nobody types
        pids = [int(p) for p in re.findall(r"web session pid (\d+) started", err.read_text())]
        result["pss"] = pss_mb(pids) / sessions
        result["uss"] = uss_mb(pids) / sessions
        result["tree"] = (pss_mb(tree()) - idle_tree) / sessions
        extra = []
        for _name, token in tokens[sessions:]:
            one: list = []
            extra.append(await tab(token, one))
            for session, ws in one:
                await ws.close()
                await session.close()
        result["one_more"] = statistics.median(extra)
        for session, ws in opened:
            await ws.close()
            await session.close()

    try:
        asyncio.run(run())
    finally:
        pids = tree()
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        for pid in pids:
            if alive(pid):
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
    return result


# --- the dashboard: a change feed against polling every store ----------------------------------------

FEED_WRITER = """
import random, sys, time
from pathlib import Path
from autograd_tutor.lesson.loader import load
from autograd_tutor.progress import ProgressStore
from autograd_tutor.session import LessonSession

data, lesson_file, students, rate, seconds = sys.argv[1:]
lesson = load(lesson_file)
names = [f"s{i:03}" for i in range(int(students))]
stores = {n: ProgressStore.for_student(Path(data), n) for n in names}
sessions = {n: LessonSession(lesson, stores[n].load(lesson.id)) for n in names}
rng = random.Random(15)
end = time.time() + float(seconds)
while time.time() < end:
    name = rng.choice(names)
    session = sessions[name]
    session.record.mistakes.append({"answer": "cos(x**2)", "diagnosis": "authored", "feedback": ""})
    stores[name].save(session)
    print(name, len(session.record.mistakes), time.time(), flush=True)
    time.sleep(1 / float(rate))
"""


def dashboard_feed(directory: Path, students: int, rate: float, seconds: float) -> dict:
    """The dashboard's model of `students` stores, kept current while answers are saved
    `rate` times a second (another process): by the change feed (`watch.changes`), and by
    re-reading every store every second (the reference). CPU of the dashboard's process
    per second of wall time, and the delay from a save to the model showing it."""
    from autograd_tutor.lab.classroom import Classroom
    from autograd_tutor.lesson.loader import load
    from autograd_tutor.progress import ProgressStore
    from autograd_tutor.session import LessonSession

    lesson_file = Path(__file__).parent.parent / "tests" / "lessons" / "chain.yaml"
    lesson = load(lesson_file)
    results = {}
    for mode in ("feed", "poll"):
        data = (directory / f"class-{mode}").resolve()
        for i in range(students):
            store = ProgressStore.for_student(data, f"s{i:03}")
            store.save(LessonSession(lesson))
            store.close()
        classroom = Classroom(data, {lesson.id: lesson})
        classroom.load_all()
        writer = [FEED_WRITER, str(data), str(lesson_file), str(students), str(rate), str(seconds)]
        idle, busy, seen, written = asyncio.run(_follow(mode, classroom, writer))
        delays = [seen[(n, int(k))] - float(t) for n, k, t in written if (n, int(k)) in seen]
        results[mode] = {"idle": idle, "busy": busy, "median": statistics.median(delays), "max": max(delays)}
    return results


async def _follow(mode: str, classroom, writer: list[str]) -> tuple[float, float, dict, list]:
    """Keep `classroom` current (`mode` feed or poll) while `writer` saves answers: CPU per
    second idle and busy, when each (student, answer number) was seen, what was written."""
    from autograd_tutor.lab.watch import changes

    stop = asyncio.Event()
    seen: dict[tuple[str, int], float] = {}

    def note() -> None:
        now = time.time()
        for rows in classroom.rows.values():
            for row in rows:
                for k in range(1, len(row.state["records"][row.step]["mistakes"]) + 1):
                    seen.setdefault((row.student, k), now)

    async def follow() -> None:
        if mode == "feed":
            async for keys in changes(classroom.data_dir, stop):
                classroom.changed(keys)
                note()
            return
        while not stop.is_set():
            classroom.load_all()
            note()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 1.0)

    task = asyncio.create_task(follow())
    await asyncio.sleep(1)
    start = time.process_time()
    await asyncio.sleep(3)
    idle = (time.process_time() - start) / 3
    proc = await asyncio.create_subprocess_exec(sys.executable, "-c", *writer, stdout=asyncio.subprocess.PIPE)
    start, clock = time.process_time(), time.monotonic()
    out, _ = await proc.communicate()
    busy = (time.process_time() - start) / (time.monotonic() - clock)
    await asyncio.sleep(2)
    stop.set()
    await task
    return idle, busy, seen, [line.split() for line in out.decode().splitlines()]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--burst", type=int, default=50)
    parser.add_argument("--naive-server", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.naive_server:
        sys.exit(naive_server(0, args.data_dir))
    with tempfile.TemporaryDirectory(prefix="autograd-lab-bench-") as tmp:
        fork = run("fork", Path(tmp), args.sessions)
        naive = run("naive", Path(tmp), args.sessions)
        ready_burst = burst("ready", Path(tmp), args.burst)
        fork_burst = burst("fork", Path(tmp), args.burst)
        browser = web(Path(tmp), args.sessions)
        feed = dashboard_feed(Path(tmp), 100, 5, 10)
    n = args.sessions

    def row(label: str, key: str, unit: str, scale: float = 1.0, fmt: str = "{:.0f}") -> None:
        f, b = fork[key] * scale, naive[key] * scale
        print(f"  {label:<54} {fmt.format(f):>8} {unit:<3} {fmt.format(b):>8} {unit:<3} {b / f:>6.1f}x")

    print(f"lab      {n} sessions at once, bundled course, {os.cpu_count()} CPUs: serve (fork) / process per session")
    print(f"  {'':<54} {'fork':>12} {'naive':>12} {'ratio':>7}")
    row("PSS per session, catalogue", "pss_catalogue", "MB")
    row("PSS per session, in a lesson", "pss_lesson", "MB")
    row("private (USS) per session, in a lesson", "uss_lesson", "MB")
    row("PSS growth of the server tree per session", "tree_lesson", "MB")
    row(f"connect -> first screen, {n} at once, median", "burst_median", "ms", 1000)
    row(f"connect -> first screen, {n} at once, slowest", "burst_max", "ms", 1000)
    row(f"connect -> first screen, one more (with {n} on), median", "one_more", "ms", 1000)
    print(f"  fixed cost of serve (server + session parent): {fork['fixed']:.0f} MB PSS")
    # The bar is the memory each additional session costs: how much the PSS of all the
    # server's processes grows per session. (One session process's own PSS also counts its
    # share of the pages it has in common with the session parent, a share that shrinks as
    # more sessions share them: it depends on how many are connected.)
    memory = "ok" if fork["tree_lesson"] <= 60 else "OVER"
    connect = "ok" if fork["one_more"] <= 0.3 else "OVER"
    print(f"  bars: {fork['tree_lesson']:.0f} MB more PSS per additional session (<= 60 MB) {memory}; "
          f"{fork['one_more'] * 1000:.0f} ms to the first screen (<= 300 ms) {connect}")  # fmt: skip
    b = args.burst
    print(f"burst    {b} students connecting within one second: --ready {b} / --ready 0")
    print(f"  {'':<54} {'ready':>12} {'fork':>12} {'ratio':>7}")
    for label, key in (("median", "median"), ("95th percentile", "p95"), ("slowest", "max")):
        r, f = ready_burst[key] * 1000, fork_burst[key] * 1000
        print(f"  {'connect -> first screen, ' + label:<54} {r:>8.0f} ms  {f:>8.0f} ms  {f / r:>6.1f}x")
    verdict = "ok" if ready_burst["p95"] <= 1.5 else "OVER"
    print(f"  bar: p95 {ready_burst['p95'] * 1000:.0f} ms (<= 1500 ms on 2 cores) {verdict}")
    print(f"web      {n} browser tabs at once (websocket clients), catalogue: web / serve (fork), same run")
    print(f"  {'':<54} {'web':>12} {'serve':>12} {'ratio':>7}")
    for label, w, v, unit, scale in (
        ("PSS per session", browser["pss"], fork["pss_catalogue"], "MB", 1),
        ("private (USS) per session", browser["uss"], fork["uss_catalogue"], "MB", 1),
        ("PSS growth of the server tree per session", browser["tree"], fork["tree_catalogue"], "MB", 1),
        (f"open -> first screen, {n} at once, median", browser["burst_median"], fork["burst_median"], "ms", 1000),
        (f"open -> first screen, {n} at once, slowest", browser["burst_max"], fork["burst_max"], "ms", 1000),
        ("open -> first screen, one more, median", browser["one_more"], fork["one_more"], "ms", 1000),
    ):
        print(f"  {label:<54} {w * scale:>8.0f} {unit:<3} {v * scale:>8.0f} {unit:<3} {v / w:>6.1f}x")
    memory = "ok" if browser["pss"] <= 60 else "OVER"
    first = "ok" if browser["one_more"] <= 1 else "OVER"
    print(f"  bars: {browser['pss']:.0f} MB PSS per web session (<= 60 MB) {memory}; "
          f"{browser['one_more'] * 1000:.0f} ms to the first screen (<= 1000 ms) {first}")  # fmt: skip
    f, p = feed["feed"], feed["poll"]
    print("dashboard 100 students' stores, 5 answers a second: change feed / re-read every store each second")
    print(f"  {'':<54} {'feed':>12} {'poll':>12} {'ratio':>7}")
    for label, key, unit, scale in (
        ("CPU of the dashboard, nobody answering", "idle", "ms/s", 1000),
        ("CPU of the dashboard, 5 answers a second", "busy", "ms/s", 1000),
        ("answer saved -> in the dashboard, median", "median", "ms", 1000),
        ("answer saved -> in the dashboard, slowest", "max", "ms", 1000),
    ):
        a, b = f[key] * scale, p[key] * scale
        print(f"  {label:<54} {a:>7.1f} {unit:<4} {b:>7.1f} {unit:<4} {b / max(a, 1e-3):>6.1f}x")
    verdict = "ok" if f["max"] <= 2 else "OVER"
    print(f"  bar: {f['max'] * 1000:.0f} ms from an answer to the dashboard (<= 2000 ms) {verdict}; the feed reads"
          " only the stores that changed")  # fmt: skip


if __name__ == "__main__":
    main()
