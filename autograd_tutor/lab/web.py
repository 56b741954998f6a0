"""`autograd-tutor web`: the tutor in a browser, for students without an SSH client.

An aiohttp server in one asyncio process. The page is a terminal in the browser
(textual-serve's xterm.js bundle, served from this server: nothing is loaded from
elsewhere); its websocket is relayed to a tutor forked from the same warm parent as
`serve`'s (`parent.py`), which runs Textual's web driver on a socket instead of a pty.

Students come in through their own link, `PUBLIC_URL/t/TOKEN` (`tokens.py`): a valid
token sets an HttpOnly, SameSite=Strict cookie and redirects to the page; the page and
the websocket need that cookie, checked in constant time. No token, no tutor. The
websocket must come from the page's own origin. Progress goes to the same per-student
stores as `serve` (DATA_DIR/students/NAME), so `report` and `dashboard` see both.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import sys
import time
from dataclasses import dataclass
from html import escape
from pathlib import Path
from urllib.parse import urlsplit

from ..progress import STUDENTS
from .context import Lab
from .parent import Options
from .protocol import Spawn
from .server import raise_fd_limit
from .spawner import ForkSpawner, Spawner, SpawnerLost, serve_with
from .tokens import StudentTokens, read_tokens

COOKIE = "agt_token"
_SIZE_LIMIT = (1000, 1000)
_PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": (
        "default-src 'self'; connect-src 'self' ws: wss:; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; font-src 'self'; frame-ancestors 'none'"
    ),
}


@dataclass(frozen=True)
class WebOptions:
    host: str
    port: int
    data_dir: Path
    lessons: tuple[str, ...]
    students: Path
    public_url: str | None = None  # how students reach the server (behind a proxy: https://...)
    max_sessions: int = 100
    max_sessions_per_student: int = 2
    idle_timeout: float = 1800.0  # 0: never
    grace: float = 3.0


class WebLab(Lab):
    """The running web server: a Lab (spawner, sessions, log, tasks) plus the tokens."""

    def __init__(self, options: WebOptions, spawner: Spawner, tokens: StudentTokens):
        super().__init__(options, spawner)
        self.tokens = tokens

    def base_url(self, request) -> str:
        if self.options.public_url:
            return self.options.public_url.rstrip("/")
        return f"http://{request.host}"


def page(title: str, body: str, status: int = 200):
    from aiohttp import web

    html = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>
<style>body{{background:#0c181f;color:#e8e8e8;font-family:monospace;margin:3em}}</style></head>
<body><h1>{escape(title)}</h1>{body}</body></html>"""
    return web.Response(text=html, status=status, content_type="text/html", headers=_PAGE_HEADERS)


