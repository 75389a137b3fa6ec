"""A planted provider key, looked for everywhere a real ``openreel serve`` process leaves bytes.

docs/operations.md ("Provider credentials"): keys live only in the server's
environment; no response, log line, job row or file ever contains them. The server here gets
a key for every hosted provider in its environment (``OPENREEL_PROVIDERS__RUNWAY``, ``__FAL``,
``__REPLICATE``, ``__LUMA``, ``__GOOGLE`` and ``__UPSTREAM``), then a realistic
session runs against it: videos made from JSON and from multipart forms, polling, listing,
every download variant, remix, extend, server-sent events, uploads, usage, admin listings,
and an error of each class the API can be pushed into (400, 401, 403, 404, 405, 409, 413,
415). Afterwards every response body and header, the server's log (stdout and stderr), and
every byte of every file in the data folder (the SQLite database and its WAL while running,
again after a clean stop, and the artifacts) is searched for the keys, and for any 16-character
piece of them, so a truncated "key prefix" in an error counts too. The request tokens are
looked for in the log and the data folder as well (the database keeps only keyed hashes).

A key the user types into a prompt is not a leak (they gave it), so no prompt contains one.

The last two tests check ``openreel.logs.install_redaction`` directly: once scoped to a
logger, and once process-wide in a child process that configures logging the way
``uvicorn.run`` does after ``serve`` would have installed the filter.
"""

from __future__ import annotations

import io
import logging
import os
import secrets
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from PIL import Image
from tests.support.live_server import free_port, mint, start_server

from openreel.logs import REDACTED, install_redaction
from openreel.trust.auth import mint_token

if TYPE_CHECKING:
    from tests.e2e.conftest import ServerLauncher

pytestmark = pytest.mark.slow

SMALL = {"model": "openreel-sketch", "seconds": "2", "size": "160x96"}
BIG = {"model": "openreel-sketch", "seconds": "8", "size": "1280x720"}
"""Long enough to still be rendering when the next request asks for its content (409)."""
MAX_BODY = 65536
WINDOW = 16
"""Any run of this many characters of a secret counts as a leak (token prefixes are 10)."""
FINAL = ("completed", "failed")


@dataclass
class Exchange:
    """One request and what came back."""

    label: str
    expected: int
    status: int
    headers: bytes
    body: bytes


@dataclass
class Session:
    """Everything one run of the server produced, for the tests below to search."""

    keys: dict[str, str]
    tokens: dict[str, str]
    exchanges: list[Exchange] = field(default_factory=list)
    running_files: dict[str, bytes] = field(default_factory=dict)
    stopped_files: dict[str, bytes] = field(default_factory=dict)
    log: bytes = b""
    environ: bytes | None = None


def _png(width: int = 160, height: int = 96) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 80, 40)).save(out, format="PNG")
    return out.getvalue()


def _files(folder: Path) -> dict[str, bytes]:
    found: dict[str, bytes] = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            try:
                found[str(path.relative_to(folder))] = path.read_bytes()
            except FileNotFoundError:  # a WAL or temporary file gone while we walked
                continue
    return found


def _needles(secret: str) -> list[bytes]:
    if len(secret) <= WINDOW:
        return [secret.encode()]
    return [secret[i : i + WINDOW].encode() for i in range(len(secret) - WINDOW + 1)]


def _where(haystack: bytes, secret: str) -> str | None:
    """A short excerpt around the first piece of ``secret`` in ``haystack``, or None."""
    for needle in _needles(secret):
        at = haystack.find(needle)
        if at >= 0:
            excerpt = haystack[max(0, at - 60) : at + len(needle) + 60]
            return f"at byte {at}: {excerpt!r}"
    return None


