"""The optional external guard: OpenAI-compatible moderations and a guard model over chat.

The fake service is a real HTTP server on the loopback whose answers are built from the
services' own material: OpenAI's response types from the ``openai`` package (validated
through them, dumped with their wire names), and Llama Guard's output format from its model
card (``safe``, or ``unsafe`` with the hazard codes on the next line).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from openai.types.chat import ChatCompletion
from openai.types.moderation_create_response import ModerationCreateResponse

from openreel.config import GuardConfig, ModerationConfig
from openreel.errors import ModerationBlockedError, ModerationUnavailableError
from openreel.trust.moderation import GuardCheck, build_pipeline, normalise

CATEGORIES = (
    "harassment",
    "harassment/threatening",
    "hate",
    "hate/threatening",
    "illicit",
    "illicit/violent",
    "self-harm",
    "self-harm/instructions",
    "self-harm/intent",
    "sexual",
    "sexual/minors",
    "violence",
    "violence/graphic",
)


def moderation_body(flagged: set[str]) -> dict[str, Any]:
    """An OpenAI moderation response, through the SDK's own types."""
    response = ModerationCreateResponse.model_validate(
        {
            "id": "modr-test",
            "model": "omni-moderation-latest",
            "results": [
                {
                    "flagged": bool(flagged),
                    "categories": {name: name in flagged for name in CATEGORIES},
                    "category_scores": {
                        name: 0.97 if name in flagged else 0.01 for name in CATEGORIES
                    },
                    "category_applied_input_types": {name: ["text"] for name in CATEGORIES},
                }
            ],
        }
    )
    return response.model_dump(mode="json", by_alias=True)


def chat_body(content: str) -> dict[str, Any]:
    """A chat completion whose message is ``content``, through the SDK's own types."""
    completion = ChatCompletion.model_validate(
        {
            "id": "chatcmpl-test",
            "object": "chat.completion",
            "created": 1_700_000_000,
            "model": "llama-guard3:1b",
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "stop",
                    "message": {"role": "assistant", "content": content},
                }
            ],
        }
    )
    return completion.model_dump(mode="json", exclude_none=True)


class FakeGuard:
    """What the service answers next, and what it was asked."""

    def __init__(self) -> None:
        self.body: Any = moderation_body(set())
        self.status = 200
        self.delay_s = 0.0
        self.requests: list[tuple[str, dict[str, Any], str | None]] = []


@pytest.fixture
def fake() -> Iterator[tuple[FakeGuard, str]]:
    state = FakeGuard()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(length) or b"{}")
            state.requests.append((self.path, body, self.headers.get("Authorization")))
            if state.delay_s:
                time.sleep(state.delay_s)
            raw = state.body if isinstance(state.body, bytes) else json.dumps(state.body).encode()
            try:
                self.send_response(state.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)
            except OSError:  # the client gave up (timeout test)
                pass

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def guard(url: str, **kwargs: Any) -> GuardCheck:
    options: dict[str, Any] = {"kind": "moderations", "model": "omni-moderation-latest"}
    options.update(kwargs)
    return GuardCheck(url=url, **options)


def test_moderations_flagged_refuses_with_its_category(fake: tuple[FakeGuard, str]) -> None:
    state, url = fake
    state.body = moderation_body({"violence", "violence/graphic"})
    check = guard(url, api_key="sk-test")
    refusal = check.check(normalise("a prompt the service flags"))
    assert refusal is not None
    assert refusal.category == "violence"
    assert refusal.check == "guard"
    assert refusal.rule == "moderations:violence,violence/graphic"
    path, body, auth = state.requests[0]
    assert path == "/v1/moderations"
    assert body == {"model": "omni-moderation-latest", "input": "a prompt the service flags"}
    assert auth == "Bearer sk-test"
    check.close()


def test_moderations_clean_allows(fake: tuple[FakeGuard, str]) -> None:
    state, url = fake
    state.body = moderation_body(set())
    assert guard(url).check(normalise("a cat on a windowsill")) is None
    assert state.requests[0][2] is None  # no key configured, no header


