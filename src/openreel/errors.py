"""The one exception tree of OpenReel.

Every error a user can see is an :class:`OpenReelError`. Each class knows how it is shown on the
wire (HTTP status, OpenAI-style ``type`` and ``code``) and which request parameter it blames, so
the API, the CLI and workers all report failures the same way::

    OpenReelError                       500 server_error / internal_error
    ├── InvalidRequestError             400 invalid_request_error (names `param` and the value)
    │   ├── ModelNotFoundError          400 model_not_found (param="model")
    │   └── ModerationBlockedError      400 moderation_blocked
    ├── AuthenticationError             401
    ├── PermissionDeniedError           403
    ├── NotFoundError                   404
    ├── ConflictError                   409 (wrong state for the operation)
    ├── PayloadTooLargeError            413
    ├── UnsupportedMediaTypeError       415
    ├── RangeNotSatisfiableError        416 (carries the content's size)
    ├── RateLimitError                  429 (carries retry_after seconds)
    ├── CancelledError                  499 the job was cancelled; no artifact exists
    ├── BackendError                    502 a backend failed while generating
    │   └── BackendUnavailableError     503
    ├── MediaError                      500 encoding / decoding / probing failed
    ├── StorageError                    503 the artifact bucket failed or cannot be reached
    ├── QueueUnavailableError           503 the job queue's broker did not take a new job
    └── ConfigurationError              500 the operator's settings are unusable

This module imports nothing from the package: every other module may import it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

__all__ = [
    "AuthenticationError",
    "BackendError",
    "BackendUnavailableError",
    "CancelledError",
    "ConfigurationError",
    "ConflictError",
    "GenerationPausedError",
    "GoneError",
    "InvalidRequestError",
    "MediaError",
    "ModelNotFoundError",
    "ModerationBlockedError",
    "ModerationUnavailableError",
    "NotFoundError",
    "OpenReelError",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "QueueUnavailableError",
    "RangeNotSatisfiableError",
    "RateLimitError",
    "StorageError",
    "UnsupportedMediaTypeError",
    "WebhookTargetError",
]


class OpenReelError(Exception):
    """Base of every error OpenReel reports to a person or a program.

    Attributes:
        message: One human-readable sentence; never a stack trace, never a secret.
        param: The request parameter at fault, when one is.
        code: A stable machine-readable code (OpenAI error ``code``).
    """

    http_status: ClassVar[int] = 500
    error_type: ClassVar[str] = "server_error"
    default_code: ClassVar[str] = "internal_error"

    def __init__(self, message: str, *, param: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.code = code or self.default_code

    def to_dict(self) -> dict[str, str | None]:
        """Returns the OpenAI error object: message, type, param and code."""
        return {
            "message": self.message,
            "type": self.error_type,
            "param": self.param,
            "code": self.code,
        }


class InvalidRequestError(OpenReelError):
    """The request cannot be served as asked; ``param`` names the culprit."""

    http_status = 400
    error_type = "invalid_request_error"
    default_code = "invalid_value"

    @classmethod
    def for_value(cls, param: str, value: object, rule: str) -> InvalidRequestError:
        """Builds the standard message: which parameter, what rule, what was received.

        Args:
            param: The parameter name as the user spelled it (``seconds``, ``size``...).
            value: The value received; long values are shortened in the message.
            rule: What the value should have been, e.g. ``"must be between 1 and 60"``.
        """
        shown = repr(value)
        if len(shown) > 80:
            shown = shown[:77] + "..."
        return cls(f"{param} {rule}; got {shown}", param=param)


class WebhookTargetError(InvalidRequestError):
    """A webhook URL that may not be called: its scheme, its form, or an address its host
    resolves to (services/webhooks/targets.py); ``param`` is ``url``."""

    default_code = "webhook_target_refused"


class ModelNotFoundError(InvalidRequestError):
    """The requested model is not served here."""

    default_code = "model_not_found"


class ModerationBlockedError(InvalidRequestError):
    """The request was refused by moderation; the message says why.

    Attributes:
        category: The policy category (``sexual``, ``public_figure``, ``living_artist_style``...),
            also sent in the error object so programs can act on it.
        check: Which moderation check refused it (for audit rows; not sent).
        rule: What fired inside the check: a rule id, a listed name, the classifier's
            category and threshold (for audit rows; not sent).
        score: The classifier's probability, for its refusals (for audit rows; not sent).
        nearest: For the classifier's refusals, the corpus examples closest to the prompt,
            each a mapping of line, label, similarity and text (for audit rows; not sent).
    """

    default_code = "moderation_blocked"

    def __init__(
        self,
        message: str,
        *,
        param: str | None = "prompt",
        code: str | None = None,
        category: str = "policy",
        check: str | None = None,
        rule: str | None = None,
        score: float | None = None,
        nearest: tuple[Mapping[str, object], ...] = (),
    ) -> None:
        super().__init__(message, param=param, code=code)
        self.category = category
        self.check = check
        self.rule = rule
        self.score = score
        self.nearest = nearest

    def to_dict(self) -> dict[str, str | None]:
        """The OpenAI error object plus ``category``."""
        return {**super().to_dict(), "category": self.category}


class ModerationUnavailableError(OpenReelError):
    """The operator's external moderation check failed and is set to fail closed; the
    request may be retried."""

    http_status = 503
    error_type = "server_error"
    default_code = "moderation_unavailable"


class AuthenticationError(OpenReelError):
    """Missing, malformed, revoked or expired credentials."""

    http_status = 401
    error_type = "authentication_error"
    default_code = "invalid_api_key"


class PermissionDeniedError(OpenReelError):
    """Authenticated, but not allowed to do this."""

    http_status = 403
    error_type = "permission_error"
    default_code = "permission_denied"


class NotFoundError(OpenReelError):
    """Unknown resource, or one that belongs to someone else."""

    http_status = 404
    error_type = "invalid_request_error"
    default_code = "not_found"


class ConflictError(OpenReelError):
    """The resource is in the wrong state for the operation."""

    http_status = 409
    error_type = "invalid_request_error"
    default_code = "invalid_state"


class GoneError(OpenReelError):
    """The resource existed but is no longer offered (a signed link past its expiry)."""

    http_status = 410
    error_type = "invalid_request_error"
    default_code = "expired"


class PayloadTooLargeError(OpenReelError):
    """The request body or an uploaded file is too large."""

    http_status = 413
    error_type = "invalid_request_error"
    default_code = "payload_too_large"


class UnsupportedMediaTypeError(OpenReelError):
    """The body's content type is not one we read."""

    http_status = 415
    error_type = "invalid_request_error"
    default_code = "unsupported_media_type"


