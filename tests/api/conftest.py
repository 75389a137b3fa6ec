"""In-process API fixtures: a real Server on tmp_path, its app in a TestClient, three tokens.

``api`` is a running single-machine server (one render worker) with tokens for ``alice`` and
``bob`` (users) and ``root`` (admin), plus helpers to create, wait for and inspect videos.
``make_api`` builds one with other settings (a small body limit, for instance). Every server
cancels its unfinished videos and closes at teardown, so no worker outlives its test.
"""

from __future__ import annotations

import base64
import contextlib
import io
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from fastapi import FastAPI
from PIL import Image
from starlette.testclient import TestClient
from tests.support.postgres import PostgresServer

from openreel.api.app import create_app
from openreel.config import ModerationConfig, QuotaConfig, Settings
from openreel.domain import Principal, Role
from openreel.errors import ConflictError, NotFoundError
from openreel.runtime import Server

if TYPE_CHECKING:
    import httpx2  # what starlette's TestClient returns

TINY: dict[str, Any] = {"model": "openreel-sketch", "seconds": "1", "size": "96x64", "fps": 8}
"""A clip that renders in a fraction of a second."""

LONG: dict[str, Any] = {
    "prompt": "a long slow pan over a lake",
    "seconds": "60",
    "size": "320x192",
    "fps": 24,
}
"""A clip that takes several seconds: long enough to catch it running, cancel or delete it."""

ERROR_KEYS = {"message", "type", "param", "code"}
FINAL = ("completed", "failed")


@dataclass
class Api:
    """A running server, its app and client, and helpers the API tests share."""

    server: Server
    app: FastAPI
    client: TestClient
    tokens: dict[str, str]
    data_dir: Path
    principals: dict[str, Principal] = field(default_factory=dict)

    # ----- requests ----------------------------------------------------------------------------

    def auth(self, who: str = "alice") -> dict[str, str]:
        """The Authorization header of ``who``."""
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    def create(self, who: str = "alice", **fields: Any) -> dict[str, Any]:
        """POSTs a JSON create (tiny defaults) and returns the accepted video."""
        body = {"prompt": "a small boat on a calm lake", **TINY, **fields}
        response = self.client.post("/v1/videos", json=body, headers=self.auth(who))
        assert response.status_code == 200, response.text
        video: dict[str, Any] = response.json()
        return video

    def get(self, video_id: str, who: str = "alice") -> dict[str, Any]:
        """Retrieves a video, which must be visible to ``who``."""
        response = self.client.get(f"/v1/videos/{video_id}", headers=self.auth(who))
        assert response.status_code == 200, response.text
        video: dict[str, Any] = response.json()
        return video

    def wait(
        self,
        video_id: str,
        who: str = "alice",
        *,
        until: Callable[[dict[str, Any]], bool] = lambda v: v["status"] in FINAL,
        timeout: float = 30.0,
    ) -> dict[str, Any]:
        """Polls until ``until(video)`` holds (by default: a final status)."""
        deadline = time.monotonic() + timeout
        while True:
            video = self.get(video_id, who)
            if until(video):
                return video
            if time.monotonic() > deadline:
                raise AssertionError(f"video {video_id} never got there: {video}")
            time.sleep(0.02)

    def make(self, who: str = "alice", **fields: Any) -> dict[str, Any]:
        """Creates a video and waits until it is completed."""
        video = self.wait(self.create(who, **fields)["id"], who)
        assert video["status"] == "completed", video
        return video

    def start_long(self, who: str = "alice") -> dict[str, Any]:
        """Creates a long video and waits until the worker is rendering it."""
        video = self.create(who, **LONG)
        return self.wait(
            video["id"], who, until=lambda v: v["status"] == "in_progress" and v["progress"] > 0
        )

    def content(self, video_id: str, variant: str = "video", who: str = "alice") -> bytes:
        """Downloads a finished video's file."""
        response = self.client.get(
            f"/v1/videos/{video_id}/content", params={"variant": variant}, headers=self.auth(who)
        )
        assert response.status_code == 200, response.text
        return response.content

    # ----- inspection --------------------------------------------------------------------------

    def job_dir(self, video_id: str) -> Path:
        """Where the server keeps a video's files."""
        return self.data_dir / "artifacts" / "jobs" / video_id

    def wait_idle(self, timeout: float = 10.0) -> None:
        """Waits until no worker is running a job."""
        deadline = time.monotonic() + timeout
        while self.server.queue.stats().busy:
            assert time.monotonic() < deadline, "a worker is still busy"
            time.sleep(0.02)

    def shutdown(self) -> None:
        """Cancels everything unfinished, then closes the server."""
        jobs = self.server.services.videos
        after: str | None = None
        while True:
            page = jobs.list(self.principals["root"], after=after, limit=100, order="asc")
            for job in page.items:
                if not job.status.is_final:
                    with contextlib.suppress(ConflictError, NotFoundError):
                        jobs.cancel(self.principals["root"], job.id)
            if not page.has_more:
                break
            after = page.items[-1].id
        self.server.close(timeout=10.0)

    # ----- test data ---------------------------------------------------------------------------

    @staticmethod
    def image(
        color: tuple[int, int, int] = (255, 0, 0),
        size: tuple[int, int] = (32, 32),
        fmt: str = "PNG",
    ) -> bytes:
        """A solid-colour image file."""
        buffer = io.BytesIO()
        Image.new("RGB", size, color).save(buffer, fmt)
        return buffer.getvalue()

    @staticmethod
    def data_url(data: bytes, media_type: str = "image/png") -> str:
        """``data`` as a base64 data URL."""
        return f"data:{media_type};base64,{base64.b64encode(data).decode()}"

    @staticmethod
    def error(
        response: httpx2.Response,
        status: int,
        *,
        param: str | None = None,
        code: str | None = None,
    ) -> dict[str, Any]:
        """Checks an error response: its status and the exact OpenAI envelope; returns the error."""
        assert response.status_code == status, (response.status_code, response.text)
        assert response.headers["content-type"].startswith("application/json")
        body = response.json()
        assert set(body) == {"error"}, body
        error: dict[str, Any] = body["error"]
        # A moderation refusal also names its category; every other error has exactly four keys.
        expected = (
            ERROR_KEYS | {"category"} if error.get("code") == "moderation_blocked" else ERROR_KEYS
        )
        assert set(error) == expected, error
        assert isinstance(error["message"], str)
        assert error["message"]
        assert isinstance(error["type"], str)
        if param is not None:
            assert error["param"] == param, error
        if code is not None:
            assert error["code"] == code, error
        return error


