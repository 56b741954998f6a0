"""`autograd-tutor web` in a real browser: Debian's chromium, headless, driven by
playwright. What the page's terminal shows is read by feeding the websocket frames the
browser received into a VT100 emulator (pyte): the xterm.js in the page draws on a
canvas, which has no text to read."""

from __future__ import annotations

import asyncio
import re
import shutil
import sqlite3
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pyte
import pytest

from .conftest import CHAIN, COMMAND, TITLE, wait_gone

CHROMIUM = "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(not shutil.which(CHROMIUM), reason="needs Debian's chromium (make test-tools)")
BROWSER_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class WebServer:
    """`autograd-tutor web` in a subprocess on 127.0.0.1, a port the OS picks."""

    def __init__(self, directory: Path, students: str):
        self.students = directory / "class.txt"
        self.students.write_text(students)
        self.data = directory / "data"
        self.out, self.err = directory / "web.out", directory / "web.err"
        argv = [str(COMMAND), "web", "--students", str(self.students), "--port", "0"]
        argv += ["--data-dir", str(self.data), "--lessons", str(CHAIN)]
        with open(self.out, "wb") as out, open(self.err, "wb") as err:
            self.proc = subprocess.Popen(argv, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while not (found := re.search(r"listening on 127\.0\.0\.1:(\d+)", self.out.read_text())):
            assert self.proc.poll() is None and time.monotonic() < deadline, self.err.read_text()
            time.sleep(0.1)
        self.port = int(found.group(1))
        time.sleep(0.2)  # the links come right after
        self.links = dict(re.findall(r"^\s+(\S+)\s+(http://\S+/t/\S+)$", self.out.read_text(), re.M))

    def log(self) -> str:
        return self.err.read_text()

    def stop(self) -> None:
        from .conftest import descendants

        below = descendants(self.proc.pid)
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        left = wait_gone(below, timeout=15)
        for pid in left:
            import os
            import signal

            os.kill(pid, signal.SIGKILL)
        assert not left, f"left behind by web: {left}"


class Terminal:
    """The page's terminal, as the frames its websocket received draw it."""

    def __init__(self, page):
        self.page = page
        self.screen: pyte.Screen | None = None
        self.stream: pyte.ByteStream | None = None
        page.on("websocket", self._opened)

    def _opened(self, ws) -> None:
        query = parse_qs(urlsplit(ws.url).query)
        self.screen = pyte.Screen(int(query["width"][0]), int(query["height"][0]))
        self.stream = pyte.ByteStream(self.screen)
        ws.on("framereceived", self._frame)

    def _frame(self, payload) -> None:
        if isinstance(payload, bytes):
            self.stream.feed(payload)

    def text(self) -> str:
        return "\n".join(self.screen.display) if self.screen else ""

    def wait_for(self, text: str, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.text():
                return self.text()
            self.page.wait_for_timeout(50)
        raise AssertionError(f"{text!r} never appeared in the browser; it showed:\n{self.text()}")

    def type(self, *keys: str) -> None:
        for key in keys:
            if len(key) > 1 and key[0].isupper():
                self.page.keyboard.press(key)
            else:
                self.page.keyboard.type(key)
            self.page.wait_for_timeout(50)


@pytest.fixture
def web(tmp_path):
    server = WebServer(tmp_path, "# the class\nalice\nbob\n")
    yield server
    server.stop()


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="agt-chromium-") as profile, sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, headless=True, args=BROWSER_ARGS, viewport={"width": 1000, "height": 560}
        )
        yield context
        context.close()


def test_open_the_link_answer_a_step_reload_and_resume(web, browser):
    assert set(web.links) == {"alice", "bob"}
    assert all(len(line.split()) == 2 for line in web.students.read_text().splitlines()[1:])  # tokens written
    page = browser.new_page()
    terminal = Terminal(page)
    page.goto(web.links["alice"])
    assert urlsplit(page.url).path == "/"  # the token is not left in the address bar
    terminal.wait_for(TITLE)
    terminal.wait_for("not started")
    page.click("#terminal")
    terminal.type("Enter")
    terminal.wait_for("Step 1 of 5")
    terminal.wait_for("PowBackward0")
    terminal.type("16", "Enter")
    terminal.wait_for("16 was right")
    terminal.wait_for("Step 2 of 5")

    page.reload()
    terminal.wait_for("step 2 of 5")  # the catalogue's progress column: resumed from alice's store
    page.click("#terminal")
    terminal.type("Control+n")  # continue
    terminal.wait_for("Step 2 of 5 · Forward pass")

    db = sqlite3.connect(web.data / "students" / "alice" / "progress.sqlite3")
    assert db.execute("SELECT student, step, solved FROM progress").fetchall() == [("alice", 1, 1)]
    db.close()
    assert "alice: signed in" in web.log() and re.search(r"alice: web session pid \d+ started", web.log())


def test_no_token_no_tutor(web, browser):
    page = browser.new_page()
    response = page.goto(f"http://127.0.0.1:{web.port}/t/not-a-real-token-at-all")
    assert response.status == 403 and "This link is not valid" in page.content()
    response = page.goto(f"http://127.0.0.1:{web.port}/")
    assert response.status == 401 and "Open the link your instructor gave you" in page.content()
    closed = page.evaluate(
        """() => new Promise(done => {
            const ws = new WebSocket(`ws://${location.host}/ws?width=80&height=24`);
            ws.onopen = () => done("opened");
            ws.onclose = () => done("refused");
        })"""
    )
    assert closed == "refused"
    assert "started" not in web.log()


def test_a_websocket_from_another_origin_is_refused(web):
    import aiohttp

    token = web.links["bob"].rsplit("/", 1)[1]

    async def attempt(origin: str) -> int:
        async with aiohttp.ClientSession(cookies={"agt_token": token}) as session:
            try:
                async with session.ws_connect(f"http://127.0.0.1:{web.port}/ws", origin=origin) as ws:
                    await ws.close()
                    return 101
            except aiohttp.WSServerHandshakeError as err:
                return err.status

    assert asyncio.run(attempt("http://evil.example")) == 403
    assert asyncio.run(attempt(f"http://127.0.0.1:{web.port}")) == 101
