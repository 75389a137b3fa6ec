"""Fakes of the GPU servers' ``/v1/videos`` variants, each written from that server's own source.

- :class:`FakeVllmOmni` follows vllm-project/vllm-omni:
  ``vllm_omni/entrypoints/openai/api_server.py`` (``create_video``: ``Form`` fields only, the
  ``input_reference`` file; ``list_videos`` with ``after``/``limit``/``order`` and
  ``first_id``/``last_id``/``has_more``; ``delete_video``: a queued or running job's task is
  cancelled and the record removed, ``{id, deleted: true, object: "video.deleted"}``;
  ``download_video``: 404 "Video not found", 422 for a failed job, 404 "Generation is still
  in-progress") and ``vllm_omni/entrypoints/openai/protocol/videos.py`` (``VideoResponse``:
  ``video_gen_<32 hex>`` ids, ``progress`` 0 until completed, ``error {code, message}`` with
  the exception's class name as the code). A failed job's retrieve answers HTTP 500 with the
  job as its body, as vLLM-Omni's docs (``docs/serving/videos_api.md``) describe; errors are
  vLLM's ``{"error": {message, type, param, code}}`` and a wrong key 401 ``{"error":
  "Unauthorized"}`` (vllm ``vllm/entrypoints/openai/server_utils.py``).
- :class:`FakeSGLang` follows sgl-project/sglang,
  ``python/sglang/multimodal_gen/runtime/entrypoints/openai/video_api.py``: a multipart create
  without the ``input_reference`` file is 400 "input_reference file is required" and reads
  only ``prompt``, ``model``, ``seconds``, ``size``, ``fps``, ``num_frames`` and
  ``extra_body`` (fps and num_frames); a JSON create takes every field, ``input_reference``
  being a path on the server; jobs go ``queued`` to ``completed``/``failed``; ``DELETE`` pops
  the record and answers it with ``status: "deleted"`` while the work goes on; content is 404
  "Generation is still in-progress" until the file exists; errors are ``{"detail"}``; no
  authentication; a multipart ``seconds`` that is not an integer is FastAPI's 422.
- :class:`FakeFastVideo` follows hao-ai-lab/FastVideo @2f3d4074,
  ``fastvideo/entrypoints/openai/video_api.py`` and ``protocol.py``: as SGLang's, but a
  multipart create needs no image and reads ``seed`` (1024 when absent), and content is 404
  "Video still being generated" or 500 "Video generation failed". It records how many jobs ran
  at once (FastVideo runs each in its own thread, unqueued).

Each is an httpx transport (:meth:`transport`); :func:`serve` puts one on loopback for the
benchmark. A job runs for ``runs_polls`` retrieves (or listings that show it), then ends as the switches
say.
"""

from __future__ import annotations

import contextlib
import email.parser
import email.policy
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
from tests.support.hosted.harness import ScriptedProvider

KEY = "vllm_fake_key_0123456789"

FAILURE = "CUDA out of memory. Tried to allocate 2.00 GiB"


@dataclass
class GpuJob:
    """One job as the server keeps it."""

    id: str
    fields: dict[str, Any]
    files: dict[str, tuple[str, str, bytes]]
    status: str = "queued"
    polls: int = 0
    deleted: bool = False
    aborted: bool = False


