"""Objects in an S3-compatible bucket: the shared copy of every artifact when machines scale out.

API servers and workers on different machines see the same videos, previews and uploads
because each file is also an object here, keyed by its path under the artifact root
(``jobs/<video id>/video.mp4``), behind the operator's key prefix. Keys are checked against
a strict shape before any request, and :class:`~openreel.storage.artifacts.ArtifactStore`
derives them only from validated ids and fixed names, so user input never picks a key.

boto3 is imported when a store is built, not at import time, so installations without the
``openreel[s3]`` extra never load it. Every boto3/botocore failure is mapped here to an error
of our tree: a missing key is :class:`~openreel.errors.NotFoundError`, an unsatisfiable range
:class:`~openreel.errors.RangeNotSatisfiableError`, unusable settings (no such bucket, no or
wrong credentials, an endpoint that does not answer) :class:`~openreel.errors.ConfigurationError`
naming the setting, anything else :class:`~openreel.errors.StorageError`. Messages name the
bucket, the endpoint and the key, never a credential.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import IO, Any

from openreel.config import StorageConfig
from openreel.errors import (
    ConfigurationError,
    NotFoundError,
    OpenReelError,
    RangeNotSatisfiableError,
    StorageError,
)
from openreel.media.partial import partial_path

__all__ = ["CHUNK_BYTES", "ObjectStream", "RemoteObject", "S3ObjectStore"]

CHUNK_BYTES = 256 * 1024
"""Bytes per chunk when a download is relayed: big enough to keep a thread-pool hop per
chunk cheap, small enough that a relayed video never sits in memory."""

_KEY = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9._-]*(/[A-Za-z0-9_-][A-Za-z0-9._-]*)*$")
_MIB = 1024 * 1024
_MISSING = frozenset({"NoSuchKey", "404", "NotFound"})
_NO_BUCKET = frozenset({"NoSuchBucket"})
_DENIED = frozenset(
    {"AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "403", "Forbidden"}
)
_SETTING = "OPENREEL_STORAGE__"


@dataclass(frozen=True, slots=True)
class ObjectStream:
    """An object's bytes on their way out, opened by :meth:`S3ObjectStore.open`.

    Attributes:
        chunks: The body, :data:`CHUNK_BYTES` at a time; iterating it to the end (or closing
            it) releases the connection.
        length: How many bytes ``chunks`` yields.
        size: The whole object's size.
        content_range: ``bytes START-END/SIZE`` when a range was asked for and honoured,
            else None.
        etag: The object's ETag (quoted, as S3 sends it), for caches and ``If-Range``.
        last_modified: An HTTP date, or None.
    """

    chunks: Iterator[bytes]
    length: int
    size: int
    content_range: str | None
    etag: str | None
    last_modified: str | None


class S3ObjectStore:
    """One bucket (and key prefix) behind boto3's thread-safe client.

    Args:
        config: The storage settings; ``config.bucket`` must be set.
        client: A ready boto3 S3 client (tests); by default one is built from ``config``.

    Raises:
        ConfigurationError: No bucket set, or boto3 is not installed.
    """

    def __init__(self, config: StorageConfig, *, client: Any = None) -> None:
        if config.bucket is None:
            raise ConfigurationError(f"{_SETTING}BUCKET is not set")
        self._config = config
        self._bucket = config.bucket
        self._prefix = config.prefix
        self._client = client if client is not None else _client(config)
        self._transfer = _transfer_config(config.multipart_mb * _MIB)

    @property
    def bucket(self) -> str:
        """The bucket's name."""
        return self._bucket

    def key(self, name: str) -> str:
        """The full object key of ``name`` (a path like ``jobs/<id>/video.mp4``).

        Raises:
            NotFoundError: ``name`` is not a plain relative path of safe characters.
        """
        if not isinstance(name, str) or not _KEY.fullmatch(name) or len(name) > 512:
            raise NotFoundError(f"no stored object named {name!r}")
        return self._prefix + name

    def check(self) -> None:
        """Asks the bucket whether it exists and these credentials may use it (HeadBucket).

        Called once when a server or worker starts, so bad settings stop it with a message
        that names the setting instead of failing the first video.

        Raises:
            ConfigurationError: No such bucket, missing or refused credentials, or the
                endpoint does not answer.
        """
        try:
            self._client.head_bucket(Bucket=self._bucket)
        except Exception as exc:
            mapped = self._error(exc, "check the bucket")
            reason = "no such bucket" if isinstance(mapped, NotFoundError) else mapped.message
            if isinstance(mapped, StorageError | NotFoundError):
                raise ConfigurationError(
                    f"cannot use {_SETTING}BUCKET={self._bucket!r}{self._where()}: {reason}"
                ) from None
            raise mapped from None

    def upload(self, name: str, source: Path | IO[bytes], content_type: str | None) -> None:
        """Puts a file or a readable binary stream as object ``name``.

        Files of at least ``multipart_mb`` MiB go up in parts (boto3's managed transfer);
        if any part fails the upload is aborted, so a failed upload never leaves an object
        (nor stored parts) behind and an older object of the same key stays as it was.

        Raises:
            NotFoundError: A malformed name.
            StorageError: The upload failed (the source's own read errors included).
            ConfigurationError: Credentials are missing or refused.
        """
        key = self.key(name)
        extra = {"ContentType": content_type} if content_type else None
        try:
            if isinstance(source, Path):
                self._client.upload_file(
                    str(source), self._bucket, key, ExtraArgs=extra, Config=self._transfer
                )
            else:
                self._client.upload_fileobj(
                    source, self._bucket, key, ExtraArgs=extra, Config=self._transfer
                )
        except Exception as exc:
            raise self._error(exc, f"upload {key!r}") from None

    def download(self, name: str, target: Path) -> None:
        """Fetches object ``name`` into ``target`` atomically (a hidden ``.part`` file, then a
        rename), so a reader of ``target`` never sees half an object.

        Raises:
            NotFoundError: No such object, or a malformed name.
            StorageError: The download failed.
        """
        key = self.key(name)
        target.parent.mkdir(parents=True, exist_ok=True)
        temp = partial_path(target)
        temp_name = str(temp)
        try:
            try:
                self._client.download_file(self._bucket, key, temp_name, Config=self._transfer)
            except Exception as exc:
                raise self._error(exc, f"download {key!r}") from None
            os.replace(temp, target)
        finally:
            temp.unlink(missing_ok=True)

    def exists(self, name: str) -> bool:
        """Whether object ``name`` exists (HeadObject).

        Raises:
            StorageError: The bucket could not say.
        """
        key = self.key(name)
        try:
            self._client.head_object(Bucket=self._bucket, Key=key)
        except Exception as exc:
            mapped = self._error(exc, f"look up {key!r}")
            if isinstance(mapped, NotFoundError):
                return False
            raise mapped from None
        return True

    def open(self, name: str, byte_range: str | None = None) -> ObjectStream:
        """Starts reading object ``name``, or the part of it that ``byte_range`` names.

        Args:
            name: The object's name.
            byte_range: A single HTTP byte range (``bytes=0-99``, ``bytes=100-``,
                ``bytes=-500``) passed on to GetObject as it is; None for the whole object.

        Raises:
            NotFoundError: No such object.
            RangeNotSatisfiableError: The range starts past the end (carries the size).
            StorageError: The request failed.
        """
        key = self.key(name)
        params: dict[str, str] = {"Bucket": self._bucket, "Key": key}
        if byte_range is not None:
            params["Range"] = byte_range
        try:
            response = self._client.get_object(**params)
        except Exception as exc:
            raise self._error(exc, f"read {key!r}", name=name) from None
        length = int(response["ContentLength"])
        content_range = response.get("ContentRange") if byte_range is not None else None
        size = length
        if content_range:
            size = int(str(content_range).rpartition("/")[2])
        modified = response.get("LastModified")
        return ObjectStream(
            chunks=self._chunks(response["Body"], key),
            length=length,
            size=size,
            content_range=content_range or None,
            etag=response.get("ETag"),
            last_modified=None if modified is None else _http_date(modified),
        )

    def presign(self, name: str, *, seconds: int, media_type: str, disposition: str) -> str:
        """A URL that GETs object ``name`` for ``seconds``, answered with these headers.

        The URL is signed locally (no request to the bucket); the bucket serves it with the
        given ``Content-Type`` and ``Content-Disposition`` (ResponseContentType,
        ResponseContentDisposition), so a redirected client gets the same download as a
        relayed one.

        Raises:
            NotFoundError: A malformed name.
            ConfigurationError: No credentials to sign with.
        """
        key = self.key(name)
        try:
            url: str = self._client.generate_presigned_url(
                "get_object",
                Params={
                    "Bucket": self._bucket,
                    "Key": key,
                    "ResponseContentType": media_type,
                    "ResponseContentDisposition": disposition,
                },
                ExpiresIn=seconds,
            )
        except Exception as exc:
            raise self._error(exc, f"sign a URL for {key!r}") from None
        return url

    def delete(self, names: list[str]) -> None:
        """Deletes objects by name in one request; names that do not exist are fine.

        Raises:
            NotFoundError: A malformed name (nothing is deleted).
            StorageError: The bucket refused or failed some deletions.
        """
        keys = [self.key(name) for name in names]
        if not keys:
            return
        try:
            response = self._client.delete_objects(
                Bucket=self._bucket,
                Delete={"Objects": [{"Key": k} for k in keys], "Quiet": True},
            )
        except Exception as exc:
            raise self._error(exc, f"delete {keys[0]!r}") from None
        errors = response.get("Errors") or []
        if errors:
            first = errors[0]
            raise StorageError(
                f"bucket {self._bucket!r} did not delete {first.get('Key')!r}: "
                f"{first.get('Code')} {first.get('Message', '')}".strip()
            )

    # ----- internals ---------------------------------------------------------------------------

    def _chunks(self, body: Any, key: str) -> Iterator[bytes]:
        """The body in chunks; the connection goes back to the pool when done or closed."""
        try:
            try:
                yield from body.iter_chunks(CHUNK_BYTES)
            except Exception as exc:
                raise self._error(exc, f"read {key!r}") from None
        finally:
            body.close()

    def _where(self) -> str:
        endpoint = self._config.endpoint_url
        return f" at {_SETTING}ENDPOINT_URL={endpoint!r}" if endpoint else ""

    def _error(self, exc: Exception, doing: str, *, name: str | None = None) -> OpenReelError:
        """Our error for a boto3/botocore failure while ``doing`` something."""
        if isinstance(exc, OpenReelError):
            return exc
        from botocore import exceptions as boto

        if isinstance(exc, boto.NoCredentialsError | boto.PartialCredentialsError):
            return ConfigurationError(
                f"no credentials for bucket {self._bucket!r}: set {_SETTING}ACCESS_KEY_ID and "
                f"{_SETTING}SECRET_ACCESS_KEY, or give boto3 its own (AWS_ACCESS_KEY_ID, "
                "~/.aws/credentials, an instance or workload role)"
            )
        if isinstance(exc, boto.EndpointConnectionError | boto.ConnectTimeoutError):
            endpoint = self._config.endpoint_url or "AWS S3"
            return StorageError(
                f"could not {doing}: the S3 endpoint {endpoint!r} does not answer "
                f"(set by {_SETTING}ENDPOINT_URL)"
            )
        if isinstance(exc, boto.ClientError):
            error = exc.response.get("Error", {})
            code = str(error.get("Code", ""))
            if code == "InvalidRange":
                size = error.get("ActualObjectSize")
                if size is None and name is not None:
                    size = self._size(name)
                return RangeNotSatisfiableError(int(size or 0))
            if code in _NO_BUCKET:
                return ConfigurationError(
                    f"no bucket {self._bucket!r}{self._where()} (set by {_SETTING}BUCKET)"
                )
            if code in _MISSING:
                return NotFoundError(f"could not {doing}: no such object in the artifact bucket")
            if code in _DENIED:
                return ConfigurationError(
                    f"bucket {self._bucket!r}{self._where()} refused the credentials ({code}) "
                    f"trying to {doing}; check {_SETTING}ACCESS_KEY_ID and "
                    f"{_SETTING}SECRET_ACCESS_KEY (or boto3's own credentials)"
                )
            return StorageError(f"bucket {self._bucket!r} failed to {doing}: {code}")
        if isinstance(exc, boto.BotoCoreError | OSError):
            # Connection drops, read errors of the source, checksum mismatches...
            return StorageError(f"could not {doing} in bucket {self._bucket!r}: {exc}")
        name_of = type(exc).__name__
        return StorageError(f"could not {doing} in bucket {self._bucket!r} ({name_of})")

    def _size(self, name: str) -> int | None:
        with contextlib.suppress(Exception):
            head = self._client.head_object(Bucket=self._bucket, Key=self.key(name))
            return int(head["ContentLength"])
        return None