TUTOR_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>autograd-tutor</title>
<link rel="stylesheet" href="/static/css/xterm.css">
<script src="/static/js/textual.js"></script>
<style>
html, body {{ margin: 0; height: 100%; background: #0c181f; color: #e8e8e8; font-family: monospace; }}
.textual-terminal {{ position: absolute; inset: 0; }}
.ended {{ display: none; position: absolute; inset: 0; z-index: 10; background: #0c181fe0;
          align-items: center; justify-content: center; font-size: 18px; }}
body.-closed .ended {{ display: flex; }}
.ended a {{ color: #8ad; margin-left: 1em; }}
</style></head>
<body>
<div class="ended"><span>Session ended. Your progress is saved.</span><a href="/">Open it again</a></div>
<div id="terminal" class="textual-terminal" data-session-websocket-url="{ws_url}" data-font-size="16"></div>
</body></html>"""


def make_app(lab: WebLab):
    import textual_serve
    from aiohttp import web

    static = Path(textual_serve.__file__).parent / "static"

    async def index(request):
        student = lab.tokens.student(request.cookies.get(COOKIE))
        if student is None:
            return page("autograd-tutor", "<p>Open the link your instructor gave you.</p>", status=401)
        base = urlsplit(lab.base_url(request))
        scheme = "wss" if base.scheme == "https" else "ws"
        return web.Response(
            text=TUTOR_PAGE.format(ws_url=escape(f"{scheme}://{base.netloc}/ws")),
            content_type="text/html",
            headers=_PAGE_HEADERS,
        )

    async def login(request):
        token = request.match_info["token"]
        student = lab.tokens.student(token)
        if student is None:
            lab.log(f"refused a link with an unknown token from {request.remote}")
            return page("autograd-tutor", "<p>This link is not valid. Ask your instructor for yours.</p>", status=403)
        response = web.HTTPSeeOther("/", headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})
        secure = urlsplit(lab.base_url(request)).scheme == "https"
        response.set_cookie(COOKIE, token, httponly=True, samesite="Strict", secure=secure, path="/")
        lab.log(f"{student}: signed in from {request.remote}")
        return response

    async def websocket(request):
        student = lab.tokens.student(request.cookies.get(COOKIE))
        if student is None:
            return web.Response(status=401, text="no token, no tutor")
        origin = request.headers.get("Origin", "")
        if urlsplit(origin).netloc != request.host:
            lab.log(f"{student}: refused a websocket from another origin ({origin[:80]!r})")
            return web.Response(status=403, text="wrong origin")
        ws = web.WebSocketResponse(heartbeat=30, max_msg_size=1 << 16)
        await ws.prepare(request)
        await WebSession(lab, student, ws, _size(request.query)).run()
        return ws

    app = web.Application(client_max_size=1 << 16)
    app.add_routes(
        [
            web.get("/", index),
            web.get("/t/{token}", login),
            web.get("/ws", websocket),
            web.static("/static", static),
        ]
    )
    return app


def _size(query) -> tuple[int, int]:
    def number(name: str, default: int, most: int) -> int:
        try:
            return min(max(int(query.get(name, default)), 1), most)
        except ValueError:
            return default

    return number("width", 80, _SIZE_LIMIT[0]), number("height", 24, _SIZE_LIMIT[1])


class WebSession:
    """One browser tab <-> one tutor speaking Textual's web driver protocol: packets of a
    type byte (D data, M meta JSON), a 4-byte big-endian length and the payload."""

    def __init__(self, lab: WebLab, student: str, ws, size: tuple[int, int]):
        self.lab = lab
        self.student = student
        self.ws = ws
        self.cols, self.rows = size
        self.pid: int | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def say(self, message: str) -> None:
        with contextlib.suppress(Exception):
            await self.ws.send_bytes(f"\r\nautograd-tutor: {message}\r\n".encode())
            await self.ws.close()

    async def run(self) -> None:
        options = self.lab.options
        if self.lab.stopping:
            return await self.say("the server is shutting down.")
        if len(self.lab.sessions) >= options.max_sessions:
            self.lab.log(f"{self.student}: refused, {options.max_sessions} sessions already")
            return await self.say(f"the lab is full ({options.max_sessions} at once). Try again in a minute.")
        if self.lab.sessions_of(self.student) >= options.max_sessions_per_student:
            most = options.max_sessions_per_student
            self.lab.log(f"{self.student}: refused, already {most} sessions")
            return await self.say(f"you already have {most} tutors open; close one (Ctrl+Q) and reload this page.")
        self.lab.sessions.add(self)
        try:
            await self._serve()
        finally:
            self.lab.sessions.discard(self)

    async def _serve(self) -> None:
        request = Spawn(0, self.student, "web", "xterm-256color", self.cols, self.rows, True)
        try:
            self.pid, fd = await self.lab.spawner.spawn(request)
        except (OSError, SpawnerLost) as err:
            self.lab.log(f"{self.student}: could not start a tutor: {err}")
            return await self.say("could not start the tutor; tell your instructor.")
        self.lab.log(f"{self.student}: web session pid {self.pid} started")
        reader, self.writer = await asyncio.open_unix_connection(sock=socket.socket(fileno=fd))
        screen = self.lab.task(self._from_tutor(reader))
        try:
            await self._from_browser()
        finally:
            await self._end(screen)

    async def _from_browser(self) -> None:
        from aiohttp import WSMsgType

        timeout = self.lab.options.idle_timeout or None
        last_key = time.monotonic()
        while not self.ws.closed:
            wait = None if timeout is None else max(0.1, last_key + timeout - time.monotonic())
            try:
                message = await self.ws.receive(timeout=wait)
            except TimeoutError:
                self.lab.log(f"{self.student}: idle for {timeout:g} s, web session ended")
                return await self.say("no key pressed for a long time: session closed. Your progress is saved.")
            if message.type != WSMsgType.TEXT:
                if message.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR):
                    return
                continue
            try:
                kind, *rest = json.loads(message.data)
            except (ValueError, TypeError):
                continue
            if kind == "stdin" and rest and isinstance(rest[0], str):
                last_key = time.monotonic()
                await self._packet(b"D", rest[0].encode("utf-8", "replace"))
            elif kind == "resize" and rest and isinstance(rest[0], dict):
                cols, rows = _size(rest[0])  # not a key press
                await self._meta({"type": "resize", "width": cols, "height": rows})
            elif kind in ("focus", "blur"):
                await self._meta({"type": kind})
            elif kind == "ping" and rest:
                await self.ws.send_json(["pong", str(rest[0])[:64]])

    async def _packet(self, kind: bytes, payload: bytes) -> None:
        self.writer.write(kind + len(payload).to_bytes(4, "big") + payload)
        await self.writer.drain()

    async def _meta(self, meta: dict) -> None:
        await self._packet(b"M", json.dumps(meta).encode())

    async def _from_tutor(self, reader: asyncio.StreamReader) -> None:
        """The tutor's screen to the browser, until it exits."""
        try:
            for _ in range(10):  # the driver's prelude line comes first
                if await reader.readline() in (b"__GANGLION__\n", b""):
                    break
            while True:
                kind = await reader.readexactly(1)
                size = int.from_bytes(await reader.readexactly(4), "big")
                payload = await reader.readexactly(size)
                if kind == b"D":
                    await self.ws.send_bytes(payload)
                elif kind == b"M" and json.loads(payload).get("type") == "exit":
                    break
        except (asyncio.IncompleteReadError, ConnectionError, ValueError):
            pass
        with contextlib.suppress(Exception):
            await self.ws.close()

    async def _end(self, screen: asyncio.Task) -> None:
        with contextlib.suppress(Exception):
            await self._meta({"type": "quit"})
        self.lab.spawner.end(self.pid, self.lab.options.grace)
        try:
            status = await asyncio.wait_for(
                asyncio.shield(self.lab.spawner.exit_status(self.pid)), self.lab.options.grace + 5
            )
        except TimeoutError:
            status = None
        finally:
            self.lab.spawner.forget(self.pid)
        screen.cancel()
        self.writer.close()
        self.lab.log(f"{self.student}: web session pid {self.pid} ended (status {status})")

    def end(self, farewell: str) -> None:
        """Close the tab's session from the server's side (the server is stopping)."""
        self.lab.task(self.say(farewell))


# --- starting and stopping ----------------------------------------------------------------------------


def serve_web(options: WebOptions, spawner: Spawner | None = None) -> int:
    try:
        tokens = read_tokens(options.students)
    except OSError as err:
        print(f"autograd-tutor web: cannot read or update {options.students}: {err}", file=sys.stderr)
        return 2
    for problem in tokens.problems:
        print(problem, file=sys.stderr)
    if not tokens.tokens:
        print(f"autograd-tutor web: no student in {options.students} (one name per line)", file=sys.stderr)
        return 2
    try:
        options.data_dir.mkdir(parents=True, exist_ok=True)
        (options.data_dir / STUDENTS).mkdir(mode=0o700, exist_ok=True)
        family = socket.AF_INET6 if ":" in options.host else socket.AF_INET
        listener = socket.create_server((options.host, options.port), family=family, backlog=512)
    except OSError as err:
        print(f"autograd-tutor web: {err}", file=sys.stderr)
        return 1
    raise_fd_limit()
    if spawner is None:
        spawner = ForkSpawner.start(Options(tuple(options.lessons), str(options.data_dir)))
    with listener:
        lab = WebLab(options, spawner, tokens)
        return serve_with("web", spawner, options.grace, lambda: asyncio.run(_serve(lab, listener)))


async def _serve(lab: WebLab, listener: socket.socket) -> int:
    from aiohttp import web

    stop = lab.until_stopped()
    runner = web.AppRunner(make_app(lab), access_log=None, handle_signals=False)
    await runner.setup()
    await web.SockSite(runner, listener).start()
    _banner(lab, listener.getsockname()[1])
    await stop.wait()
    await lab.end_sessions()
    await runner.cleanup()
    if lab.failure:
        print(f"autograd-tutor web: {lab.failure}", file=sys.stderr)
        return 1
    return 0


def _banner(lab: WebLab, port: int) -> None:
    options, out = lab.options, sys.stdout
    base = (options.public_url or f"http://{options.host}:{port}").rstrip("/")
    print(f"autograd-tutor web: listening on {options.host}:{port} ({lab.spawner.lessons} lessons)", file=out)
    print(f"  progress   {options.data_dir / STUDENTS}/NAME/progress.sqlite3", file=out)
    added = f", {len(lab.tokens.added)} new" if lab.tokens.added else ""
    print(f"  students   {len(lab.tokens.tokens)} in {options.students}{added}", file=out)
    print("  links (give each student their own; anyone with a link is that student):", file=out)
    width = max(len(s) for s in lab.tokens.tokens)
    for student, token in lab.tokens.tokens.items():
        print(f"    {student:<{width}}  {base}/t/{token}", file=out)
    out.flush()
