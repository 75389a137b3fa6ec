"""Reading request bodies that come as JSON or as forms, with errors in OpenReel's shape.

Starlette's form parser raises several unrelated exception types for a malformed body, and
an HTTP 400 with its own wording; every route that takes a form wants the same answer: 413
kept when the body is over the limit, anything else a 400 that says the form is unreadable.
OpenAI's SDK sends the same video bodies either as JSON or as multipart forms, so
:func:`read_fields` turns both into one dict that a single pydantic model can validate.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from fastapi import Request
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException

from openreel.config import Settings
from openreel.errors import InvalidRequestError, UnsupportedMediaTypeError

__all__ = [
    "UPLOAD_PATHS",
    "body_limit",
    "fold_bracket_keys",
    "read_fields",
    "read_form",
    "upload_body_limit",
]

UPLOAD_PATHS = frozenset({"/v1/videos/extensions", "/v1/videos/edits", "/v1/videos/characters"})
"""Routes whose body may carry a video file: their limit grows to fit the largest upload."""

FORM_OVERHEAD = 1024 * 1024
"""Room for the rest of a form beside its video (boundaries, headers, the prompt)."""


def upload_body_limit(settings: Settings) -> int:
    """The body limit of a route that takes a video upload.

    It sits above the upload limit, so a file a little too large reaches the check that
    names ``video`` and says by how much rather than a bare 413.
    """
    return max(settings.max_body_bytes, settings.video_uploads.max_bytes + FORM_OVERHEAD)


def body_limit(settings: Settings, path: str) -> int:
    """The largest body accepted on ``path``."""
    return upload_body_limit(settings) if path in UPLOAD_PATHS else settings.max_body_bytes


_BRACKET = re.compile(r"^([A-Za-z_]+)\[([A-Za-z_]*)\]$")


async def read_form(request: Request, max_part_size: int) -> FormData:
    """The parsed form; the caller closes it (``await form.close()``).

    A text field may be as long as the whole body: a data URL in
    ``input_reference[image_url]`` is routinely over Starlette's 1 MB default, so the part
    limit is the body limit.

    Raises:
        InvalidRequestError: The body is not a readable form.
        HTTPException: 413 from the body limit.
    """
    try:
        return await request.form(max_part_size=max_part_size)
    except HTTPException as exc:
        if exc.status_code != 400:
            raise  # 413 from the body limit keeps its status
        raise InvalidRequestError(f"request body is not a readable form: {exc.detail}") from exc
    except Exception as exc:  # the form parser raises several unrelated types
        raise InvalidRequestError(
            f"request body is not a readable form ({type(exc).__name__})"
        ) from exc


def fold_bracket_keys(items: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    """Form fields as the JSON object they stand for: ``video[id]=x`` becomes ``{"video": {"id": x}}``.

    A later field of the same name replaces an earlier one; a bracket field whose outer name
    already holds a plain value is dropped.
    """
    out: dict[str, Any] = {}
    for key, value in items:
        match = _BRACKET.match(key)
        if match:
            outer = out.setdefault(match.group(1), {})
            if isinstance(outer, dict):
                outer[match.group(2)] = value
        else:
            out[key] = value
    return out


async def read_fields(request: Request, max_body_bytes: int) -> dict[str, Any]:
    """The body's fields, from a JSON object or a form; an uploaded file stands as its bytes.

    Raises:
        InvalidRequestError: Invalid JSON, JSON that is not an object, or an unreadable form.
        UnsupportedMediaTypeError: The body is neither JSON nor a form.
        HTTPException: 413 from the body limit.
    """
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/json":
        try:
            data = await request.json()
        except ValueError:
            raise InvalidRequestError("request body is not valid JSON", param=None) from None
        if not isinstance(data, dict):
            raise InvalidRequestError.for_value(
                "body", type(data).__name__, "must be a JSON object"
            )
        return data
    if content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
        form = await read_form(request, max_body_bytes)
        try:
            # Uploaded files are read here so the form (and its temporary files) can be
            # closed before the request goes on; their bytes stand for them from now on.
            items = [
                (key, await item.read() if isinstance(item, UploadFile) else item)
                for key, item in form.multi_items()
            ]
        finally:
            await form.close()
        return fold_bracket_keys(items)
    raise UnsupportedMediaTypeError(
        f"content type must be application/json or multipart/form-data; got {content_type or 'none'!r}"
    )