@dataclass
class _GpuServer(ScriptedProvider):
    """What the three servers share: the scripted switches, a job store and the file."""

    runs_polls: int = 2
    api_key: str | None = None
    jobs: dict[str, GpuJob] = field(default_factory=dict)
    history: list[GpuJob] = field(default_factory=list)
    running: int = 0
    most_running: int = 0
    handle_seconds: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(self, request: httpx.Request) -> httpx.Response:
        started = time.perf_counter()
        try:
            with self.lock:
                return self._handle(request)
        finally:
            self.handle_seconds += time.perf_counter() - started

    def _handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        self.requests.append(f"{request.method} {path}")
        self.auth_headers.append(request.headers.get("authorization", ""))
        if path == "/health":
            return httpx.Response(200)
        refused = self._auth(request)
        if refused is not None:
            return refused
        if self.timeouts > 0:
            self.timeouts -= 1
            hang = httpx.ConnectTimeout if request.method == "POST" else httpx.ReadTimeout
            raise hang("timed out", request=request)
        if self.server_errors > 0:
            self.server_errors -= 1
            return self.error(503, "Video generation handler not initialized.")
        if self.malformed > 0:
            self.malformed -= 1
            return httpx.Response(
                200, content=b"{not json", headers={"content-type": "application/json"}
            )
        if request.method == "POST" and path == "/v1/videos":
            return self.create(request)
        if request.method == "GET" and path == "/v1/videos":
            return self.listing(request)
        parts = path.split("/")
        job = self.jobs.get(parts[3]) if len(parts) > 3 else None
        if job is None:
            return self.error(404, "Video not found")
        if request.method == "DELETE" and len(parts) == 4:
            return self.delete(job)
        if request.method == "GET" and path.endswith("/content"):
            return self.content(job)
        if request.method == "GET" and len(parts) == 4:
            self.advance(job)
            return self.retrieve(job)
        return self.error(405, "Method Not Allowed")

    # ----- what differs ------------------------------------------------------------------

    def _auth(self, request: httpx.Request) -> httpx.Response | None:
        return None  # SGLang and FastVideo check no key

    def error(self, status: int, message: str) -> httpx.Response:
        return httpx.Response(status, json={"detail": message})

    def create(self, request: httpx.Request) -> httpx.Response:
        raise NotImplementedError

    def new_id(self) -> str:
        return f"{len(self.jobs) + 1:032x}"  # uuid4().hex in the source

    def as_json(self, job: GpuJob) -> dict[str, Any]:
        video: dict[str, Any] = {
            "id": job.id,
            "object": "video",
            "model": job.fields.get("model") or "Wan-AI/Wan2.1-T2V-1.3B-Diffusers",
            "status": "deleted" if job.deleted else job.status,
            "progress": 100 if job.status == "completed" else 0,
            "created_at": 1_796_000_000 + len(job.id),
            "size": str(job.fields.get("size") or ""),
            "seconds": str(job.fields.get("seconds") or 4),
            "quality": "standard",
            "file_path": f"outputs/{job.id}.mp4",
        }
        if job.status == "failed":
            video["error"] = {"message": FAILURE}
        return video

    def retrieve(self, job: GpuJob) -> httpx.Response:
        return httpx.Response(200, json=self.as_json(job))

    def delete(self, job: GpuJob) -> httpx.Response:
        # "TODO: support aborting a job": the record goes, the work goes on.
        self.jobs.pop(job.id)
        job.deleted = True
        return httpx.Response(200, json=self.as_json(job))

    def content(self, job: GpuJob) -> httpx.Response:
        if job.status != "completed" or self.url_expired:
            return self.error(404, "Generation is still in-progress")
        return httpx.Response(200, content=self.video, headers={"content-type": "video/mp4"})

    def listing(self, request: httpx.Request) -> httpx.Response:
        jobs = self._page(request)
        return httpx.Response(200, json={"data": [self.as_json(j) for j in jobs], "object": "list"})

    # ----- shared ------------------------------------------------------------------------

    def _page(self, request: httpx.Request) -> list[GpuJob]:
        order = request.url.params.get("order", "desc")
        jobs = list(self.jobs.values())
        if order != "asc":
            jobs.reverse()
        after = request.url.params.get("after")
        if after is not None:
            ids = [j.id for j in jobs]
            jobs = jobs[ids.index(after) + 1 :] if after in ids else []
        limit = request.url.params.get("limit")
        jobs = jobs if limit is None else jobs[: int(limit)]
        for job in jobs:
            self.advance(job)  # a listed job counts as polled once (the fake's clock)
        return jobs

    def start(
        self, request: httpx.Request, fields: dict[str, Any], files: dict[str, Any]
    ) -> GpuJob:
        job = GpuJob(self.new_id(), fields, files)
        self.jobs[job.id] = job
        self.history.append(job)
        self.running += 1
        self.most_running = max(self.most_running, self.running)
        self.answer_lost(request)
        return job

    def advance(self, job: GpuJob) -> None:
        """One retrieve's worth of work: queued, then done after ``runs_polls``."""
        if job.status not in ("queued", "in_progress"):
            return
        job.polls += 1
        if job.polls <= self.runs_polls or self.never_finish:
            job.status = self.running_status
            return
        self.finish(job, "failed" if self.fail_later else "completed")

    def finish(self, job: GpuJob, status: str) -> None:
        if job.status in ("queued", "in_progress"):
            self.running -= 1
        job.status = status

    running_status = "queued"  # SGLang and FastVideo go queued -> completed | failed


