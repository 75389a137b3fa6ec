"""A fake Luma Dream Machine API (and its CDN) for tests: an httpx transport with scripts.

It answers as Luma's own SDK (``lumaai``, pinned in the dev extra) says the API does: a create
on ``POST /generations/video`` is checked against the SDK's ``GenerationCreateParams`` (unknown
keys, a model, ratio or duration outside its literals answer 400), and every generation it
answers is a valid ``Generation`` (``state`` queued / dreaming / completed / failed,
``failure_reason``, ``assets.video`` once completed). ``DELETE /generations/{id}`` removes a
generation, as the SDK documents; like the real one it promises nothing about stopping work
already under way. A modify on ``POST /generations/video/modify`` is checked against the SDK's
``VideoModifyParams`` and, as Luma does, the fake fetches the video at ``media.url`` itself
(through ``fetch``, no credentials): a link that does not answer 200 with a video makes the
generation fail, saying the media could not be downloaded. The video is served from a separate CDN host that answers 401 to any
request carrying an Authorization header. It can be told to refuse at create (400) or later,
fail, throttle with Retry-After, burst 5xx, time out, send malformed JSON, lose a create's
answer, let the video URL expire, reject the key, or never finish.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
from lumaai.types.generation import Generation as SdkGeneration
from lumaai.types.generation_create_params import GenerationCreateParams
from lumaai.types.generations.video_modify_params import VideoModifyParams

from . import sdk
from .harness import ScriptedProvider

KEY = "luma-fake_secret_key_0123456789abcdef"
API = "api.lumalabs.ai"
PREFIX = "/dream-machine/v1"
CDN = "storage.cdn-luma.com"


@dataclass
class Generation:
    id: str
    body: dict[str, object]
    polls: int = 0
    deleted: bool = False
    media_failure: str | None = None


@dataclass
class FakeLuma(ScriptedProvider):
    """Scripted Luma. The first ``queued`` polls answer ``queued``, the next ``dreaming``
    answer ``dreaming``, then ``completed`` unless told otherwise."""

    queued: int = 1
    dreaming: int = 3
    refuse_at_create: bool = False
    generations: dict[str, Generation] = field(default_factory=dict)
    fetch: Callable[[str], httpx.Response] | None = None
    """How the fake, as Luma, GETs a modify's ``media.url`` (tests route it to our server);
    None answers every fetch 404, as an address the internet cannot reach would fail."""
    fetched: list[tuple[str, int, bytes]] = field(default_factory=list)
    """Every media fetch: the URL, the status answered and the bytes."""

    def handle(self, request: httpx.Request) -> httpx.Response:
        response = self._handle(request)
        if response.status_code in (200, 201) and request.url.host == API:
            try:
                answer = json.loads(response.content)
            except ValueError:
                return response  # the scripted malformed reply
            issues = sdk.reply_issues(SdkGeneration, answer)
            assert not issues, f"the fake answered what Luma's SDK would not read: {issues}"
        return response

    def _handle(self, request: httpx.Request) -> httpx.Response:
        if request.url.host == CDN:
            return self._cdn(request)
        path = request.url.path
        self.requests.append(f"{request.method} {path}")
        self.auth_headers.append(request.headers.get("authorization", ""))
        if request.headers.get("authorization") != f"Bearer {KEY}" or self.wrong_key:
            return _detail(401, "Invalid API key")
        if self.timeouts > 0:
            self.timeouts -= 1
            # A POST hangs before it reaches the provider (so retrying it is safe); other
            # requests hang waiting for the answer.
            hang = httpx.ConnectTimeout if request.method == "POST" else httpx.ReadTimeout
            raise hang("timed out", request=request)
        if self.throttle_first > 0:
            self.throttle_first -= 1
            return _detail(429, "Too many requests", {"retry-after": self.retry_after})
        if self.server_errors > 0:
            self.server_errors -= 1
            return _detail(503, "Service temporarily unavailable")
        if self.malformed > 0:
            self.malformed -= 1
            return httpx.Response(
                200, content=b"{not json", headers={"content-type": "application/json"}
            )
        if not path.startswith(PREFIX + "/"):
            return _detail(404, "Not Found")
        parts = path[len(PREFIX) :].strip("/").split("/")
        if request.method == "POST" and parts == ["generations", "video"]:
            return self._create(request)
        if request.method == "POST" and parts == ["generations", "video", "modify"]:
            return self._create(request, VideoModifyParams)
        if len(parts) == 2 and parts[0] == "generations":
            generation = self.generations.get(parts[1])
            if generation is None or generation.deleted:
                return _detail(404, "Generation not found")
            if request.method == "DELETE":
                generation.deleted = True
                return httpx.Response(204)
            if request.method == "GET":
                return self._get(generation)
        return _detail(405, "Method Not Allowed")

    def _create(
        self, request: httpx.Request, schema: object = GenerationCreateParams
    ) -> httpx.Response:
        body = json.loads(request.content)
        issues = sdk.body_issues(schema, body)
        if issues:
            return _detail(400, "; ".join(issues))
        if self.refuse_at_create:
            return _detail(400, "Prompt not allowed because it failed content moderation")
        number = len(self.generations) + 1
        generation = Generation(f"0f3e{number:04d}-aaaa-bbbb-cccc-000000000000", body)
        media = body.get("media")
        if isinstance(media, dict):
            generation.media_failure = self._fetch_media(str(media["url"]))
        self.generations[generation.id] = generation
        self.answer_lost(request)
        return httpx.Response(201, json=self._view(generation, "queued"))

    def _get(self, g: Generation) -> httpx.Response:
        g.polls += 1
        if g.polls <= self.queued:
            return httpx.Response(200, json=self._view(g, "queued"))
        if g.polls <= self.queued + self.dreaming or self.never_finish:
            return httpx.Response(200, json=self._view(g, "dreaming"))
        if g.media_failure is not None:
            view = self._view(g, "failed")
            view["failure_reason"] = g.media_failure
            return httpx.Response(200, json=view)
        if self.refuse_later:
            view = self._view(g, "failed")
            view["failure_reason"] = "Output blocked by our content moderation system"
            return httpx.Response(200, json=view)
        if self.fail_later:
            view = self._view(g, "failed")
            view["failure_reason"] = "Internal error while rendering the video"
            return httpx.Response(200, json=view)
        view = self._view(g, "completed")
        view["assets"] = {
            "video": f"https://{CDN}/dream_machine/{g.id}/video_0.mp4?sig=abc",
            "image": f"https://{CDN}/dream_machine/{g.id}/thumb.jpg",
            "progress_video": None,
        }
        return httpx.Response(200, json=view)

    @staticmethod
    def _view(g: Generation, state: str) -> dict[str, object]:
        return {
            "id": g.id,
            "generation_type": "video",
            "state": state,
            "failure_reason": None,
            "created_at": "2025-06-01T12:00:00.000Z",
            "assets": None,
            "model": g.body.get("model"),
            "request": {"generation_type": "video", **g.body},
        }

    def _fetch_media(self, url: str) -> str | None:
        """Fetches a modify's video as Luma would; the failure reason, or None when it got
        a video (an MP4's ``ftyp`` box, or WebM's EBML header)."""
        response = httpx.Response(404) if self.fetch is None else self.fetch(url)
        data = response.content if response.status_code == 200 else b""
        self.fetched.append((url, response.status_code, data))
        if response.status_code != 200:
            return f"Failed to download media from the provided URL (HTTP {response.status_code})"
        if data[4:8] != b"ftyp" and not data.startswith(b"\x1a\x45\xdf\xa3"):
            return "The provided media is not a supported video"
        return None

    def _cdn(self, request: httpx.Request) -> httpx.Response:
        return self.serve_cdn(
            request, expired=httpx.Response(403, text="<Error><Code>AccessDenied</Code></Error>")
        )


def _detail(status: int, detail: str, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json={"detail": detail}, headers=headers)
