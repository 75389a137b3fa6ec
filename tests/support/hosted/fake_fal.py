"""A fake fal queue (and fal CDN) for tests: an httpx transport with scripted behaviour.

It answers as fal's own client (``fal_client``, pinned in the dev extra) reads the queue: submit
answering request_id and the status/response/cancel URLs under the app's ``owner/alias`` root,
statuses fal_client's parser takes (IN_QUEUE with ``queue_position``, IN_PROGRESS and COMPLETED
with ``logs``; every status answer is parsed by it), a result with ``video.url``, PUT cancel.
Its 5xx are the ones fal_client tells apart: ``server_errors`` are its ingress's (nginx pages
without ``x-fal-request-id``, which fal_client retries), ``app_errors`` come from fal's own
servers (with ``x-fal-request-id``; never retried), ``request_timeouts`` are 504s with
``X-Fal-Request-Timeout-Type`` (never retried). The video is served from a separate CDN host
that answers 401 to any request carrying an Authorization header. It can also be told to
refuse (at submit or on completion), fail, throttle with Retry-After, time out, send malformed
JSON, lose a submit's answer, let the result URL expire, reject the key, or never finish.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import fal_client
import httpx

from .harness import ScriptedProvider

_INGRESS_PAGE = (
    "<html><head><title>{0}</title></head><body><center><h1>{0}</h1></center>"
    "<hr><center>nginx</center></body></html>"
)

KEY = "fal_fake_secret_key_0123456789abcdef"
QUEUE = "queue.fal.run"
CDN = "v3.fal.media"


@dataclass
class Job:
    id: str
    app: str
    body: dict[str, object]
    polls: int = 0
    cancelled: bool = False


@dataclass
class FakeFal(ScriptedProvider):
    """Scripted fal. The first poll answers IN_QUEUE, the next ``running_polls`` IN_PROGRESS;
    then COMPLETED (unless ``never_finish``)."""

    running_polls: int = 2
    refuse_at_create: bool = False
    app_errors: int = 0
    request_timeouts: int = 0
    jobs: dict[str, Job] = field(default_factory=dict)

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.url.host == CDN:
            return self._cdn(request)
        path = request.url.path
        self.requests.append(f"{request.method} {path}")
        self.auth_headers.append(request.headers.get("authorization", ""))
        if request.headers.get("authorization") != f"Key {KEY}" or self.wrong_key:
            return httpx.Response(401, json={"detail": "Invalid API key"})
        if self.timeouts > 0:
            self.timeouts -= 1
            # A POST hangs before it reaches the provider (so retrying it is safe); other
            # requests hang waiting for the answer.
            hang = httpx.ConnectTimeout if request.method == "POST" else httpx.ReadTimeout
            raise hang("timed out", request=request)
        if self.throttle_first > 0:
            self.throttle_first -= 1
            return httpx.Response(
                429, json={"detail": "rate limited"}, headers={"retry-after": self.retry_after}
            )
        if self.server_errors > 0:  # fal's ingress: retried by fal_client
            self.server_errors -= 1
            page = _INGRESS_PAGE.format("503 Service Temporarily Unavailable")
            return httpx.Response(503, text=page, headers={"content-type": "text/html"})
        if self.app_errors > 0:  # fal's own servers answered: not retried
            self.app_errors -= 1
            return httpx.Response(
                503, json={"detail": "runner unavailable"}, headers={"x-fal-request-id": "r"}
            )
        if self.request_timeouts > 0:  # the request's own timeout: not retried
            self.request_timeouts -= 1
            return httpx.Response(
                504,
                json={"detail": "Request timed out"},
                headers={"x-fal-request-timeout-type": "user"},
            )
        if self.malformed > 0:
            self.malformed -= 1
            return httpx.Response(
                200, content=b"{not json", headers={"content-type": "application/json"}
            )
        if request.method == "POST":
            return self._submit(request, path.strip("/"))
        parts = path.strip("/").split("/")
        if len(parts) < 4 or parts[2] != "requests" or parts[3] not in self.jobs:
            return httpx.Response(404, json={"detail": "Request not found"})
        job = self.jobs[parts[3]]
        tail = parts[4:]
        if request.method == "PUT" and tail == ["cancel"]:
            job.cancelled = True
            return httpx.Response(202, json={"status": "CANCELLATION_REQUESTED"})
        if request.method == "GET" and tail == ["status"]:
            answer = self._status(job)
            handle = fal_client.SyncRequestHandle(job.id, "r", "s", "c", client=None)  # type: ignore[arg-type]
            handle._parse_status(json.loads(answer.content))  # fal_client must read it
            return answer
        if request.method == "GET" and not tail:
            return self._result(job)
        return httpx.Response(405, json={"detail": "Method not allowed"})

    def _submit(self, request: httpx.Request, app: str) -> httpx.Response:
        body = json.loads(request.content)
        if self.refuse_at_create:
            detail = [
                {
                    "loc": ["body", "prompt"],
                    "msg": "The prompt was flagged as violating the content policy.",
                    "type": "content_policy_violation",
                }
            ]
            return httpx.Response(422, json={"detail": detail})
        job = Job(f"req-{len(self.jobs) + 1}", app, body)
        self.jobs[job.id] = job
        self.answer_lost(request)
        root = f"https://{QUEUE}/{'/'.join(app.split('/')[:2])}/requests/{job.id}"
        return httpx.Response(
            200,
            json={
                "request_id": job.id,
                "status_url": f"{root}/status",
                "response_url": root,
                "cancel_url": f"{root}/cancel",
                "queue_position": 0,
            },
        )

    def _status(self, job: Job) -> httpx.Response:
        job.polls += 1
        if job.cancelled:
            return httpx.Response(
                200, json={"status": "COMPLETED", "logs": [], "error": "cancelled"}
            )
        if job.polls == 1:
            return httpx.Response(200, json={"status": "IN_QUEUE", "queue_position": 2})
        if job.polls <= 1 + self.running_polls or self.never_finish:
            logs = [{"message": f"step {job.polls}", "level": "INFO"}]
            return httpx.Response(200, json={"status": "IN_PROGRESS", "logs": logs})
        done: dict[str, object] = {"status": "COMPLETED", "logs": []}
        if self.refuse_later:
            done["error"] = "The generated video was flagged by the safety checker as NSFW."
            done["error_type"] = "content_policy_violation"
        if self.fail_later:
            done["error"] = "CUDA out of memory on the worker"
            done["error_type"] = "runner_error"
        return httpx.Response(200, json=done)

    def _result(self, job: Job) -> httpx.Response:
        if self.fail_later:
            return httpx.Response(500, json={"detail": "CUDA out of memory on the worker"})
        video = {
            "url": f"https://{CDN}/files/{job.id}/output.mp4?sig=abc",
            "content_type": "video/mp4",
            "file_size": len(self.video),
        }
        return httpx.Response(200, json={"video": video, "seed": job.body.get("seed")})

    def _cdn(self, request: httpx.Request) -> httpx.Response:
        return self.serve_cdn(
            request,
            expired=httpx.Response(403, text="<Error><Code>AccessDenied</Code>Request has expired"),
        )