@dataclass
class FakeVllmOmni(_GpuServer):
    """vLLM-Omni's ``/v1/videos`` (see the module docstring)."""

    running_status = "in_progress"

    def _auth(self, request: httpx.Request) -> httpx.Response | None:
        if self.api_key is None:
            return None
        if self.wrong_key or request.headers.get("authorization") != f"Bearer {self.api_key}":
            return httpx.Response(401, json={"error": "Unauthorized"})
        return None

    def error(self, status: int, message: str) -> httpx.Response:
        phrase = httpx.codes.get_reason_phrase(status) or "Error"
        body = {"error": {"message": message, "type": phrase, "param": None, "code": status}}
        return httpx.Response(status, json=body)

    def new_id(self) -> str:
        return f"video_gen_{len(self.jobs) + 1:032x}"

    def create(self, request: httpx.Request) -> httpx.Response:
        form = parse_multipart(request)
        if form is None:
            return self.error(400, "[{'type': 'missing', 'loc': ('body', 'prompt')}]")
        fields, files = form
        if "prompt" not in fields:
            return self.error(400, "Field required: prompt")
        if "seconds" in fields and not fields["seconds"].isdigit():
            return self.error(400, f"seconds {fields['seconds']!r} does not match '^[1-9]\\d*$'")
        job = self.start(request, fields, files)
        return httpx.Response(200, json=self.as_json(job))

    def as_json(self, job: GpuJob) -> dict[str, Any]:
        video: dict[str, Any] = {
            "id": job.id,
            "object": "video",
            "model": "Wan-AI/Wan2.2-T2V-A14B-Diffusers",
            "prompt": job.fields.get("prompt"),
            "status": job.status,
            "progress": 100 if job.status == "completed" else 0,
            "size": job.fields.get("size"),
            "seconds": job.fields.get("seconds", "4"),
            "quality": "default",
            "created_at": 1_796_000_000,
            "completed_at": None,
            "remixed_from_video_id": None,
            "error": None,
            "media_type": "video/mp4",
            "expires_at": None,
            "file_name": f"{job.id}.mp4" if job.status == "completed" else None,
        }
        if job.status == "failed":
            video["error"] = {"code": "OutOfMemoryError", "message": FAILURE}
        return video

    def retrieve(self, job: GpuJob) -> httpx.Response:
        status = 500 if job.status == "failed" else 200
        return httpx.Response(status, json=self.as_json(job))

    def delete(self, job: GpuJob) -> httpx.Response:
        if job.status in ("queued", "in_progress"):
            job.aborted = True  # the task is cancelled and the engine request aborted
            self.finish(job, "cancelled")
        self.jobs.pop(job.id)
        job.deleted = True
        return httpx.Response(200, json={"id": job.id, "deleted": True, "object": "video.deleted"})

    def content(self, job: GpuJob) -> httpx.Response:
        if job.status == "failed":
            return self.error(422, "Video generation failed. Check job status for error details.")
        if job.status != "completed":
            return self.error(404, "Generation is still in-progress")
        if self.url_expired:
            return self.error(404, "Generated video file not found on disk")
        return httpx.Response(200, content=self.video, headers={"content-type": "video/mp4"})

    def listing(self, request: httpx.Request) -> httpx.Response:
        limit = request.url.params.get("limit")
        everything = self._page(httpx.Request("GET", request.url.copy_remove_param("limit")))
        page = everything if limit is None else everything[: int(limit)]
        body = {
            "object": "list",
            "data": [self.as_json(j) for j in page],
            "first_id": page[0].id if page else None,
            "last_id": page[-1].id if page else None,
            "has_more": len(everything) > len(page),
        }
        return httpx.Response(200, json=body)


@dataclass
class FakeSGLang(_GpuServer):
    """SGLang diffusion's ``/v1/videos`` (see the module docstring)."""

    def create(self, request: httpx.Request) -> httpx.Response:
        kind = request.headers.get("content-type", "").lower()
        if "multipart/form-data" in kind:
            fields, files = parse_multipart(request) or ({}, {})
            if not fields.get("prompt"):
                return self.error(400, "prompt is required")
            if "input_reference" not in files:
                return self.error(400, "input_reference file is required")
            if "seconds" in fields and not fields["seconds"].isdigit():
                return _unprocessable("seconds", fields["seconds"])
            extra = json.loads(fields.get("extra_body") or "{}")
            read = {
                "prompt": fields["prompt"],
                "input_reference": f"outputs/uploads/{files['input_reference'][0]}",
                "model": fields.get("model"),
                "seconds": int(fields.get("seconds") or 4),
                "size": fields.get("size") or "720x1280",
                "fps": int(fields["fps"]) if "fps" in fields else extra.get("fps"),
                "num_frames": int(fields["num_frames"])
                if "num_frames" in fields
                else extra.get("num_frames"),
            }
            sent = dict(fields)
        else:
            try:
                payload = json.loads(request.content or b"{}")
            except ValueError:
                payload = {}
            extra = payload.pop("extra_body", None)
            if isinstance(extra, dict):
                payload.update(extra)
            if not isinstance(payload.get("prompt"), str):
                return self.error(400, "Invalid request body: prompt Field required")
            read, sent, files = dict(payload), dict(payload), {}
        job = self.start(request, read, files)
        job.fields["_sent"] = sent
        return httpx.Response(200, json=self.as_json(job))


