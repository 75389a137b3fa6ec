"""A fake Runway developer API for tests: an httpx transport with scripted behaviour.

It implements the wire format of Runway's developer API that the Runway client speaks:
``POST /v1/text_to_video`` (and ``/v1/image_to_video``, with ``promptImage``) with a camelCase
body checked field by field, ``GET /v1/tasks/{id}`` going PENDING / THROTTLED / RUNNING
(progress 0-1) / SUCCEEDED with an output URL on a separate CDN host,
``DELETE /v1/tasks/{id}``, and the required ``X-Runway-Version`` header (400 without it). The CDN serves
a small MP4 and answers 401 to any request that carries an ``Authorization`` header, so a
client leaking its key there fails loudly.

It can be told to misbehave: refuse on safety grounds (``SAFETY.INPUT.TEXT``), fail otherwise,
throttle, answer 429 with Retry-After, burst 5xx, time out, send malformed JSON, lose a
create's answer, let the output URL expire, reject the key, or never finish.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import httpx

from .harness import ScriptedProvider

KEY = "key_runway_fake_secret_0123456789abcdef"
API_HOST = "api.runway.test"
CDN_HOST = "cdn.runway.test"
VERSION = "2024-11-06"

RATIOS: dict[str, tuple[str, ...]] = {
    "gen4.5": ("1280:720", "720:1280"),
    "veo3.1": ("1280:720", "720:1280", "1080:1920", "1920:1080"),
    "veo3.1_fast": ("1280:720", "720:1280", "1080:1920", "1920:1080"),
    "kling2.5_turbo_pro": ("1280:720", "720:1280", "960:960"),
    "seedance2": ("1280:720", "720:1280", "960:960", "1104:832", "832:1104", "1584:672"),
    "wan3": ("1280:720", "720:1280", "960:960", "1104:832", "832:1104"),
    "gen4_turbo": ("1280:720", "720:1280", "1104:832", "832:1104", "960:960", "1584:672"),
}
DURATIONS: dict[str, tuple[int, ...]] = {
    "gen4.5": tuple(range(2, 11)),
    "veo3.1": (4, 6, 8),
    "veo3.1_fast": (4, 6, 8),
    "kling2.5_turbo_pro": (5, 10),
    "seedance2": tuple(range(4, 16)),
    "wan3": (2, 5, 10, 15, 20, 25, 30),
    "gen4_turbo": (5, 10),
}
IMAGE_ONLY = frozenset({"gen4_turbo"})
ALLOWED_KEYS = frozenset(
    {"model", "promptText", "ratio", "duration", "seed", "negativePrompt", "audio"}
)
IMAGE_KEYS = ALLOWED_KEYS | {"promptImage"}


@dataclass
class Task:
    id: str
    body: dict[str, object]
    polls: int = 0
    cancelled: bool = False


@dataclass
class FakeRunway(ScriptedProvider):
    """Scripted Runway. A task is PENDING for ``pending_polls`` polls, then THROTTLED for
    ``throttled_polls``, then RUNNING through ``progress`` (floats 0-1), then finishes on the
    next poll (SUCCEEDED, or FAILED when ``refuse_later`` or ``fail_later`` is set). Its 429
    carries Retry-After."""

    progress: list[float] = field(default_factory=lambda: [0.0, 0.4, 0.8])
    pending_polls: int = 0
    throttled_polls: int = 0
    tasks: dict[str, Task] = field(default_factory=dict)
    headers: list[dict[str, str]] = field(default_factory=list)

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.url.host == CDN_HOST:
            return self._cdn(request)
        path = request.url.path
        self.requests.append(f"{request.method} {path}")
        self.headers.append(dict(request.headers))
        self.auth_headers.append(request.headers.get("authorization", ""))
        if request.url.host != API_HOST:
            return _error(404, f"unknown host {request.url.host}")
        if request.headers.get("authorization") != f"Bearer {KEY}" or self.wrong_key:
            return _error(401, "Invalid API key")
        if request.headers.get("x-runway-version") != VERSION:
            return _error(400, "You must provide a valid X-Runway-Version header")
        if self.timeouts > 0:
            self.timeouts -= 1
            # A POST hangs before it reaches the provider (so retrying it is safe); other
            # requests hang waiting for the answer.
            hang = httpx.ConnectTimeout if request.method == "POST" else httpx.ReadTimeout
            raise hang("timed out", request=request)
        if self.throttle_first > 0:
            self.throttle_first -= 1
            return _error(
                429, "You have exceeded the rate limit", {"retry-after": self.retry_after}
            )
        if self.server_errors > 0:
            self.server_errors -= 1
            return _error((502, 503, 504)[self.server_errors % 3], "upstream unavailable")
        if self.malformed > 0:
            self.malformed -= 1
            return httpx.Response(
                200, content=b"{not json", headers={"content-type": "application/json"}
            )
        if request.method == "POST" and path in ("/v1/text_to_video", "/v1/image_to_video"):
            return self._create(request, image=path == "/v1/image_to_video")
        parts = path.split("/")
        if len(parts) != 4 or parts[:3] != ["", "v1", "tasks"]:
            return _error(404, "Not found")
        task = self.tasks.get(parts[3])
        if task is None:
            return _error(404, "Task not found")
        if request.method == "DELETE":
            task.cancelled = True
            return httpx.Response(204)
        if request.method == "GET":
            return httpx.Response(200, json=self._poll(task))
        return _error(405, "Method not allowed")

    # ----- the API ---------------------------------------------------------------------

    def _create(self, request: httpx.Request, *, image: bool) -> httpx.Response:
        try:
            body = json.loads(request.content)
        except ValueError:
            return _error(400, "Body is not JSON")
        if not isinstance(body, dict):
            return _error(400, "Body must be an object")
        issues: list[dict[str, object]] = []
        for key in body:
            if key not in (IMAGE_KEYS if image else ALLOWED_KEYS):
                issues.append({"path": [key], "message": "Unrecognized key"})
        uri = body.get("promptImage")
        if image and not (isinstance(uri, str) and uri.startswith(("https://", "data:image/"))):
            issues.append({"path": ["promptImage"], "message": "Required"})
        model = body.get("model")
        prompt = body.get("promptText")
        if model not in RATIOS or (model in IMAGE_ONLY and not image):
            issues.append({"path": ["model"], "message": "Invalid model"})
        if not isinstance(prompt, str) or not prompt.strip():
            issues.append({"path": ["promptText"], "message": "Required"})
        if isinstance(model, str) and model in RATIOS:
            if body.get("ratio") not in RATIOS[model]:
                issues.append({"path": ["ratio"], "message": "Invalid enum value"})
            duration = body.get("duration")
            if isinstance(duration, bool) or duration not in DURATIONS[model]:
                issues.append({"path": ["duration"], "message": "Invalid duration"})
        seed = body.get("seed")
        if "seed" in body and (
            isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 1 << 32
        ):
            issues.append({"path": ["seed"], "message": "Invalid seed"})
        if issues:
            return httpx.Response(
                400, json={"error": "Validation of body failed", "issues": issues}
            )
        task = Task(f"task-{len(self.tasks) + 1:04d}", body)
        self.tasks[task.id] = task
        self.answer_lost(request)
        return httpx.Response(200, json={"id": task.id})

    def _poll(self, task: Task) -> dict[str, object]:
        base: dict[str, object] = {"id": task.id, "createdAt": "2026-01-01T00:00:00.000Z"}
        if task.cancelled:
            return base | {"status": "CANCELLED"}
        task.polls += 1
        step = task.polls
        if step <= self.pending_polls:
            return base | {"status": "PENDING"}
        step -= self.pending_polls
        if step <= self.throttled_polls:
            return base | {"status": "THROTTLED"}
        step -= self.throttled_polls
        if step <= len(self.progress) or self.never_finish:
            value = self.progress[min(step, len(self.progress)) - 1]
            return base | {"status": "RUNNING", "progress": value}
        if self.refuse_later:
            return base | {
                "status": "FAILED",
                "failure": "Your prompt may violate our content policy: real person",
                "failureCode": "SAFETY.INPUT.TEXT",
            }
        if self.fail_later:
            return base | {
                "status": "FAILED",
                "failure": "An unexpected error occurred while generating",
                "failureCode": "INTERNAL",
            }
        return base | {"status": "SUCCEEDED", "output": [f"https://{CDN_HOST}/{task.id}.mp4"]}

    # ----- the CDN ---------------------------------------------------------------------

    def _cdn(self, request: httpx.Request) -> httpx.Response:
        return self.serve_cdn(
            request,
            expired=httpx.Response(404, text="NoSuchKey"),
            credentials_refused="credentials are not accepted here",
        )


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json={"error": message}, headers=headers)
