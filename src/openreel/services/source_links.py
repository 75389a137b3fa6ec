"""Short-lived links to an edit's source video, for providers that fetch a video only by URL.

Luma's modify takes the video it changes as a URL that Luma fetches itself; it offers no
upload. So a worker sending an edit there hands it a link: with a bucket, the store's own
presigned URL of the file; otherwise, when the operator has said where the internet reaches
this server (``OPENREEL_PUBLIC_URL``), a link to ``GET /v1/videos/{id}/source`` on it that
names the edit's video id and an expiry and carries an HMAC-SHA256 of both. Its key is
derived from the server's own secret (the data folder's ``secret.key``), so nobody can make
or alter a link; the route serves that one edit's source and nothing else, only until the
expiry, and only while the edit is being made. Without either, providers that need a link
refuse edits at admission (``backends.providers``).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable
from pathlib import PurePath
from urllib.parse import urlencode

from openreel.errors import GoneError, NotFoundError
from openreel.services.videos import Content
from openreel.storage.artifacts import ArtifactStore
from openreel.storage.jobs import JobStore

__all__ = ["LINK_PURPOSE", "SourceLinks", "links_available"]

LINK_PURPOSE = b"openreel source link v1"
"""Mixed into the server secret to make the links' own key, so a link's signature can never
stand for anything else the secret signs (token hashes)."""

_MEDIA_TYPES = {".mp4": "video/mp4", ".webm": "video/webm", ".mov": "video/quicktime"}


def links_available(public_url: str | None, bucket: bool) -> bool:
    """Whether a worker can hand a provider a link to a source: a bucket presigns one, or the
    server has a public address to sign one for."""
    return bucket or bool(public_url)


class SourceLinks:
    """Makes and checks the links (see the module docstring).

    Args:
        secret: The server's secret (``secret.key``); the links' key is derived from it.
        store: The jobs, to find the edit a link names.
        artifacts: Where the source files are (a bucket's presigned URLs take precedence).
        public_url: This server's address as the internet reaches it, or None.
        seconds: How long a link stays valid.
        clock: Unix seconds.
    """

    def __init__(
        self,
        secret: bytes,
        store: JobStore,
        artifacts: ArtifactStore,
        *,
        public_url: str | None,
        seconds: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._key = hmac.new(secret, LINK_PURPOSE, hashlib.sha256).digest()
        self._store = store
        self._artifacts = artifacts
        self._public_url = public_url.rstrip("/") if public_url else None
        self._seconds = seconds
        self._clock = clock

    def url(self, video_id: str, relative: str) -> str | None:
        """A link to the source file ``relative`` of the edit ``video_id``, valid for the
        configured time; None when neither a bucket nor a public address can give one."""
        remote = self._artifacts.remote_object(relative)
        media_type = _MEDIA_TYPES.get(PurePath(relative).suffix.lower(), "video/mp4")
        if remote is not None:
            return remote.presign(
                seconds=self._seconds,
                media_type=media_type,
                disposition=f'inline; filename="{video_id}-source{PurePath(relative).suffix}"',
            )
        if self._public_url is None:
            return None
        expires = int(self._clock()) + self._seconds
        query = urlencode({"expires": expires, "signature": self.signature(video_id, expires)})
        return f"{self._public_url}/v1/videos/{video_id}/source?{query}"

    def signature(self, video_id: str, expires: int) -> str:
        """The hex HMAC-SHA256 of ``video_id`` and ``expires`` under the links' key."""
        message = f"{video_id}.{expires}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def content(self, video_id: str, expires: str, signature: str) -> Content:
        """The source file a link names, once its signature and expiry are checked.

        Raises:
            NotFoundError: The signature does not match (a made-up or altered link), the
                video is gone, or it has no source file (404, saying no more).
            GoneError: The link has expired, or the edit it was made for has ended (410).
        """
        unknown = NotFoundError("no such link", param="signature")
        if not expires.isdigit() or len(expires) > 12:
            raise unknown
        expected = self.signature(video_id, int(expires))
        if not hmac.compare_digest(expected.encode(), signature.encode()):
            raise unknown
        if self._clock() > int(expires):
            raise GoneError("this link has expired", param="expires")
        try:
            job = self._store.get(video_id)
        except NotFoundError:
            raise unknown from None
        source = job.request.source
        if source is None:
            raise unknown
        if job.status.is_final:
            raise GoneError("the edit this link was made for has ended", param="expires")
        suffix = PurePath(source.path).suffix.lower()
        return Content(
            self._artifacts.resolve(source.path),
            _MEDIA_TYPES.get(suffix, "video/mp4"),
            f"{video_id}-source{suffix}",
        )
