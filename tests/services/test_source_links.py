"""The links a provider that fetches a video by URL is given (services/source_links.py): the
bucket's presigned URL where artifacts are in one, a link signed by this server on its public
address otherwise, and none without either (Luma then refuses edits at admission)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from pydantic import SecretStr

from openreel.config import StorageConfig
from openreel.services.source_links import SourceLinks
from openreel.storage.artifacts import ArtifactStore
from openreel.storage.db import Database
from openreel.storage.jobs import JobStore
from openreel.storage.objects import S3ObjectStore

VIDEO = "video_" + "ab" * 16


def _links(tmp_path: Path, artifacts: ArtifactStore, public_url: str | None) -> SourceLinks:
    store = JobStore(Database.for_data_dir(tmp_path / "db"))
    return SourceLinks(
        b"s" * 32, store, artifacts, public_url=public_url, seconds=600, clock=lambda: 1000.0
    )


def test_a_bucket_gives_its_own_presigned_url_of_the_source(tmp_path: Path) -> None:
    config = StorageConfig(
        bucket="reels",
        region="eu-west-1",
        prefix="openreel/",
        access_key_id=SecretStr("AKIDEXAMPLE"),
        secret_access_key=SecretStr("secret-example"),
    )
    remote = S3ObjectStore(config)  # signing a URL asks the bucket nothing
    links = _links(tmp_path, ArtifactStore(tmp_path / "artifacts", remote), "https://reel.example")
    url = links.url(VIDEO, f"jobs/{VIDEO}/source.mp4")
    assert url is not None
    parts = urlsplit(url)
    assert parts.path.endswith(f"/openreel/jobs/{VIDEO}/source.mp4")
    query = parse_qs(parts.query)
    assert query["X-Amz-Expires"] == ["600"]
    assert query["response-content-type"] == ["video/mp4"]
    assert "reel.example" not in url  # the bucket serves it, not this server


def test_a_public_address_gives_a_signed_link_and_nothing_gives_none(tmp_path: Path) -> None:
    artifacts = ArtifactStore(tmp_path / "artifacts")
    links = _links(tmp_path, artifacts, "https://reel.example/base/")
    url = links.url(VIDEO, f"jobs/{VIDEO}/source.webm")
    assert url is not None
    parts = urlsplit(url)
    assert (parts.netloc, parts.path) == ("reel.example", f"/base/v1/videos/{VIDEO}/source")
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert query["expires"] == "1600"
    assert query["signature"] == links.signature(VIDEO, 1600)
    # Another key (another server) signs differently; another video or expiry too.
    other = SourceLinks(
        b"t" * 32,
        JobStore(Database.for_data_dir(tmp_path / "db2")),
        artifacts,
        public_url="https://reel.example",
        seconds=600,
    )
    assert other.signature(VIDEO, 1600) != query["signature"]
    assert links.signature(VIDEO, 1601) != query["signature"]
    assert links.signature("video_" + "cd" * 16, 1600) != query["signature"]
    assert _links(tmp_path, artifacts, None).url(VIDEO, f"jobs/{VIDEO}/source.mp4") is None


@pytest.mark.parametrize("expires", ["", "-5", "1e9", "9" * 20])
def test_a_malformed_expiry_is_unknown(tmp_path: Path, expires: str) -> None:
    from openreel.errors import NotFoundError

    links = _links(tmp_path, ArtifactStore(tmp_path / "artifacts"), "https://reel.example")
    with pytest.raises(NotFoundError):
        links.content(VIDEO, expires, links.signature(VIDEO, 1600))