@pytest.fixture(params=["sqlite", "postgresql"])
def make_api(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Callable[..., Api]]:
    """Builds running servers with extra settings; all are closed at teardown.

    Every API test runs twice: on the data folder's SQLite (the default) and on a fresh
    PostgreSQL database (the scale-out deployment), so both stay first-class.
    """
    made: list[tuple[Api, TestClient]] = []
    postgres: PostgresServer | None = (
        request.getfixturevalue("postgres") if request.param == "postgresql" else None
    )

    def build(**overrides: Any) -> Api:
        data_dir = tmp_path / f"data{len(made)}"
        if postgres is not None:
            overrides.setdefault("database_url", postgres.database())
        # Rate limits are off unless a test asks for them: the suites make many videos fast.
        unlimited: dict[str, Any] = {
            "rate_requests_per_minute": 0,
            "rate_creates_per_minute": 0,
            "quota": QuotaConfig(seconds=0, videos=0),
            # The moderation model takes ~10 s to load; its own tests and one API test use it.
            "moderation": ModerationConfig(semantic="off"),
            # Renders in the worker thread: a render process costs each server a fork and
            # each child's first video ~0.1 s of first-use set-up. The process path has its
            # own tests (tests/services/test_render_process.py, one here) and is what every
            # real server process in tests/e2e and tests/studio runs.
            "render_processes": False,
        }
        server = Server.open(Settings(data_dir=data_dir, workers=1, **(unlimited | overrides)))
        try:
            server.start()
            auth = server.services.auth
            issued = {
                "alice": auth.issue("alice"),
                "bob": auth.issue("bob"),
                "root": auth.issue("root", role=Role.ADMIN),
            }
            app = create_app(server.services)
            client = TestClient(app)
            client.__enter__()
        except BaseException:
            server.close()
            raise
        api = Api(
            server=server,
            app=app,
            client=client,
            tokens={name: i.token for name, i in issued.items()},
            data_dir=data_dir,
            principals={name: i.principal for name, i in issued.items()},
        )
        made.append((api, client))
        return api

    yield build
    for api, client in reversed(made):
        try:
            client.__exit__(None, None, None)
        finally:
            api.shutdown()


@pytest.fixture
def api(make_api: Callable[..., Api]) -> Api:
    """A running server with default settings and one worker."""
    return make_api()