class Recorder:
    """Sends requests for one person and keeps every exchange."""

    def __init__(self, session: Session, url: str, token: str | None, who: str) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.client = httpx.Client(base_url=url, headers=headers, timeout=60)
        self.session = session
        self.who = who

    def __call__(
        self, expected: int, method: str, path: str, label: str = "", **kwargs: Any
    ) -> httpx.Response:
        response = self.client.request(method, path, **kwargs)
        headers = "\n".join(f"{k}: {v}" for k, v in response.headers.multi_items())
        self.session.exchanges.append(
            Exchange(
                f"{self.who} {method} {path} {label}".strip(),
                expected,
                response.status_code,
                headers.encode(),
                response.content,
            )
        )
        return response

    def create(self, label: str, **kwargs: Any) -> str:
        response = self(200, "POST", "/v1/videos", label, **kwargs)
        assert response.status_code == 200, response.text
        video_id: str = response.json()["id"]
        return video_id

    def wait(self, video_id: str, timeout: float = 120) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            video: dict[str, Any] = self(200, "GET", f"/v1/videos/{video_id}", "poll").json()
            if video["status"] in FINAL:
                return video
            if time.monotonic() > deadline:
                pytest.fail(f"{video_id} not finished after {timeout:g} s: {video}")
            time.sleep(0.1)


