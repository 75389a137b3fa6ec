"""Uploaded reference images (``POST /v1/files``), checked before they are kept."""

from __future__ import annotations

import secrets

from openreel.domain import ImageInput, Principal
from openreel.errors import InvalidRequestError, NotFoundError
from openreel.media.images import read_image
from openreel.storage.artifacts import ArtifactStore
from openreel.storage.files import FileStore, StoredFile

__all__ = ["UploadService"]

_SUFFIX = {"image/png": ".png", "image/jpeg": ".jpg", "image/webp": ".webp"}


class UploadService:
    """Stores validated images for later use as ``input_reference`` by file id."""

    def __init__(self, files: FileStore, artifacts: ArtifactStore) -> None:
        self._files = files
        self._artifacts = artifacts

    def upload(self, principal: Principal, filename: str, data: bytes) -> StoredFile:
        """Checks and keeps an image; returns its record (id ``file-...``)."""
        image = read_image(data, param="file")
        file_id = "file-" + secrets.token_hex(16)
        path = self._artifacts.upload_path(file_id, _SUFFIX[image.media_type])
        self._artifacts.write_bytes_atomic(path, data)
        return self._files.create(
            principal.id,
            filename=filename[:255] or "upload",
            media_type=image.media_type,
            data_path=self._artifacts.relative(path),
            bytes=len(data),
            file_id=file_id,
        )

    def get(self, principal: Principal, file_id: str) -> StoredFile:
        """The principal's file (404 for unknown ids and other people's files)."""
        return self._files.get(file_id, principal.id)

    def image(self, principal: Principal, file_id: str) -> ImageInput:
        """The principal's uploaded image, ready to use as ``input_reference``."""
        try:
            stored = self._files.get(file_id, principal.id)
        except NotFoundError:
            raise InvalidRequestError.for_value(
                "input_reference",
                file_id,
                "file_id must name an image you uploaded with POST /v1/files",
            ) from None
        return read_image(
            self._artifacts.resolve(stored.path).read_bytes(), param="input_reference"
        )
