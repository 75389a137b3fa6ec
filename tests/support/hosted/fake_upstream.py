"""A fake ``/v1/videos`` upstream for tests: an httpx transport with scripted behaviour.

It answers as OpenAI's SDK (``openai``) says the video API does: a create is
``multipart/form-data`` (a JSON create is refused, as vLLM-Omni refuses it), its fields parsed
from the form and a reference image from the file part ``input_reference``; every video it
answers carries the fields the SDK's ``Video`` requires, with a status from its literal;
retrieve adds ``openai-poll-after-ms``; content and OpenReel's ``POST /videos/{id}/cancel``
(``cancel_route=False`` makes a server without it: 404). ``listing`` adds ``GET /videos``,
paged by ``limit`` and ``after`` in the ``order`` asked for, oldest first when none is asked
(a server's default is its own). It can be told to misbehave: refuse at create or later,
answer 429 with Retry-After, burst 5xx, time out (a POST at connect, before it arrives;
anything else waiting for the answer), make a video and never answer its create, send
malformed JSON, lose the download, or reject the key.
"""

from __future__ import annotations

import email.parser
import email.policy
from dataclasses import dataclass, field

import httpx
from openai.types.video import Video

from . import sdk
from .harness import ScriptedProvider

STATUSES = sdk.model_literal(Video, "status")
REQUIRED = frozenset(
    (info.alias or name) for name, info in Video.model_fields.items() if info.is_required()
)

KEY = "up_fake_secret_key_0123456789"


@dataclass
class Job:
    id: str
    body: dict[str, object]
    polls: int = 0
    cancelled: bool = False


@dataclass
class FakeUpstream(ScriptedProvider):
    """Scripted upstream. ``progress`` lists the percentages reported poll after poll; the
    job completes on the poll after the last one. There is no CDN: the upstream serves the
    file itself, at ``/content``, to the key."""

    progress: list[int] = field(default_factory=lambda: [0, 40, 80])
    refuse_at_create: bool = False
    poll_after_ms: int = 1000
    listing: bool = False
    cancel_route: bool = True
    jobs: dict[str, Job] = field(default_factory=dict)
    files: dict[str, dict[str, tuple[str, str, bytes]]] = field(default_factory=dict)

    def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        self.requests.append(f"{request.method} {path}")
        self.auth_headers.append(request.headers.get("authorization", ""))
        if request.headers.get("authorization") != f"Bearer {KEY}" or self.wrong_key:
            return _error(401, "invalid api key", "invalid_api_key")
        if self.timeouts > 0:
            self.timeouts -= 1
            # A POST hangs before it reaches the provider (so retrying it is safe); other
            # requests hang waiting for the answer.
            hang = httpx.ConnectTimeout if request.method == "POST" else httpx.ReadTimeout
            raise hang("timed out", request=request)
        if self.throttle_first > 0:
            self.throttle_first -= 1
            return _error(
                429, "slow down", "rate_limit_exceeded", {"retry-after": self.retry_after}
            )
        if self.server_errors > 0:
            self.server_errors -= 1
            return _error(502, "bad gateway", "server_error")
        if self.malformed > 0:
            self.malformed -= 1
            return httpx.Response(
                200, content=b"{not json", headers={"content-type": "application/json"}
            )
        if request.method == "POST" and path == "/v1/videos":
            form = _form(request)
            if form is None:
                return _error(400, "Expected multipart/form-data", "invalid_request_error")
            body, files = form
            if self.refuse_at_create:
                return _error(
                    400, "Your request was blocked by our moderation system.", "moderation_blocked"
                )
            job = Job(f"video_{len(self.jobs) + 1}", body)
            self.jobs[job.id] = job
            self.files[job.id] = files
            self.answer_lost(request)
            return httpx.Response(200, json=self._video(job, "queued", 0))
        if request.method == "GET" and path == "/v1/videos" and self.listing:
            return self._list(request)
        parts = path.split("/")
        job = self.jobs.get(parts[3]) if len(parts) > 3 else None
        if job is None:
            return _error(404, "no such video", "not_found")
        if request.method == "POST" and path.endswith("/cancel") and self.cancel_route:
            job.cancelled = True
            return httpx.Response(200, json=self._video(job, "failed", 0))
        if request.method == "GET" and path.endswith("/content"):
            if self.url_expired:
                return _error(404, "expired", "not_found")
            return httpx.Response(200, content=self.video, headers={"content-type": "video/mp4"})
        if request.method == "GET":
            return httpx.Response(
                200,
                json=self._poll(job),
                headers={"openai-poll-after-ms": str(self.poll_after_ms)},
            )
        return _error(405, "method not allowed", "http_error")

    def _list(self, request: httpx.Request) -> httpx.Response:
        """``GET /v1/videos``: newest first, paged by ``limit`` and ``after``; each listed
        video counts as polled once."""
        limit = int(request.url.params.get("limit", "20"))
        newest_first = request.url.params.get("order", "asc") == "desc"
        ids = list(reversed(self.jobs)) if newest_first else list(self.jobs)
        after = request.url.params.get("after")
        if after in self.jobs:
            ids = ids[ids.index(after) + 1 :]
        page = [self._poll(self.jobs[i]) for i in ids[:limit]]
        return httpx.Response(
            200, json={"object": "list", "data": page, "has_more": len(ids) > limit}
        )

    def _poll(self, job: Job) -> dict[str, object]:
        job.polls += 1
        if job.polls <= len(self.progress) or self.never_finish:
            pct = self.progress[min(job.polls, len(self.progress)) - 1]
            return self._video(job, "in_progress", pct)
        if self.refuse_later:
            video = self._video(job, "failed", 100)
            video["error"] = {"code": "moderation_blocked", "message": "looks like a real person"}
            return video
        if self.fail_later:
            video = self._video(job, "failed", 100)
            video["error"] = {"code": "internal_error", "message": "GPU fell over"}
            return video
        return self._video(job, "completed", 100)

    @staticmethod
    def _video(job: Job, status: str, progress: int) -> dict[str, object]:
        video = {
            "id": job.id,
            "object": "video",
            "status": status,
            "progress": progress,
            "created_at": 1_796_000_000 + int(job.id.rpartition("_")[2]),
            **job.body,
        }
        missing = REQUIRED - video.keys()
        assert not missing, f"not a Video of OpenAI's SDK: {missing} missing"
        assert status in STATUSES, f"not a Video of OpenAI's SDK: status {status!r}"
        return video


def _form(
    request: httpx.Request,
) -> tuple[dict[str, str], dict[str, tuple[str, str, bytes]]] | None:
    """A multipart create's fields and files (``{name: (filename, type, bytes)}``); None when
    the create is not multipart."""
    kind = request.headers.get("content-type", "")
    if not kind.startswith("multipart/form-data"):
        return None
    head = f"Content-Type: {kind}\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + request.content)
    fields: dict[str, str] = {}
    files: dict[str, tuple[str, str, bytes]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        data = part.get_payload(decode=True) or b""
        filename = part.get_filename()
        if filename is None:
            fields[str(name)] = data.decode()
        else:
            files[str(name)] = (filename, part.get_content_type(), data)
    return fields, files


def _error(
    status: int, message: str, code: str, headers: dict[str, str] | None = None
) -> httpx.Response:
    body = {
        "error": {"message": message, "type": "invalid_request_error", "param": None, "code": code}
    }
    return httpx.Response(status, json=body, headers=headers)