@dataclass
class FakeFastVideo(_GpuServer):
    """FastVideo's ``/v1/videos`` (see the module docstring)."""

    def create(self, request: httpx.Request) -> httpx.Response:
        kind = request.headers.get("content-type", "").lower()
        if "multipart/form-data" in kind:
            fields, files = parse_multipart(request) or ({}, {})
            if not fields.get("prompt"):
                return self.error(400, "prompt is required")
            for name in ("seconds", "fps", "num_frames", "seed"):
                if name in fields and not fields[name].lstrip("-").isdigit():
                    return _unprocessable(name, fields[name])
            read: dict[str, Any] = {"seed": 1024, "seconds": 4} | {
                k: int(v) if k in ("seconds", "fps", "num_frames", "seed") else v
                for k, v in fields.items()
            }
            sent: dict[str, Any] = dict(fields)
        else:
            try:
                payload = json.loads(request.content or b"{}")
            except ValueError:
                payload = {}
            read, sent, files = {"seed": 1024} | payload, dict(payload), {}
        job = self.start(request, read, files)
        job.fields["_sent"] = sent
        return httpx.Response(200, json=self.as_json(job))

    def content(self, job: GpuJob) -> httpx.Response:
        if job.status == "failed":
            return self.error(500, "Video generation failed")
        if job.status != "completed" or self.url_expired:
            return self.error(404, "Video still being generated")
        return httpx.Response(200, content=self.video, headers={"content-type": "video/mp4"})


def _unprocessable(name: str, value: str) -> httpx.Response:
    """FastAPI's 422 for a ``Form`` value of the wrong type."""
    detail = [
        {
            "type": "int_parsing",
            "loc": ["body", name],
            "msg": "Input should be a valid integer, unable to parse string as an integer",
            "input": value,
        }
    ]
    return httpx.Response(422, json={"detail": detail})


def parse_multipart(
    request: httpx.Request,
) -> tuple[dict[str, str], dict[str, tuple[str, str, bytes]]] | None:
    """A multipart body's fields and files; None when the body is not multipart."""
    kind = request.headers.get("content-type", "")
    if not kind.startswith("multipart/form-data"):
        return None
    head = f"Content-Type: {kind}\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + request.content)
    fields: dict[str, str] = {}
    files: dict[str, tuple[str, str, bytes]] = {}
    for part in message.iter_parts():
        name = str(part.get_param("name", header="content-disposition"))
        data = part.get_payload(decode=True) or b""
        filename = part.get_filename()
        if filename is None:
            fields[name] = data.decode()
        else:
            files[name] = (filename, part.get_content_type(), data)
    return fields, files


@dataclass
class Loopback:
    """A fake on loopback: its API root, and the seconds the fake spent answering."""

    url: str
    handled_s: float = 0.0


@contextlib.contextmanager
def serve(fake: ScriptedProvider) -> Iterator[Loopback]:
    """Serves ``fake`` (any scripted fake's ``handle``) on loopback, a thread per request."""
    served = Loopback("")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # a reply's head and body go out at once

        def log_message(self, *args: object) -> None:
            pass

        def _any(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            request = httpx.Request(
                self.command,
                f"http://127.0.0.1{self.path}",
                headers=dict(self.headers.items()),
                content=body,
            )
            started = time.perf_counter()
            response = fake.handle(request)
            content = response.read()
            served.handled_s += time.perf_counter() - started
            self.send_response(response.status_code)
            for name, value in response.headers.items():
                if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                    self.send_header(name, value)
            self.send_header("content-length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

        do_GET = do_POST = do_DELETE = _any  # noqa: N815

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    served.url = f"http://127.0.0.1:{port}/v1"
    try:
        yield served
    finally:
        server.shutdown()
        server.server_close()