class RangeNotSatisfiableError(OpenReelError):
    """A ``Range`` header asks for bytes past the end of the content.

    Attributes:
        size: The content's length in bytes, which the response states as
            ``Content-Range: bytes */size`` so the client can ask again.
    """

    http_status = 416
    error_type = "invalid_request_error"
    default_code = "range_not_satisfiable"

    def __init__(self, size: int, *, param: str | None = None, code: str | None = None) -> None:
        super().__init__(
            f"requested range not satisfiable; the content is {size} bytes",
            param=param,
            code=code,
        )
        self.size = size


class RateLimitError(OpenReelError):
    """Too many requests or quota exhausted; retry after ``retry_after`` seconds."""

    http_status = 429
    error_type = "rate_limit_error"
    default_code = "rate_limit_exceeded"

    def __init__(
        self,
        message: str,
        *,
        retry_after: float,
        param: str | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message, param=param, code=code)
        self.retry_after = retry_after


class CancelledError(OpenReelError):
    """The job was cancelled while running; nothing was written."""

    http_status = 499
    error_type = "invalid_request_error"
    default_code = "cancelled"


class BackendError(OpenReelError):
    """A backend failed while generating."""

    http_status = 502
    error_type = "server_error"
    default_code = "backend_error"


class BackendUnavailableError(BackendError):
    """The backend cannot take work now (paused, missing, provider down)."""

    http_status = 503
    default_code = "backend_unavailable"


class GenerationPausedError(OpenReelError):
    """An operator paused new work of this kind (kill switch); reads still work."""

    http_status = 503
    error_type = "server_error"
    default_code = "generation_paused"


class MediaError(OpenReelError):
    """Encoding, decoding or probing a media file failed."""

    default_code = "media_error"


class StorageError(OpenReelError):
    """The artifact store's bucket failed or could not be reached; the request may be retried.

    The message names the bucket and what failed, never a credential.
    """

    http_status = 503
    default_code = "storage_unavailable"


class QueueUnavailableError(OpenReelError):
    """The job queue's broker could not take a new job; the request may be retried.

    The job is failed rather than left without a message, so nothing is charged for it.
    """

    http_status = 503
    default_code = "queue_unavailable"


class ConfigurationError(OpenReelError):
    """The operator's settings cannot work; the message says which and why."""

    default_code = "configuration_error"
