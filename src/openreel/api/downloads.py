"""Serving an artifact: a local file, or one in a bucket (relayed in chunks, or by redirect).

A local file goes out as Starlette's ``FileResponse``, except a small one asked for whole
(:func:`local_response`). A file in the bucket goes out with the same headers a browser
relies on: ``Accept-Ranges``, a ``206`` with ``Content-Range`` for
a single byte range (so a ``<video>`` can seek), ``416`` with ``Content-Range: bytes */SIZE``
for a range past the end, ``400`` for a malformed one, and the same ``Content-Type`` and
``Content-Disposition``. The range goes to GetObject as it came, and the body is relayed
:data:`~openreel.storage.objects.CHUNK_BYTES` at a time, so neither the API server's memory
nor its disk ever holds a whole video.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import quote

from fastapi import Request, Response
from fastapi.responses import FileResponse, RedirectResponse, StreamingResponse
from starlette.concurrency import run_in_threadpool

from openreel.errors import InvalidRequestError, NotFoundError
from openreel.services.videos import Content
from openreel.storage.objects import RemoteObject

__all__ = [
    "SMALL_FILE_BYTES",
    "content_disposition",
    "local_response",
    "remote_response",
    "single_range",
]

SMALL_FILE_BYTES = 1 << 20
"""Local files up to this size, asked for whole, are read at once on the event loop."""

_RANGE = re.compile(r"^(\d*)-(\d*)$")


def content_disposition(filename: str) -> str:
    """``inline`` with the file name, as ``FileResponse`` writes it for local files."""
    quoted = quote(filename)
    if quoted == filename:
        return f'inline; filename="{filename}"'
    return f"inline; filename*=utf-8''{quoted}"


def single_range(header: str | None) -> str | None:
    """The one byte range to ask the bucket for, normalised; None to send the whole object.

    Several ranges at once are answered with the whole object (HTTP lets a server ignore
    ``Range``; browsers seeking a video send one).

    Raises:
        InvalidRequestError: A malformed range or one in another unit than bytes (400, like
            a local file's).
    """
    if header is None:
        return None
    unit, sep, ranges = header.partition("=")
    if not sep:
        raise InvalidRequestError.for_value("Range", header, "must look like bytes=START-END")
    if unit.strip().lower() != "bytes":
        raise InvalidRequestError.for_value("Range", header, "must be a range of bytes")
    parts = [part.strip() for part in ranges.split(",") if part.strip()]
    if len(parts) != 1:
        if not parts:
            raise InvalidRequestError.for_value("Range", header, "must name a byte range")
        return None
    match = _RANGE.fullmatch(parts[0])
    if match is None or match.group(0) == "-":
        raise InvalidRequestError.for_value("Range", header, "must look like bytes=START-END")
    start, end = match.groups()
    if start and end and int(start) > int(end):
        raise InvalidRequestError.for_value("Range", header, "must not start after its end")
    return f"bytes={start}-{end}"


def local_response(request: Request, content: Content, path: Path) -> Response:
    """The response for an artifact in the data folder.

    ``FileResponse`` takes a trip to the thread pool for each of stat, open, every 64 KiB read
    and close, and watches for a disconnect in a task group of its own: for a thumbnail or a
    short clip, threads waking each other cost more than a whole JSON answer
    (benchmarks/api.py, the whole path's download). A file of at most
    :data:`SMALL_FILE_BYTES` asked for whole is instead read right here, as the inline
    database reads are (see ``ApiServices.read``): a file just written is in the page cache,
    and reading a small one costs less than those trips. The headers are ``FileResponse``'s
    own (length, type, ``inline`` disposition, ``ETag``, ``Last-Modified``,
    ``Accept-Ranges``), so a client cannot tell the two apart. Ranges (a ``<video>`` seeking)
    and larger files stream through ``FileResponse``, with the stat done here.
    """
    try:
        file = path.open("rb")
    except FileNotFoundError:  # deleted since the row was read
        raise NotFoundError(f"{content.filename} is no longer stored here") from None
    with file:
        stat_result = os.fstat(file.fileno())
        response = FileResponse(
            path,
            media_type=content.media_type,
            filename=content.filename,
            content_disposition_type="inline",
            stat_result=stat_result,
        )
        if stat_result.st_size > SMALL_FILE_BYTES or "range" in request.headers:
            return response
        body = file.read()  # the very file that was measured, even if replaced meanwhile
    return Response(body, status_code=200, headers=dict(response.headers))


async def remote_response(
    request: Request, content: Content, remote: RemoteObject, *, presign_seconds: int | None
) -> Response:
    """The response for an artifact in the bucket.

    Args:
        request: The download request (its ``Range`` header is honoured).
        content: What is being downloaded (media type and file name).
        remote: The object.
        presign_seconds: Redirect (307) to a presigned URL valid this long; None relays.

    Raises:
        InvalidRequestError: A malformed ``Range``.
        RangeNotSatisfiableError: The range starts past the end (416).
        NotFoundError: The object is missing from the bucket.
        StorageError: The bucket failed.
    """
    disposition = content_disposition(content.filename)
    if presign_seconds is not None:
        url = await run_in_threadpool(
            remote.presign,
            seconds=presign_seconds,
            media_type=content.media_type,
            disposition=disposition,
        )
        # The URL is a credential for a while: no cache may keep the redirect.
        return RedirectResponse(url, status_code=307, headers={"cache-control": "no-store"})
    byte_range = single_range(request.headers.get("range"))
    if request.headers.get("if-range") is not None:
        # Whether the client's copy is still current is only known after the GET; the whole
        # object is always a correct answer to a conditional range.
        byte_range = None
    stream = await run_in_threadpool(remote.open, byte_range)
    headers = {
        "accept-ranges": "bytes",
        "content-length": str(stream.length),
        "content-disposition": disposition,
    }
    if stream.etag:
        headers["etag"] = stream.etag
    if stream.last_modified:
        headers["last-modified"] = stream.last_modified
    status = 200
    if stream.content_range is not None:
        status = 206
        headers["content-range"] = stream.content_range
    return StreamingResponse(
        stream.chunks, status_code=status, media_type=content.media_type, headers=headers
    )
