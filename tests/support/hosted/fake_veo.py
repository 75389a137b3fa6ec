"""A fake Vertex AI Veo endpoint for tests: an httpx transport google-genai sends through.

It speaks the two calls the google-genai SDK makes for Veo on Vertex:
``:predictLongRunning`` answers an operation name; ``:fetchPredictOperation`` answers the
operation, ``done`` after ``running`` polls, with the video inline as base64. It can be told
to refuse at create (400 INVALID_ARGUMENT about safety), refuse later (the result filtered:
done with ``raiMediaFilteredCount``), fail the operation, throttle, burst 5xx, time out, send
malformed JSON, lose a create's answer, reject the token, or never finish. There is no
CDN: Vertex returns the video inline.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field

import httpx

from .harness import ScriptedProvider

TOKEN = "ya29.fake-vertex-access-token-0123456789"
KEY = TOKEN
BASE = "https://vertex.test/"
PROJECT, LOCATION = "openreel-test", "us-central1"
_MODELS = f"/v1beta1/projects/{PROJECT}/locations/{LOCATION}/publishers/google/models/"


@dataclass
class Operation:
    name: str
    model: str
    body: dict[str, object]
    polls: int = 0


@dataclass
class FakeVeo(ScriptedProvider):
    """Scripted Vertex Veo. ``running`` polls answer ``done: false``, then the result."""

    running: int = 2
    refuse_at_create: bool = False
    operations: dict[str, Operation] = field(default_factory=dict)

    def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        self.requests.append(f"{request.method} {path}")
        self.auth_headers.append(request.headers.get("authorization", ""))
        if request.headers.get("authorization") != f"Bearer {TOKEN}" or self.wrong_key:
            return _status(401, "UNAUTHENTICATED", "Request had invalid authentication")
        if self.timeouts > 0:
            self.timeouts -= 1
            # A POST hangs before it reaches the provider (so retrying it is safe); other
            # requests hang waiting for the answer.
            hang = httpx.ConnectTimeout if request.method == "POST" else httpx.ReadTimeout
            raise hang("timed out", request=request)
        if self.throttle_first > 0:
            self.throttle_first -= 1
            return _status(429, "RESOURCE_EXHAUSTED", "Quota exceeded for aiplatform")
        if self.server_errors > 0:
            self.server_errors -= 1
            return _status(503, "UNAVAILABLE", "The service is currently unavailable")
        if self.malformed > 0:
            self.malformed -= 1
            return httpx.Response(
                200, content=b"{not json", headers={"content-type": "application/json"}
            )
        if request.method != "POST" or not path.startswith(_MODELS):
            return _status(404, "NOT_FOUND", "Not found")
        model, _, verb = path[len(_MODELS) :].partition(":")
        body = json.loads(request.content)
        if verb == "predictLongRunning":
            if self.refuse_at_create:
                return _status(
                    400,
                    "INVALID_ARGUMENT",
                    "The prompt could not be submitted: it violates the usage guidelines "
                    "(Responsible AI safety filters).",
                )
            name = f"{_MODELS.removeprefix('/v1beta1/')}{model}/operations/op-{len(self.operations) + 1}"
            self.operations[name] = Operation(name, model, body)
            self.answer_lost(request)
            return httpx.Response(200, json={"name": name})
        if verb == "fetchPredictOperation":
            operation = self.operations.get(str(body.get("operationName")))
            if operation is None:
                return _status(404, "NOT_FOUND", "Operation not found")
            return self._poll(operation)
        return _status(404, "NOT_FOUND", "Not found")

    def _poll(self, operation: Operation) -> httpx.Response:
        operation.polls += 1
        if operation.polls <= self.running or self.never_finish:
            return httpx.Response(200, json={"name": operation.name, "done": False})
        answer: dict[str, object] = {"name": operation.name, "done": True}
        if self.fail_later:
            answer["error"] = {"code": 13, "message": "Internal error encountered."}
        elif self.refuse_later:  # done, the video filtered out by Responsible AI
            answer["response"] = {
                "raiMediaFilteredCount": 1,
                "raiMediaFilteredReasons": ["The video may depict a real person."],
                "videos": [],
            }
        else:
            answer["response"] = {
                "raiMediaFilteredCount": 0,
                "videos": [
                    {
                        "bytesBase64Encoded": base64.b64encode(self.video).decode(),
                        "mimeType": "video/mp4",
                    }
                ],
            }
        return httpx.Response(200, json=answer)


def _status(code: int, status: str, message: str) -> httpx.Response:
    return httpx.Response(
        code, json={"error": {"code": code, "message": message, "status": status}}
    )
