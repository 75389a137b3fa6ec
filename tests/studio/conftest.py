"""A real ``openreel serve`` and Debian's chromium, driven by Playwright, for the studio's tests.

The server runs once per module on a free port (moderation's semantic model off, as in every
other end-to-end suite); each test gets a fresh browser context, so cookies never leak from one
test to the next. Every page's console errors and uncaught exceptions are collected and the
test fails on any it did not declare (a refusal's 400 is logged by the browser itself).

Chromium comes from Debian (``make servers`` installs it); Playwright's own browser download
is never used. Without ``/usr/bin/chromium`` these tests fail with a message saying so.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Page,
    Playwright,
    expect,
    sync_playwright,
)
from tests.support.live_server import free_port, mint, start_server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).parent / "screenshots"
DRAFT = {"seconds": "2", "size": "640x360"}
"""A short, small clip: what the browser tests render through the page."""
TINY: dict[str, Any] = {"model": "openreel-sketch", "seconds": "1", "size": "96x64", "fps": 8}


@dataclass
class StudioServer:
    """The running server, its tokens and a bearer client for setting up data."""

    url: str
    tokens: dict[str, str]
    process: subprocess.Popen[bytes]

    def call(self, who: str, method: str, path: str, **kwargs: Any) -> Any:
        """A bearer-token API call as ``who``; returns the JSON answer."""
        response = httpx.request(
            method,
            self.url + path,
            headers={"Authorization": f"Bearer {self.tokens[who]}"},
            timeout=30,
            **kwargs,
        )
        assert response.status_code == 200, response.text
        return response.json()

    def issue(self, name: str, *, admin: bool = False) -> str:
        """A new token for ``name`` (made by the admin over the API)."""
        issued = self.call("root", "POST", "/v1/admin/tokens", json={"name": name, "admin": admin})
        self.tokens[name] = issued["token"]
        return str(issued["token"])


@pytest.fixture(scope="module")
def studio_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StudioServer]:
    data_dir = tmp_path_factory.mktemp("studio-data")
    root = mint(data_dir, "root", "--admin")
    port = free_port()
    proc = start_server(data_dir, port, data_dir / "server.log", workers=2)
    server = StudioServer(f"http://127.0.0.1:{port}", {"root": root}, proc)
    try:
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="session")
def playwright_driver() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright_driver: Playwright) -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"the studio's browser tests need Debian's chromium at {CHROMIUM}; "
            "run `make servers` (or `apt-get install -y chromium`)",
            pytrace=False,
        )
    browser = playwright_driver.chromium.launch(
        executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
    )
    yield browser
    browser.close()


@dataclass
class Studio:
    """One browser page on the studio, with the helpers the tests share."""

    page: Page
    server: StudioServer
    name: str
    errors: list[str] = field(default_factory=list)
    allowed: list[re.Pattern[str]] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)

    def allow_console(self, pattern: str) -> None:
        """Declares a console error the test expects (matched as a regular expression)."""
        self.allowed.append(re.compile(pattern))

    def shot(self, label: str) -> Path:
        """Saves a screenshot of the page as it is now."""
        SCREENSHOTS.mkdir(exist_ok=True)
        path = SCREENSHOTS / f"{self.name}-{label}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def open(self) -> None:
        self.page.goto(self.server.url + "/")
        self.page.wait_for_selector("#loading", state="hidden")

    def sign_in(self, who: str) -> None:
        """Opens the page and signs in with ``who``'s token."""
        self.open()
        self.page.fill("#token", self.server.tokens[who])
        self.page.click("#signin-form button[type=submit]")
        self.page.wait_for_selector("#view-create:not([hidden])")
        assert self.page.inner_text("#principal") == who

    def generate(self, prompt: str, seconds: str = "2", size: str = "640x360") -> str:
        """Composes and submits a video; returns its id (the job card appears at once)."""
        page = self.page
        page.fill("#prompt", prompt)
        page.fill("#seconds", seconds)
        page.select_option("#format", size)
        known: list[str] = page.evaluate(
            "() => [...document.querySelectorAll('#jobs li, #watch video')].map(e => e.dataset.id)"
        )
        page.click("#generate")
        # The new id comes from its job card or, if it already finished, from the player.
        found = page.wait_for_function(
            """known => {
                const fresh = [...document.querySelectorAll('#jobs li, #watch video')]
                    .map(e => e.dataset.id).find(id => !known.includes(id));
                if (fresh) return fresh;
                return document.getElementById('compose-error').textContent ? 'error' : false;
            }""",
            arg=known,
        ).json_value()
        error = page.inner_text("#compose-error")
        assert not error, error
        return str(found)

    def wait_playing(self, video_id: str, timeout: float = 60_000) -> dict[str, float]:
        """Waits until the watch panel's <video> for ``video_id`` has data; returns its state."""
        selector = f'#watch video[data-id="{video_id}"]'
        self.page.wait_for_selector(selector, timeout=timeout)
        self.page.wait_for_function(
            f"() => document.querySelector('{selector}').readyState >= 2", timeout=timeout
        )
        state: dict[str, float] = self.page.evaluate(
            f"(() => {{ const v = document.querySelector('{selector}');"
            " return {readyState: v.readyState, duration: v.duration,"
            " seekable: v.seekable.length ? v.seekable.end(0) : 0}; })()"
        )
        return state


@pytest.fixture
def studio(
    browser: Browser, studio_server: StudioServer, request: pytest.FixtureRequest
) -> Iterator[Studio]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    # Generous: this suite shares two cores with renders (and, on a busy machine, more).
    expect.set_options(timeout=20_000)
    view = Studio(page, studio_server, request.node.name.removeprefix("test_"))

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            view.errors.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda exc: view.errors.append(f"uncaught: {exc}"))
    origin = studio_server.url
    page.on(
        "request",
        lambda r: (
            None if r.url.startswith((origin, "data:", "blob:")) else view.foreign.append(r.url)
        ),
    )
    try:
        yield view
    finally:
        context.close()
    unexpected = [e for e in view.errors if not any(p.search(e) for p in view.allowed)]
    assert unexpected == [], f"console errors: {unexpected}"
    assert view.foreign == [], f"requests to other hosts: {view.foreign}"
