"""The optional external check: a moderation endpoint or a guard model the operator runs.

The local checks run offline in milliseconds; an operator who wants a second opinion may add
one of two kinds of service, asked only about prompts the local checks allowed:

- ``moderations``: any OpenAI-compatible ``POST {url}/moderations`` (OpenAI's own, or a
  self-hosted one). A ``flagged`` result refuses under its first flagged category.
- ``chat``: a guard model (Llama Guard, ShieldGemma) behind an OpenAI-compatible
  ``POST {url}/chat/completions`` (vLLM, Ollama). The prompt is sent as the user's turn and
  the answer read in the model's own format: Llama Guard's ``safe`` / ``unsafe`` with its
  hazard codes (``S1``...``S14``) on the next line, or ShieldGemma's ``Yes`` (violates) /
  ``No``.

A service that does not answer within the timeout, answers with an error or answers something
unreadable is a failure, never a verdict: with ``on_failure = "open"`` the prompt goes on
(the local checks already passed it) and the failure is logged; with ``"closed"`` the request
is refused with a 503 the client may retry.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Literal

import httpx

from openreel.errors import ModerationUnavailableError
from openreel.trust.moderation.base import Refusal
from openreel.trust.moderation.normalise import Prompt

__all__ = ["LLAMA_GUARD_CATEGORIES", "GuardCheck", "GuardFailureError"]

log = logging.getLogger(__name__)

LLAMA_GUARD_CATEGORIES: dict[str, str] = {
    "S1": "violence/graphic",  # Violent Crimes
    "S2": "illicit",  # Non-Violent Crimes
    "S3": "sexual",  # Sex-Related Crimes
    "S4": "sexual/minors",  # Child Sexual Exploitation
    "S5": "harassment",  # Defamation
    "S6": "illicit",  # Specialized Advice
    "S7": "harassment",  # Privacy
    "S8": "policy",  # Intellectual Property
    "S9": "illicit",  # Indiscriminate Weapons
    "S10": "hate",  # Hate
    "S11": "self-harm",  # Suicide & Self-Harm
    "S12": "sexual",  # Sexual Content
    "S13": "political_deception",  # Elections
    "S14": "illicit",  # Code Interpreter Abuse
}
"""Llama Guard 3's hazard codes (its model card's taxonomy) as this policy's categories."""

_REASON = "The external moderation service ({service}) flagged this prompt as {category}."
_CODES = re.compile(r"\bS\d{1,2}\b")


class GuardFailureError(Exception):
    """The service gave no verdict (timeout, error status, unreadable answer)."""


class GuardCheck:
    """Asks an external moderation service about a prompt.

    Args:
        kind: ``moderations`` or ``chat`` (see the module's docstring).
        url: The API's base URL, up to and including ``/v1``.
        model: The model to name in the request.
        api_key: Sent as a bearer token when set.
        timeout_s: Longest wait for an answer, connection included.
        on_failure: ``open`` lets the prompt through when the service fails, ``closed``
            refuses the request with a retryable 503.
        transport: An httpx transport (tests pass one; None is the network).
    """

    def __init__(
        self,
        *,
        kind: Literal["moderations", "chat"],
        url: str,
        model: str,
        api_key: str | None = None,
        timeout_s: float = 5.0,
        on_failure: Literal["open", "closed"] = "open",
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._kind = kind
        self._model = model
        self._on_failure = on_failure
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(
            base_url=url.rstrip("/") + "/",
            headers=headers,
            timeout=httpx.Timeout(timeout_s),
            transport=transport,
        )

    @property
    def name(self) -> str:
        """``guard``."""
        return "guard"

    def close(self) -> None:
        """Closes the HTTP connections."""
        self._client.close()

    def check(self, prompt: Prompt) -> Refusal | None:
        """The service's verdict on the prompt as typed (a service reads its own language).

        Raises:
            ModerationUnavailableError: The service failed and ``on_failure`` is ``closed``.
        """
        try:
            if self._kind == "moderations":
                found = self._moderations(prompt.original)
            else:
                found = self._chat(prompt.original)
        except GuardFailureError as exc:
            if self._on_failure == "closed":
                log.warning("moderation guard failed, request refused (fail-closed): %s", exc)
                raise ModerationUnavailableError(
                    "the external moderation check did not answer; try again shortly"
                ) from None
            log.warning("moderation guard failed, prompt allowed (fail-open): %s", exc)
            return None
        if found is None:
            return None
        category, rule = found
        return Refusal(
            category,
            _REASON.format(service=self._kind, category=category),
            self.name,
            rule=rule,
        )

    def _post(self, path: str, body: dict[str, Any]) -> Any:
        try:
            response = self._client.post(path, json=body)
        except httpx.TimeoutException:
            raise GuardFailureError(f"{path}: no answer within the timeout") from None
        except httpx.HTTPError as exc:
            raise GuardFailureError(f"{path}: {type(exc).__name__}") from None
        if response.status_code != 200:
            raise GuardFailureError(f"{path}: HTTP {response.status_code}")
        try:
            return response.json()
        except ValueError:
            raise GuardFailureError(f"{path}: the answer is not JSON") from None

    def _moderations(self, text: str) -> tuple[str, str] | None:
        data = self._post("moderations", {"model": self._model, "input": text})
        try:
            result = data["results"][0]
            flagged = result["flagged"]
            categories = result["categories"]
        except (KeyError, IndexError, TypeError):
            raise GuardFailureError("moderations: no results[0].flagged in the answer") from None
        if not isinstance(flagged, bool) or not isinstance(categories, dict):
            raise GuardFailureError("moderations: flagged or categories has the wrong type")
        if not flagged:
            return None
        named = [str(name) for name, value in categories.items() if value is True]
        category = named[0] if named else "policy"
        return category, f"moderations:{','.join(named) or 'flagged'}"

    def _chat(self, text: str) -> tuple[str, str] | None:
        data = self._post(
            "chat/completions",
            {
                "model": self._model,
                "messages": [{"role": "user", "content": text}],
                "temperature": 0,
                "max_tokens": 20,
            },
        )
        try:
            answer = data["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError):
            raise GuardFailureError("chat: no choices[0].message.content in the answer") from None
        if not isinstance(answer, str):
            raise GuardFailureError("chat: the answer's content is not text")
        lines = answer.strip().splitlines()
        verdict = lines[0].strip().lower() if lines else ""
        if verdict in ("safe", "no"):
            return None
        if verdict == "yes":  # ShieldGemma: the prompt violates the policy it was given
            return "policy", "chat:yes"
        if verdict == "unsafe":
            codes = _CODES.findall(" ".join(lines[1:]).upper())
            category = LLAMA_GUARD_CATEGORIES.get(codes[0], "policy") if codes else "policy"
            return category, f"chat:unsafe:{','.join(codes) or '-'}"
        raise GuardFailureError(f"chat: unreadable verdict {answer[:40]!r}")