def _run_session(session: Session, url: str) -> None:
    """The realistic session: every endpoint, every content variant, every error class."""
    alice = Recorder(session, url, session.tokens["alice"], "alice")
    bob = Recorder(session, url, session.tokens["bob"], "bob")
    reader = Recorder(session, url, session.tokens["reader"], "reader")
    root = Recorder(session, url, session.tokens["root"], "root")
    anon = Recorder(session, url, None, "anonymous")
    stranger = Recorder(session, url, session.tokens["unknown"], "unknown token")
    malformed = Recorder(session, url, "nope", "malformed token")
    try:
        anon(200, "GET", "/healthz")
        anon(200, "GET", "/openapi.json")
        anon(200, "GET", "/docs")
        alice(200, "GET", "/v1/models")
        # Every hosted backend is built with its key to judge a request it must refuse.
        for model in ("runway/gen4.5", "fal/ltx-video", "replicate/ltx-video", "luma/ray-2",
                      "veo/veo-3.1-fast"):  # fmt: skip
            alice(400, "POST", "/v1/videos", f"too long for {model}",
                  json={"model": model, "prompt": "a boat", "seconds": "13"})  # fmt: skip

        made = alice.create("json", json={"prompt": "a lighthouse at dusk", **SMALL})
        form = alice.create(
            "multipart",
            data={"prompt": "a red kite over hills", **SMALL},
            files={"input_reference": ("ref.png", _png(), "image/png")},
        )
        upload = alice(
            200, "POST", "/v1/files", files={"file": ("ref.png", _png(), "image/png")}
        ).json()
        alice(200, "GET", f"/v1/files/{upload['id']}")
        by_file = alice.create(
            "file reference",
            json={"prompt": "a harbour", "input_reference": {"file_id": upload["id"]}, **SMALL},
        )
        for video_id in (made, form, by_file):
            assert alice.wait(video_id)["status"] == "completed"

        alice(200, "GET", "/v1/videos")
        alice(200, "GET", "/v1/videos", params={"limit": 1, "order": "asc"})
        alice(200, "GET", "/v1/videos", params={"after": made, "limit": 10})
        for variant in ("video", "thumbnail", "spritesheet"):
            alice(200, "GET", f"/v1/videos/{made}/content", params={"variant": variant})
        alice(200, "GET", f"/v1/videos/{made}/content", "default variant")
        alice(206, "GET", f"/v1/videos/{made}/content", "range", headers={"Range": "bytes=0-99"})
        alice(200, "GET", f"/v1/videos/{made}/events", "finished stream")

        remix = alice(
            200, "POST", f"/v1/videos/{made}/remix", json={"prompt": "the same, at night"}
        ).json()["id"]
        extended = alice(
            200,
            "POST",
            "/v1/videos/extensions",
            "json",
            json={"prompt": "the lighthouse beam sweeps", "video": {"id": made}, "seconds": 1},
        ).json()["id"]
        extended_form = alice(
            200,
            "POST",
            "/v1/videos/extensions",
            "multipart",
            data={"prompt": "waves rise", "video[id]": form, "seconds": "1"},
            files={"unused": ("x.txt", b"x", "text/plain")},
        ).json()["id"]
        for video_id in (remix, extended, extended_form):
            alice.wait(video_id)
            for variant in ("video", "thumbnail", "spritesheet"):
                alice(200, "GET", f"/v1/videos/{video_id}/content", params={"variant": variant})

        alice(200, "GET", "/v1/usage")
        root(200, "GET", "/v1/admin/usage")
        root(200, "GET", "/v1/admin/tokens")
        reader(200, "GET", "/v1/videos")

        # One of each error class.
        alice(
            400, "POST", "/v1/videos", "bad size", json={**SMALL, "prompt": "x", "size": "161x96"}
        )
        alice(
            400, "POST", "/v1/videos", "bad model", json={**SMALL, "prompt": "x", "model": "sora-2"}
        )
        alice(400, "POST", "/v1/videos", "no prompt", json=SMALL)
        alice(
            400,
            "POST",
            "/v1/videos",
            "broken json",
            content=b'{"prompt": ',
            headers={"Content-Type": "application/json"},
        )
        alice(400, "GET", f"/v1/videos/{made}/content", "bad variant", params={"variant": "gif"})
        alice(400, "GET", "/v1/videos", "bad limit", params={"limit": "many"})
        alice(
            400,
            "POST",
            "/v1/videos",
            "bad image",
            data={"prompt": "x", **SMALL},
            files={"input_reference": ("ref.png", b"not an image", "image/png")},
        )
        anon(401, "GET", "/v1/videos", "no token")
        malformed(401, "GET", "/v1/videos")
        stranger(401, "GET", "/v1/videos")
        anon(401, "GET", "/v1/models", "basic auth", headers={"Authorization": "Basic dTpw"})
        reader(403, "POST", "/v1/videos", "read-only token", json={"prompt": "x", **SMALL})
        alice(403, "GET", "/v1/admin/tokens", "not an admin")
        alice(404, "GET", "/v1/videos/video_doesnotexist")
        alice(404, "GET", "/v1/videos/video_doesnotexist/content")
        bob(404, "GET", f"/v1/videos/{made}", "someone else's")
        bob(404, "POST", f"/v1/videos/{made}/remix", "someone else's", json={"prompt": "mine"})
        anon(404, "GET", "/v1/nothing-here")
        alice(405, "PUT", "/v1/videos")
        alice(413, "POST", "/v1/videos", "huge", json={"prompt": "x" * (MAX_BODY * 2), **SMALL})
        alice(
            415,
            "POST",
            "/v1/videos",
            "plain text",
            content=b"prompt=x",
            headers={"Content-Type": "text/plain"},
        )

        busy = alice.create("to be cancelled", json={"prompt": "a long storm", **BIG})
        alice(409, "GET", f"/v1/videos/{busy}/content", "unfinished")
        alice(409, "POST", f"/v1/videos/{busy}/remix", "unfinished", json={"prompt": "again"})
        alice(200, "POST", f"/v1/videos/{busy}/cancel")
        alice.wait(busy)
        alice(200, "DELETE", f"/v1/videos/{remix}")
        alice(404, "GET", f"/v1/videos/{remix}", "deleted")
        alice(200, "GET", "/v1/videos", "final listing")
    finally:
        for recorder in (alice, bob, reader, root, anon, stranger, malformed):
            recorder.client.close()


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory, server_launcher: ServerLauncher) -> Session:
    keys = {
        "runway": "rk_live_" + secrets.token_hex(16),
        "fal": "fal_" + secrets.token_hex(16),
        "replicate": "r8_" + secrets.token_hex(16),
        "luma": "luma-" + secrets.token_hex(16),
        "google": "AIza" + secrets.token_hex(16),
        "upstream": "or_up_" + secrets.token_hex(16),
    }
    root = tmp_path_factory.mktemp("secrets")
    data_dir = root / "data"
    log = root / "server.log"  # outside the data folder, so each is searched on its own
    with pytest.MonkeyPatch.context() as env:
        # server_env() copies os.environ, so the keys reach the server (and the CLI) this way.
        env.setenv("OPENREEL_PROVIDERS__RUNWAY", keys["runway"])
        env.setenv("OPENREEL_PROVIDERS__FAL", keys["fal"])
        env.setenv("OPENREEL_PROVIDERS__REPLICATE", keys["replicate"])
        env.setenv("OPENREEL_PROVIDERS__LUMA", keys["luma"])
        env.setenv("OPENREEL_PROVIDERS__GOOGLE", keys["google"])
        # A configured upstream, so its key is loaded and its model offered (nothing listens
        # there; tests/e2e/test_upstream.py drives a real one).
        env.setenv("OPENREEL_PROVIDERS__UPSTREAM", keys["upstream"])
        env.setenv("OPENREEL_UPSTREAM__URL", f"http://127.0.0.1:{free_port()}/v1")
        env.setenv("OPENREEL_UPSTREAM__MODELS", '["remote-model"]')
        env.setenv("OPENREEL_MAX_BODY_BYTES", str(MAX_BODY))
        tokens = {
            # An admin made first, so serve prints no first-admin token of its own.
            "root": mint(data_dir, "root", "--admin"),
            "alice": mint(data_dir, "alice"),
            "bob": mint(data_dir, "bob"),
            "reader": mint(data_dir, "reader", "--scope", "videos:read"),
            "unknown": mint_token(),  # well formed, never issued
        }
        port = free_port()
        process = start_server(data_dir, port, log)
    server_launcher.processes.append(process)
    found = Session(keys=keys, tokens=tokens)
    environ = Path(f"/proc/{process.pid}/environ")
    found.environ = environ.read_bytes() if environ.exists() else None
    try:
        _run_session(found, f"http://127.0.0.1:{port}")
        found.running_files = _files(data_dir)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    found.stopped_files = _files(data_dir)
    found.log = log.read_bytes()
    return found


