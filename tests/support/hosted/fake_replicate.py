"""A fake Replicate API (and delivery CDN) for tests: an httpx transport with scripted behaviour.

It answers as Replicate's own SDK (``replicate`` 2.x, pinned in the dev extra) says the API
does: an official model is created on ``POST /v1/models/{owner}/{name}/predictions`` (the body
checked against the SDK's ``models.PredictionCreateParams``), any other model only on ``POST
/v1/predictions`` with its ``version`` (checked against ``PredictionCreateParams``; a community
model on the official endpoint is a 404, as on Replicate). Every prediction it answers is a
valid ``Prediction`` of the SDK, with ``aborted`` allowed besides the SDK's statuses (Replicate's
prediction-lifecycle docs list it; replicate-python PR #460 adds it to the type). ``logs``
carry a progress bar, ``output`` is a URL or a list, and the output is served from a separate
CDN host that answers 401 to any request carrying an Authorization header.

It can be told to refuse (NSFW), fail, abort (deadline passed before start), throttle with
Retry-After, burst 5xx, time out, send malformed JSON, lose a create's answer, let the output
URL expire, reject the token, or never finish.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import httpx
from replicate.types.models.prediction_create_params import (
    PredictionCreateParams as OfficialCreateParams,
)
from replicate.types.prediction import Prediction as SdkPrediction
from replicate.types.prediction_create_params import PredictionCreateParams

from . import sdk
from .harness import ScriptedProvider

KEY = "r8_fake_secret_token_0123456789abcdef"
API = "api.replicate.com"
CDN = "replicate.delivery"
OFFICIAL = frozenset({"wan-video/wan-2.2-t2v-fast"})
"""Models Replicate runs as official models (created by name); any other needs its version."""


@dataclass
class Prediction:
    id: str
    model: str
    body: dict[str, object]
    polls: int = 0
    logs: str = ""
    cancelled: bool = False


@dataclass
class FakeReplicate(ScriptedProvider):
    """Scripted Replicate. The first poll answers ``starting``; then one ``processing`` poll
    per entry of ``progress``, each appending a progress-bar line with that percentage to the
    logs (None appends a line without one); then ``succeeded`` unless told otherwise."""

    progress: list[int | None] = field(default_factory=lambda: [10, 50, 90])
    output_list: bool = False
    abort_later: bool = False
    predictions: dict[str, Prediction] = field(default_factory=dict)

    def handle(self, request: httpx.Request) -> httpx.Response:
        response = self._handle(request)
        if response.status_code in (200, 201) and request.url.host == API:
            try:
                answer = json.loads(response.content)
            except ValueError:
                return response  # the scripted malformed reply
            # ``aborted`` is Replicate's (its docs), not yet the SDK type's: checked as canceled.
            issues = sdk.reply_issues(
                SdkPrediction,
                answer | {"status": "canceled"} if answer["status"] == "aborted" else answer,
            )
            assert not issues, f"the fake answered what Replicate's SDK would not read: {issues}"
        return response

    def _handle(self, request: httpx.Request) -> httpx.Response:
        if request.url.host == CDN:
            return self._cdn(request)
        path = request.url.path
        self.requests.append(f"{request.method} {path}")
        self.auth_headers.append(request.headers.get("authorization", ""))
        if request.headers.get("authorization") != f"Bearer {KEY}" or self.wrong_key:
            return _problem(401, "Unauthenticated", "You did not pass a valid authentication token")
        if self.timeouts > 0:
            self.timeouts -= 1
            # A POST hangs before it reaches the provider (so retrying it is safe); other
            # requests hang waiting for the answer.
            hang = httpx.ConnectTimeout if request.method == "POST" else httpx.ReadTimeout
            raise hang("timed out", request=request)
        if self.throttle_first > 0:
            self.throttle_first -= 1
            return _problem(
                429,
                "Too Many Requests",
                "Request was throttled.",
                {"retry-after": self.retry_after},
            )
        if self.server_errors > 0:
            self.server_errors -= 1
            return _problem(502, "Bad Gateway", "upstream connect error")
        if self.malformed > 0:
            self.malformed -= 1
            return httpx.Response(
                200, content=b"{not json", headers={"content-type": "application/json"}
            )
        parts = path.strip("/").split("/")
        if request.method == "POST" and len(parts) == 5 and parts[:2] == ["v1", "models"]:
            model = f"{parts[2]}/{parts[3]}"
            if model not in OFFICIAL:  # Replicate: the specific version is required
                return _problem(404, "Not found", "The requested resource could not be found.")
            return self._create(request, model, OfficialCreateParams)
        if request.method == "POST" and parts == ["v1", "predictions"]:
            return self._create(request, None, PredictionCreateParams)
        if len(parts) >= 3 and parts[:2] == ["v1", "predictions"]:
            prediction = self.predictions.get(parts[2])
            if prediction is None:
                return _problem(404, "Not found", "The requested resource could not be found.")
            if request.method == "POST" and parts[3:] == ["cancel"]:
                prediction.cancelled = True
                return httpx.Response(200, json=self._view(prediction, "canceled"))
            if request.method == "GET" and len(parts) == 3:
                return self._get(prediction)
        return _problem(405, "Method not allowed", "Method not allowed")

    def _create(self, request: httpx.Request, model: str | None, schema: Any) -> httpx.Response:
        body = json.loads(request.content)
        # The official endpoint's typed dict names the path's parts too; they are not body.
        given = body | ({"model_owner": "o", "model_name": "n"} if model else {})
        issues = sdk.body_issues(schema, given)
        if issues or not isinstance(body.get("input"), dict):
            return _problem(422, "Input validation failed", "; ".join(issues) or "input")
        version = body.get("version")
        name = model or f"community/{str(version)[:12]}"
        prediction = Prediction(f"pred{len(self.predictions) + 1:04d}", name, body)
        self.predictions[prediction.id] = prediction
        self.answer_lost(request)
        return httpx.Response(201, json=self._view(prediction, "starting"))

    def _get(self, p: Prediction) -> httpx.Response:
        p.polls += 1
        if p.cancelled:
            return httpx.Response(200, json=self._view(p, "canceled"))
        if p.polls == 1:
            return httpx.Response(200, json=self._view(p, "starting"))
        step = p.polls - 1
        if step <= len(self.progress) or self.never_finish:
            pct = self.progress[min(step, len(self.progress)) - 1] if self.progress else None
            if pct is None:
                p.logs += "Loading pipeline components...\n"
            else:
                p.logs += f"{pct:3d}%|{'#' * (pct // 10):<10}| {pct * 30 // 100}/30 [00:03<00:09]\n"
            return httpx.Response(200, json=self._view(p, "processing"))
        if self.abort_later:
            return httpx.Response(200, json=self._view(p, "aborted"))
        if self.refuse_later:
            view = self._view(p, "failed")
            view["error"] = (
                "NSFW content detected. Try running it again, or try a different prompt."
            )
            return httpx.Response(200, json=view)
        if self.fail_later:
            view = self._view(p, "failed")
            view["error"] = "CUDA error: an illegal memory access was encountered"
            return httpx.Response(200, json=view)
        view = self._view(p, "succeeded")
        url = f"https://{CDN}/xezq/{p.id}/output.mp4"
        view["output"] = [url] if self.output_list else url
        return httpx.Response(200, json=view)

    @staticmethod
    def _view(p: Prediction, status: str) -> dict[str, object]:
        base = f"https://{API}/v1/predictions/{p.id}"
        return {
            "id": p.id,
            "model": p.model,
            "version": p.body.get("version", "hidden"),
            "input": p.body.get("input"),
            "logs": p.logs,
            "output": None,
            "error": None,
            "status": status,
            "created_at": "2026-12-06T12:00:00.000Z",
            "data_removed": False,
            "urls": {
                "get": base,
                "cancel": f"{base}/cancel",
                "web": f"https://replicate.com/p/{p.id}",
            },
        }

    def _cdn(self, request: httpx.Request) -> httpx.Response:
        return self.serve_cdn(request, expired=httpx.Response(404, text="Not Found"))


def _problem(
    status: int, title: str, detail: str, headers: dict[str, str] | None = None
) -> httpx.Response:
    body = {"title": title, "detail": detail, "status": status}
    return httpx.Response(
        status, json=body, headers={"content-type": "application/problem+json", **(headers or {})}
    )