@dataclass(frozen=True, slots=True)
class RemoteObject:
    """One artifact in the bucket, as a download route needs it.

    Attributes:
        store: The bucket.
        name: The artifact's path under the root (its key without the prefix).
    """

    store: S3ObjectStore
    name: str

    def open(self, byte_range: str | None = None) -> ObjectStream:
        """See :meth:`S3ObjectStore.open`."""
        return self.store.open(self.name, byte_range)

    def presign(self, *, seconds: int, media_type: str, disposition: str) -> str:
        """See :meth:`S3ObjectStore.presign`."""
        return self.store.presign(
            self.name, seconds=seconds, media_type=media_type, disposition=disposition
        )


def _client(config: StorageConfig) -> Any:
    """A boto3 S3 client for ``config``; credentials only when both halves are set."""
    try:
        import boto3
        from botocore.config import Config
    except ImportError:
        raise ConfigurationError(
            f"{_SETTING}BUCKET is set but boto3 is not installed; pip install 'openreel[s3]'"
        ) from None
    options: dict[str, Any] = {}
    if config.access_key_id is not None and config.secret_access_key is not None:
        options["aws_access_key_id"] = config.access_key_id.get_secret_value()
        options["aws_secret_access_key"] = config.secret_access_key.get_secret_value()
    session = boto3.session.Session(region_name=config.region, **options)
    return session.client(
        "s3",
        endpoint_url=config.endpoint_url,
        config=Config(
            signature_version="s3v4",
            connect_timeout=10,
            read_timeout=60,
            retries={"max_attempts": 3, "mode": "standard"},
            # Checksums only where S3 requires them: many S3-compatible servers reject the
            # newer default trailing checksums.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        ),
    )


def _transfer_config(threshold: int) -> Any:
    try:
        from boto3.s3.transfer import TransferConfig
    except ImportError:  # pragma: no cover - _client already refused
        raise ConfigurationError("pip install 'openreel[s3]'") from None
    return TransferConfig(multipart_threshold=threshold, multipart_chunksize=threshold)


def _http_date(moment: datetime) -> str:
    return format_datetime(moment.astimezone(UTC), usegmt=True)