def _search(places: dict[str, bytes], secrets_by_name: dict[str, str]) -> list[str]:
    leaks = []
    for place, data in places.items():
        for name, secret in secrets_by_name.items():
            where = _where(data, secret)
            if where:
                leaks.append(f"{name} in {place} {where}")
    return leaks


def _responses(session: Session) -> dict[str, bytes]:
    places: dict[str, bytes] = {}
    for n, exchange in enumerate(session.exchanges):
        label = f"response #{n} ({exchange.label} -> {exchange.status})"
        places[label + " headers"] = exchange.headers
        places[label + " body"] = exchange.body
    return places


def test_secrets_search_finds_any_piece_of_a_secret() -> None:
    key = "rk_live_" + secrets.token_hex(16)
    assert _where(b"xx" + key.encode() + b"yy", key) is not None
    assert _where(b"key prefix " + key[:WINDOW].encode() + b"...", key) is not None
    assert _where(b"...tail " + key[-WINDOW:].encode(), key) is not None
    assert _where(b"rk_live_ only " + key[: WINDOW - 1].encode(), key) is None


def test_secrets_keys_reached_the_server(session: Session) -> None:
    if session.environ is None:
        pytest.skip("no /proc on this system")
    for secret in session.keys.values():
        assert secret.encode() in session.environ


def test_secrets_session_covered_every_error_class(session: Session) -> None:
    wrong = [
        f"{e.label}: expected {e.expected}, got {e.status}: {e.body[:300]!r}"
        for e in session.exchanges
        if e.status != e.expected
    ]
    assert wrong == []
    statuses = {e.status for e in session.exchanges}
    assert {200, 206, 400, 401, 403, 404, 405, 409, 413, 415} <= statuses


def test_secrets_key_never_in_any_response(session: Session) -> None:
    leaks = _search(_responses(session), session.keys)
    assert not leaks, "provider key leaked:\n" + "\n".join(leaks)


def test_secrets_key_never_in_server_log(session: Session) -> None:
    assert session.log, "the server wrote nothing at all; is the log captured?"
    leaks = _search({"server log (stdout+stderr)": session.log}, session.keys)
    assert not leaks, "provider key leaked:\n" + "\n".join(leaks)


def test_secrets_key_never_in_data_folder(session: Session) -> None:
    assert any(name.endswith(".mp4") for name in session.stopped_files)
    places = {f"data/{k} (server running)": v for k, v in session.running_files.items()}
    places |= {f"data/{k} (server stopped)": v for k, v in session.stopped_files.items()}
    leaks = _search(places, session.keys)
    assert not leaks, "provider key leaked:\n" + "\n".join(leaks)


