"""Provenance routes: check a video's credentials, and ask whether this server made it.

``GET /v1/videos/{video_id}/provenance`` checks a video the server holds, by its id, where it
is kept (the studio's provenance panel): no one has to download the file and upload it again.
It follows the download's access rules: a person may check only the videos they may see.

For files from elsewhere, ``POST /v1/provenance/verify`` and ``POST /v1/provenance/lookup``
take the video as a multipart upload in a ``file`` field (within the server's body limit).
``verify`` reads the C2PA manifest (Trusted means this server's own CA signed it); ``lookup``
asks the content registry, which still recognises a video after it was re-encoded, scaled
down or trimmed by a second or two, when its manifest is long gone. Any token may ask; the
matching video's id is shown only to its owner and to admins.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path

from fastapi import APIRouter, Request
from starlette.datastructures import UploadFile

from openreel.api.deps import PrincipalDep, ServicesDep
from openreel.api.forms import read_form
from openreel.api.protocol import LookupMatchObject, LookupResult, ProvenanceReport
from openreel.domain import Role
from openreel.errors import InvalidRequestError, MediaError, UnsupportedMediaTypeError
from openreel.media.c2pa import ProvenanceVerdict, verify_mp4
from openreel.storage.audit import AuditEntry
from openreel.trust.provenance import verify_stored

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["provenance"])

_CHUNK = 1 << 20


async def _upload(request: Request, services: ServicesDep) -> Path:
    """Saves the ``file`` part of a multipart body to a private temporary file."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "multipart/form-data":
        raise UnsupportedMediaTypeError(
            f"upload the video as multipart/form-data with a 'file' field; got "
            f"{content_type or 'none'!r}"
        )
    form = await read_form(request, services.settings.max_body_bytes)
    try:
        item = form.get("file")
        if not isinstance(item, UploadFile):
            got = "nothing" if item is None else "a text field"
            raise InvalidRequestError(
                f"file must be an uploaded video file; got {got}", param="file"
            )
        handle, name = tempfile.mkstemp(prefix="openreel-upload-", suffix=".mp4")
        path = Path(name)
        try:
            with os.fdopen(handle, "wb") as out:
                while chunk := await item.read(_CHUNK):
                    out.write(chunk)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        if path.stat().st_size == 0:
            path.unlink(missing_ok=True)
            raise InvalidRequestError("file is empty; got 0 bytes", param="file")
        return path
    finally:
        await form.close()


async def _answered(
    request: Request, services: ServicesDep, principal_id: str, action: str, outcome: str
) -> None:
    """Audits an answered provenance question (what it found, never the file), so the
    public transparency report can count them."""
    entry = AuditEntry(
        action=action,
        outcome=outcome,
        actor_id=principal_id,
        token_id=getattr(request.state, "token_id", None),
        request_id=getattr(request.state, "request_id", None),
    )
    await services.write(services.audit.record, entry)


def _report(verdict: ProvenanceVerdict) -> ProvenanceReport:
    return ProvenanceReport(
        status=verdict.status,
        signer=verdict.signer_common_name,
        organization=verdict.signer_organization,
        digital_source_type=verdict.digital_source_type,
        model=verdict.model,
        backend=verdict.backend,
        seed=verdict.seed,
        title=verdict.title,
        messages=list(verdict.messages),
    )


@router.post(
    "/provenance/verify", response_model=ProvenanceReport, summary="Check a video's credentials"
)
async def verify(
    request: Request, services: ServicesDep, principal: PrincipalDep
) -> ProvenanceReport:
    """Reads the C2PA manifest of an uploaded MP4: Trusted (signed by this server), Valid
    (intact, signed by someone else), Invalid (altered or broken) or Missing."""
    path = await _upload(request, services)
    try:
        anchors = list(services.trust_anchors)
        verdict = await asyncio.to_thread(verify_mp4, path, trust_anchors=anchors)
    finally:
        path.unlink(missing_ok=True)
    await _answered(request, services, principal.id, "provenance.verify", verdict.status.lower())
    return _report(verdict)


@router.get(
    "/videos/{video_id}/provenance",
    response_model=ProvenanceReport,
    summary="Check a stored video's credentials",
)
async def video_provenance(
    video_id: str, services: ServicesDep, principal: PrincipalDep
) -> ProvenanceReport:
    """Reads the C2PA manifest of a finished video this server holds, by its id (OpenReel
    addition), as ``POST /v1/provenance/verify`` would read its downloaded file. Only the
    video's owner and admins may ask (anyone else gets a 404, as for its content); a video
    that is not finished yet is a 409."""
    content = await services.read(services.videos.content, principal, video_id, "video")
    verdict = await asyncio.to_thread(verify_stored, content.source, services.trust_anchors)
    return _report(verdict)


@router.post(
    "/provenance/lookup", response_model=LookupResult, summary="Did this server make this video?"
)
async def lookup(request: Request, services: ServicesDep, principal: PrincipalDep) -> LookupResult:
    """Looks an uploaded video up in the content registry: an exact copy by SHA-256, a
    re-encoded, rescaled or slightly trimmed one by its per-second perceptual hashes."""
    path = await _upload(request, services)
    try:
        found = await asyncio.to_thread(services.content.lookup, path)
    except MediaError:
        # The message names our temporary file; say what matters to the caller instead.
        raise InvalidRequestError(
            "file is not a readable video (an MP4, WebM or other file with a video stream)",
            param="file",
        ) from None
    finally:
        path.unlink(missing_ok=True)
    outcome = "made_here" if found else "not_found"
    await _answered(request, services, principal.id, "provenance.lookup", outcome)
    admin = principal.role is Role.ADMIN
    return LookupResult(
        made_here=bool(found),
        matches=[
            LookupMatchObject(
                video_id=m.video_id if admin or m.owner_id == principal.id else None,
                exact=m.exact,
                distance=m.distance,
                matched_seconds=m.matched_seconds,
                compared_seconds=m.compared_seconds,
                created_at=int(m.created_at),
            )
            for m in found
        ],
    )