@pytest.mark.parametrize(
    ("content", "category", "rule"),
    [
        ("unsafe\nS1", "violence/graphic", "chat:unsafe:S1"),
        ("unsafe\nS4", "sexual/minors", "chat:unsafe:S4"),
        ("unsafe\nS11,S1", "self-harm", "chat:unsafe:S11,S1"),
        ("unsafe", "policy", "chat:unsafe:-"),
        ("Yes", "policy", "chat:yes"),  # ShieldGemma: the prompt violates the policy
    ],
)
def test_chat_guard_unsafe_refuses(
    fake: tuple[FakeGuard, str], content: str, category: str, rule: str
) -> None:
    state, url = fake
    state.body = chat_body(content)
    refusal = guard(url, kind="chat", model="llama-guard3:1b").check(normalise("some prompt"))
    assert refusal is not None
    assert (refusal.category, refusal.rule, refusal.check) == (category, rule, "guard")
    path, body, _ = state.requests[0]
    assert path == "/v1/chat/completions"
    assert body["model"] == "llama-guard3:1b"
    assert body["messages"] == [{"role": "user", "content": "some prompt"}]


@pytest.mark.parametrize("content", ["safe", "No", "\nsafe\n"])
def test_chat_guard_safe_allows(fake: tuple[FakeGuard, str], content: str) -> None:
    state, url = fake
    state.body = chat_body(content)
    assert guard(url, kind="chat", model="llama-guard3:1b").check(normalise("x")) is None


@pytest.mark.parametrize(
    ("kind", "body", "status"),
    [
        ("moderations", {"results": []}, 200),  # malformed: no result
        ("moderations", {"results": [{"flagged": "yes", "categories": {}}]}, 200),
        ("moderations", b"<html>bad gateway</html>", 200),  # not JSON
        ("moderations", moderation_body(set()), 500),
        ("chat", chat_body("I cannot help with that."), 200),  # unreadable verdict
        ("chat", {"choices": []}, 200),
    ],
)
def test_malformed_or_failed_answers_follow_the_failure_setting(
    fake: tuple[FakeGuard, str], kind: str, body: Any, status: int
) -> None:
    state, url = fake
    state.body, state.status = body, status
    assert guard(url, kind=kind, on_failure="open").check(normalise("x")) is None
    with pytest.raises(ModerationUnavailableError) as caught:
        guard(url, kind=kind, on_failure="closed").check(normalise("x"))
    assert caught.value.http_status == 503
    assert caught.value.code == "moderation_unavailable"


def test_timeout_fails_open_or_closed(fake: tuple[FakeGuard, str]) -> None:
    state, url = fake
    state.body = moderation_body({"sexual"})
    state.delay_s = 1.0
    started = time.perf_counter()
    assert guard(url, timeout_s=0.2, on_failure="open").check(normalise("x")) is None
    assert time.perf_counter() - started < 0.9  # gave up at the timeout, not the answer
    with pytest.raises(ModerationUnavailableError):
        guard(url, timeout_s=0.2, on_failure="closed").check(normalise("x"))


def test_pipeline_asks_the_guard_last_and_only_about_allowed_prompts(
    fake: tuple[FakeGuard, str],
) -> None:
    state, url = fake
    state.body = moderation_body({"harassment"})
    config = ModerationConfig(semantic="off", guard=GuardConfig(kind="moderations", url=url))
    pipeline = build_pipeline(config)
    assert pipeline is not None
    assert isinstance(pipeline.checks[-1], GuardCheck)
    # The rules refuse this one: the guard is never asked.
    ruled = pipeline.decide("a hardcore porn scene")
    assert ruled.refusal is not None
    assert ruled.refusal.check == "rules"
    assert state.requests == []
    with pytest.raises(ModerationBlockedError) as caught:
        pipeline.screen("a prompt only the service objects to")
    assert caught.value.check == "guard"
    assert caught.value.category == "harassment"
    assert "external moderation service" in caught.value.message
    assert len(state.requests) == 1


def test_guard_settings_need_a_url_when_on() -> None:
    with pytest.raises(ValueError, match=r"moderation\.guard\.url"):
        GuardConfig(kind="chat")
    with pytest.raises(ValueError, match=r"'ftp://x'"):
        GuardConfig(kind="moderations", url="ftp://x")
    assert GuardConfig().kind == "off"
