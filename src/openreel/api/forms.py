"""Reading multipart and urlencoded bodies with errors in OpenReel's shape.

Starlette's form parser raises several unrelated exception types for a malformed body, and
an HTTP 400 with its own wording; every route that takes a form wants the same answer: 413
kept when the body is over the limit, anything else a 400 that says the form is unreadable.

Imports: errors, starlette.
"""

from __future__ import annotations

from fastapi import Request
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException

from openreel.errors import InvalidRequestError

__all__ = ["read_form"]


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
