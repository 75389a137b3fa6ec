"""``/v1/files``: upload a reference image once, then pass ``input_reference={file_id}``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, UploadFile

from openreel.api.deps import PrincipalDep, ServicesDep, WriterDep
from openreel.api.protocol import FileObject
from openreel.storage.files import StoredFile

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["files"])


def _wire(stored: StoredFile) -> FileObject:
    return FileObject(
        id=stored.id,
        bytes=stored.bytes,
        created_at=int(stored.created_at),
        filename=stored.filename,
    )


@router.post("/files", response_model=FileObject, summary="Upload a reference image")
async def upload_file(
    services: ServicesDep,
    principal: WriterDep,
    file: Annotated[UploadFile, File(description="A PNG, JPEG or WebP image.")],
    purpose: Annotated[str, Form()] = "vision",
) -> FileObject:
    """Stores an image for use as ``input_reference`` by id."""
    del purpose
    data = await file.read()
    stored = await services.write(
        services.uploads.upload, principal, file.filename or "upload", data
    )
    return _wire(stored)


@router.get("/files/{file_id}", response_model=FileObject, summary="Retrieve a file")
async def retrieve_file(file_id: str, services: ServicesDep, principal: PrincipalDep) -> FileObject:
    """An uploaded file's metadata."""
    return _wire(await services.read(services.uploads.get, principal, file_id))