def test_secrets_request_tokens_never_in_server_log(session: Session) -> None:
    leaks = _search({"server log (stdout+stderr)": session.log}, session.tokens)
    assert not leaks, "access token leaked:\n" + "\n".join(leaks)


def test_secrets_request_tokens_never_in_data_folder(session: Session) -> None:
    places = {f"data/{k} (server running)": v for k, v in session.running_files.items()}
    places |= {f"data/{k} (server stopped)": v for k, v in session.stopped_files.items()}
    leaks = _search(places, session.tokens)
    assert not leaks, "access token leaked:\n" + "\n".join(leaks)


def test_secrets_request_tokens_never_echoed_in_responses(session: Session) -> None:
    leaks = _search(_responses(session), session.tokens)
    assert not leaks, "access token echoed:\n" + "\n".join(leaks)


def test_secrets_install_redaction_on_a_logger_redacts_its_handler_output() -> None:
    key = "rk_live_" + secrets.token_hex(16)
    token = mint_token()
    logger = logging.getLogger("openreel_test_secrets.provider")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger.addHandler(handler)
    logger.propagate = False
    try:
        redactor = install_redaction([key], logger=logger)
        child = logging.getLogger("openreel_test_secrets.provider.runway")
        child.warning("POST https://api.runway.example/v1?key=%s failed", key)
        child.warning("Authorization: Bearer %s", token)
        try:
            raise PermissionError(f"401 for key {key}")
        except PermissionError:
            logger.exception("provider call failed")
    finally:
        for each in logger.handlers:
            if redactor in each.filters:
                each.removeFilter(redactor)
        logger.removeHandler(handler)
        logger.propagate = True
    output = stream.getvalue()
    assert key not in output, output
    assert token not in output, output
    assert output.count(REDACTED) == 3, output
    assert "PermissionError: 401 for key [redacted]" in output


_SERVER_LIKE = textwrap.dedent(
    """
    import logging, logging.config, sys
    import uvicorn.config
    from openreel.config import Settings
    from openreel.logs import install_redaction, secrets_of

    settings = Settings()
    install_redaction(secrets_of(settings))  # the line serve gets, before uvicorn.run
    logging.config.dictConfig(uvicorn.config.LOGGING_CONFIG)  # what uvicorn.run does next
    logging.getLogger("uvicorn").setLevel(logging.INFO)
    logging.getLogger("uvicorn.access").setLevel(logging.INFO)
    key = settings.providers.runway.get_secret_value()
    token = sys.argv[1]
    logging.getLogger("uvicorn.error").info("key is %s", key)
    try:
        raise RuntimeError("provider answered 401 for " + key)
    except RuntimeError:
        logging.getLogger("uvicorn.error").exception("Exception in ASGI application")
    logging.getLogger("uvicorn.access").info(
        '%s - "%s %s HTTP/%s" %d', "127.0.0.1:1", "GET", "/v1/videos?token=" + token, "1.1", 200
    )
    logging.getLogger("openreel.queue.embedded").error("job failed: key=%s token=%s", key, token)
    print("done", file=sys.stderr)
    """
)


def test_secrets_install_redaction_covers_handlers_uvicorn_adds_later(tmp_path: Path) -> None:
    key = "rk_live_" + secrets.token_hex(16)
    token = mint_token()
    env = os.environ | {"OPENREEL_DATA_DIR": str(tmp_path), "OPENREEL_PROVIDERS__RUNWAY": key}
    out = subprocess.run(
        [sys.executable, "-c", _SERVER_LIKE, token],
        env=env,
        capture_output=True,
        timeout=60,
        check=False,
    )
    output = (out.stdout + out.stderr).decode()
    assert out.returncode == 0, output
    assert "done" in output
    leaks = _search({"child output": output.encode()}, {"key": key, "token": token})
    assert not leaks, "leaked:\n" + "\n".join(leaks) + "\n" + output
    # key info line, exception message, access line, the lastResort line (key and token)
    assert output.count(REDACTED) == 5, output
    assert "Traceback (most recent call last)" in output
