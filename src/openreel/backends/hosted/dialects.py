"""The ``/v1/videos`` variants GPU servers speak, and what each one lacks.

Every server here answers OpenAI's routes (``POST /videos``, ``GET /videos/{id}``, ``GET
/videos/{id}/content``, ``DELETE /videos/{id}``), but each differs in what its create takes,
how it reports progress and failure, and whether a delete stops the work. What follows is read
from the servers' own route handlers and request models:

- ``openai``: OpenAI's SDK (``openai``, its ``videos`` resource), which another OpenReel and
  the gateways answer; see backends/hosted/upstream.py. OpenAI's create has no seed, rate or
  negative prompt (and OpenAI's API refuses arguments it does not know), so an OpenAI-shaped
  server gets its four fields only; an upstream known to be an OpenReel (its ``/models``
  entries are ``owned_by: "openreel"`` with ``capabilities``, or its videos carry a
  ``phase``) also gets ``seed``, ``fps``, ``negative_prompt`` and ``audio`` (when off), which
  OpenReel's create takes (api/video_requests.py ``CreateVideoBody``), so the job's seed makes its video.
- ``vllm-omni``: vllm-project/vllm-omni, ``vllm_omni/entrypoints/openai/api_server.py``
  (``create_video``: FastAPI ``Form`` fields only, so a JSON create fails validation;
  ``delete_video``: cancels a queued or running job's task, 409 when that takes over 2 s) and
  ``vllm_omni/entrypoints/openai/protocol/videos.py`` (``VideoGenerationRequest``: ``seed``,
  ``num_frames``, ``fps``, ``width``, ``height``; ``seconds`` digits only; ``VideoResponse``
  whose ``progress`` stays 0 until the job completes). Its docs say a failed job's retrieve
  answers with the job's error status and the job as the body, so a non-2xx retrieve is read
  for a failed video before it counts as an error. The server checks ``--api-key`` as a bearer
  token.
- ``sglang``: sgl-project/sglang,
  ``python/sglang/multimodal_gen/runtime/entrypoints/openai/video_api.py``: a multipart create
  must carry the ``input_reference`` file (400 without it) and reads only ``prompt``,
  ``model``, ``seconds`` (an integer), ``size``, ``fps``, ``num_frames`` and ``extra_body``;
  a JSON create takes every ``VideoGenerationsRequest`` field (``seed`` included) but reads
  ``input_reference`` as a path on the server. Jobs go ``queued`` to ``completed`` or
  ``failed`` (``error.message``), progress 0 then 100; ``DELETE`` pops the record and leaves
  the work running ("TODO: support aborting a job"); errors are FastAPI's ``{"detail"}``; no
  authentication.
- ``fastvideo``: hao-ai-lab/FastVideo, ``fastvideo/entrypoints/openai/video_api.py`` and
  ``protocol.py``: a multipart create reads ``seed`` (1024 when not sent), ``fps``,
  ``num_frames``, ``seconds`` (an integer) and the ``input_reference`` file; a JSON create
  reads ``input_reference`` and ``output_path`` as server paths. Each job runs the synchronous
  generator in the default thread pool with no queue or lock, so one job at a time; states,
  delete, errors and authentication as SGLang's.

What the servers lack is mapped honestly: OpenReel draws a random seed for every job (recorded
on it) and always sends it, with an explicit frame count and rate (their default is
``seconds x 24``, wrong for a 16 fps model); no field naming a path on the server is ever
sent (a reference image goes as a file part); progress they do not report is estimated from
the model's recent durations and marked as estimated; and a job a server cannot stop is
dropped here, the plan saying so.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Literal

from openreel.domain import VideoRequest

__all__ = ["DIALECTS", "PATH_FIELDS", "Dialect", "DialectName", "create_body"]

DialectName = Literal["openai", "vllm-omni", "sglang", "fastvideo"]

PATH_FIELDS = frozenset(
    {"output_path", "file_path", "file_paths", "image_path", "video_path", "input_path"}
)
"""Fields that name files on the server (SGLang's and FastVideo's ``output_path``, their JSON
``input_reference``): never sent, whatever reaches OpenReel."""


@dataclass(frozen=True, slots=True)
class Dialect:
    """What one server variant does and lacks.

    Attributes:
        name: The dialect's name in the settings.
        authenticated: It checks a bearer token.
        reports_progress: Its ``progress`` moves while a job runs (else it is estimated).
        cancel: ``route`` (OpenReel's ``POST /videos/{id}/cancel``), ``delete`` (its
            ``DELETE`` stops the work) or ``none`` (its ``DELETE`` only drops the record: the
            job runs on there and its result is dropped here).
        seeds: It takes a seed, frame count and rate (all but OpenAI's contract do).
        probe: Where reachability is asked: ``models`` (``GET {url}/models``) or ``health``
            (``GET /health`` at the server's root).
    """

    name: DialectName
    authenticated: bool
    reports_progress: bool
    cancel: Literal["route", "delete", "none"]
    seeds: bool
    probe: Literal["models", "health"]

    def plan_notes(self) -> dict[str, str]:
        """What the job's plan says about this server's gaps (empty for an OpenAI one)."""
        notes: dict[str, str] = {}
        if not self.reports_progress:
            notes["progress"] = (
                f"estimated: a {self.name} server reports none until the video is done, so "
                "progress is guessed from this model's recent durations"
            )
        if self.cancel == "none":
            notes["cancel"] = (
                f"a {self.name} server cannot stop a job: a cancelled video's result is "
                "dropped here while the server finishes it"
            )
        return notes


DIALECTS: dict[str, Dialect] = {
    "openai": Dialect("openai", True, True, "route", False, "models"),
    "vllm-omni": Dialect("vllm-omni", True, False, "delete", True, "health"),
    "sglang": Dialect("sglang", False, False, "none", True, "health"),
    "fastvideo": Dialect("fastvideo", False, False, "none", True, "health"),
}


class _Multipart(dict[str, Any]):
    """An empty ``files`` that still makes httpx send multipart, as OpenAI's SDK does with its
    ``ForceMultipartDict`` (httpx sends a form without files url-encoded otherwise)."""

    def __bool__(self) -> bool:
        return True


def create_body(
    dialect: Dialect, model: str, request: VideoRequest, *, openreel: bool = False
) -> dict[str, Any]:
    """The create's httpx keyword arguments for ``dialect``: ``data`` and ``files`` for a
    multipart form, or ``json``.

    The seed is the job's (fixed at admission); the frame count and rate are the request's.
    ``openreel`` says an ``openai`` upstream is another OpenReel, which takes OpenReel's own
    create fields (``seed``, ``fps``, ``negative_prompt``, ``audio`` when it is off) beside
    OpenAI's.
    A server that takes whole seconds only (SGLang's and FastVideo's ``int`` Form, vLLM-Omni's
    digits) is sent the length rounded up, while ``num_frames`` says the exact length.
    """
    image = request.input_reference
    files: dict[str, Any] = _Multipart()
    if image is not None:
        suffix = image.media_type.rpartition("/")[2] or "bin"
        files["input_reference"] = (f"input_reference.{suffix}", image.data, image.media_type)
    if not dialect.seeds:
        fields = {
            "prompt": request.prompt,
            "model": model,
            "seconds": f"{request.seconds:g}",
            "size": request.size,
        }
        if openreel:
            own: dict[str, Any] = {"seed": request.seed, "fps": request.fps}
            if request.negative_prompt:
                own["negative_prompt"] = request.negative_prompt
            if request.audio is False:
                # Its models make sound unless told not to; a silent request answered with
                # sound could not be passed on as it is (services/relay.py) and would be
                # decoded and encoded again here. ``true`` is never sent: a silent model
                # there would refuse it, and its silence is filled here as for any upstream.
                own["audio"] = "false"
            fields |= _strings(own)
        return {"data": fields, "files": files}
    whole = str(max(1, math.ceil(request.seconds)))
    exact: dict[str, Any] = {
        "prompt": request.prompt,
        "seconds": whole,
        "size": request.size,
        "width": request.width,
        "height": request.height,
        "num_frames": request.frame_count,
        "fps": request.fps,
        "seed": request.seed,
    }
    if dialect.name == "vllm-omni":
        # One model per process, named by the server; a differing ``model`` is refused by
        # some versions ("Model mismatch"), so none is sent.
        return {"data": _strings(exact), "files": files}
    exact["model"] = model
    if dialect.name == "sglang" and image is None:
        # Its multipart create demands an image; a JSON create takes every field.
        body = exact | {"seconds": int(whole)}
        return {"json": body}
    if dialect.name == "sglang":
        # Its multipart create reads fps and num_frames (and, in newer versions, the seed)
        # from ``extra_body`` as well as from their own fields.
        extra = {"fps": request.fps, "num_frames": request.frame_count, "seed": request.seed}
        exact["extra_body"] = json.dumps(extra)
    return {"data": _strings(exact), "files": files}


def _strings(fields: dict[str, Any]) -> dict[str, str]:
    return {key: str(value) for key, value in fields.items() if value is not None}
