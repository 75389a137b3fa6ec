"""A fake Runway developer API for tests: an httpx transport with scripted behaviour.

It answers as Runway's own SDK (``runwayml``, pinned in the dev extra) says the API does: a
create on ``POST /v1/text_to_video``, ``/v1/image_to_video`` or ``/v1/video_to_video`` is
checked against the SDK's ``TextToVideoCreateParams`` / ``ImageToVideoCreateParams`` /
``VideoToVideoCreateParams`` for its model (unknown keys, a model the endpoint does not list,
a ratio or duration outside the model's schema, a ``videoUri`` that is no HTTPS URL, Runway
upload or data URI, or a data URI over the SDK's 5 MB, all answer 400 with ``issues``, as
Runway does), and every task it answers is a valid ``TaskRetrieveResponse``
(PENDING / THROTTLED / RUNNING with progress 0-1 / SUCCEEDED with an output URL on a separate
CDN host / FAILED / CANCELLED, each with the fields the SDK requires). ``DELETE /v1/tasks/{id}``
cancels, and the ``X-Runway-Version`` header is required (400 without it). The CDN serves a
small MP4 and answers 401 to any request that carries an ``Authorization`` header, so a client
leaking its key there fails loudly.

It can be told to misbehave: refuse on safety grounds (``SAFETY.INPUT.TEXT``), fail otherwise,
throttle, answer 429 with Retry-After, answer 409 (which Runway's SDK retries), burst 5xx, time
out, send malformed JSON, lose a create's answer, let the output URL expire, reject the key, or
never finish.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import httpx
from runwayml.types.image_to_video_create_params import ImageToVideoCreateParams
from runwayml.types.task_retrieve_response import TaskRetrieveResponse
from runwayml.types.text_to_video_create_params import TextToVideoCreateParams
from runwayml.types.video_to_video_create_params import VideoToVideoCreateParams

from . import sdk
from .harness import ScriptedProvider

KEY = "key_runway_fake_secret_0123456789abcdef"
API_HOST = "api.runway.test"
CDN_HOST = "cdn.runway.test"
VERSION = "2024-11-06"

SCHEMAS: dict[str, Any] = {
    "/v1/text_to_video": TextToVideoCreateParams,
    "/v1/image_to_video": ImageToVideoCreateParams,
    "/v1/video_to_video": VideoToVideoCreateParams,
}
"""The SDK's parameter types of each create endpoint (a union of one typed dict per model)."""


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
    conflicts: int = 0
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
        if self.conflicts > 0:
            self.conflicts -= 1
            return _error(409, "Conflict: the resource is being changed; try again")
        if self.server_errors > 0:
            self.server_errors -= 1
            return _error((502, 503, 504)[self.server_errors % 3], "upstream unavailable")
        if self.malformed > 0:
            self.malformed -= 1
            return httpx.Response(
                200, content=b"{not json", headers={"content-type": "application/json"}
            )
        if request.method == "POST" and path in SCHEMAS:
            return self._create(request, SCHEMAS[path])
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

    def _create(self, request: httpx.Request, schema: Any) -> httpx.Response:
        try:
            body = json.loads(request.content)
        except ValueError:
            return _error(400, "Body is not JSON")
        if not isinstance(body, dict):
            return _error(400, "Body must be an object")
        issues = [
            {"path": [text.partition(":")[0]], "message": text.partition(": ")[2]}
            for text in sdk.body_issues(schema, body, discriminator="model")
        ]
        video = body.get("videoUri")
        # The SDK: "A HTTPS URL, Runway upload URI, or base64 data URI ... up to 5MB".
        if isinstance(video, str) and not video.startswith(("https://", "runway://", "data:")):
            issues.append({"path": ["videoUri"], "message": "must be an HTTPS URL or data URI"})
        if isinstance(video, str) and video.startswith("data:") and len(video) > 5 * 2**20:
            issues.append({"path": ["videoUri"], "message": "data URI is over 5MB"})
        if issues:
            return httpx.Response(
                400, json={"error": "Validation of body failed", "issues": issues}
            )
        task = Task(f"task-{len(self.tasks) + 1:04d}", body)
        self.tasks[task.id] = task
        self.answer_lost(request)
        return httpx.Response(200, json={"id": task.id})

    def _poll(self, task: Task) -> dict[str, object]:
        """The task as Runway answers it; checked against the SDK's ``TaskRetrieveResponse``."""
        answer = self._state(task)
        issues = sdk.reply_issues(TaskRetrieveResponse, answer, discriminator="status")
        assert not issues, f"the fake answered what Runway's SDK would not read: {issues}"
        return answer

    def _state(self, task: Task) -> dict[str, object]:
        base: dict[str, object] = {"id": task.id, "createdAt": "2026-01-01T00:00:00.000Z"}
        estimate = {"estimatedCost": {"credits": 50.0}}
        if task.cancelled:
            return base | {"status": "CANCELLED", "cost": {"credits": 0}}
        task.polls += 1
        step = task.polls
        if step <= self.pending_polls:
            return base | estimate | {"status": "PENDING"}
        step -= self.pending_polls
        if step <= self.throttled_polls:
            return base | estimate | {"status": "THROTTLED"}
        step -= self.throttled_polls
        if step <= len(self.progress) or self.never_finish:
            value = self.progress[min(step, len(self.progress)) - 1]
            return base | estimate | {"status": "RUNNING", "progress": value}
        if self.refuse_later:
            return base | {
                "status": "FAILED",
                "cost": {"credits": 0},
                "failure": "Your prompt may violate our content policy: real person",
                "failureCode": "SAFETY.INPUT.TEXT",
            }
        if self.fail_later:
            return base | {
                "status": "FAILED",
                "cost": {"credits": 0},
                "failure": "An unexpected error occurred while generating",
                "failureCode": "INTERNAL",
            }
        return base | {
            "status": "SUCCEEDED",
            "cost": {"credits": 50},
            "output": [f"https://{CDN_HOST}/{task.id}.mp4"],
        }

    # ----- the CDN ---------------------------------------------------------------------

    def _cdn(self, request: httpx.Request) -> httpx.Response:
        return self.serve_cdn(
            request,
            expired=httpx.Response(404, text="NoSuchKey"),
            credentials_refused="credentials are not accepted here",
        )


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json={"error": message}, headers=headers)
