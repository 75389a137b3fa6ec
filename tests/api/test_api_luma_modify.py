"""Luma's modify end to end: an edit sent to Luma with a short-lived signed link to its source,
which the fake Luma (built from its SDK's ``VideoModifyParams``) fetches from this server's
``GET /v1/videos/{id}/source``; the link's expiry and tampering; and the refusal at admission
where the server has no public address to give Luma a link."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import pytest
from pydantic import SecretStr
from starlette.testclient import TestClient
from tests.support.clips import field_clip
from tests.support.hosted.fake_luma import KEY, PREFIX, FakeLuma

from openreel.backends.hosted import luma
from openreel.backends.hosted.base import PollPolicy
from openreel.config import ProviderKeys

if TYPE_CHECKING:
    from pathlib import Path

    from tests.api.conftest import Api

PUBLIC = "https://reel.example/openreel"


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeLuma:
    """The fake Luma every Luma backend the servers build talks to, polled without pause."""
    scripted = FakeLuma(queued=0, dreaming=1)
    build = functools.partial(
        luma.build_luma,
        transport=scripted.transport(),
        policy=PollPolicy(interval_s=0.01, cancel_check_s=0.01),
    )
    monkeypatch.setattr(luma, "build_luma", build)
    return scripted


def _edit(api: Api, data: bytes, model: str = "luma/ray-flash-2") -> Any:
    return api.client.post(
        "/v1/videos/edits",
        data={"prompt": "make it snow", "model": model},
        files={"video": ("field.mp4", data, "video/mp4")},
        headers=api.auth(),
    )


def _luma_api(make_api: Callable[..., Api], **settings: Any) -> Api:
    return make_api(providers=ProviderKeys(luma=SecretStr(KEY)), **settings)


def test_luma_edits_by_a_signed_link_that_luma_fetches(
    make_api: Callable[..., Api], fake: FakeLuma, tmp_path: Path
) -> None:
    api = _luma_api(make_api, public_url=PUBLIC + "/")
    models = api.client.get("/v1/models", headers=api.auth()).json()["data"]
    ray = next(m for m in models if m["id"] == "luma/ray-flash-2")
    assert "edit" in ray["capabilities"]["operations"]
    luma_fetch = TestClient(api.app)  # Luma, from outside: no token, no cookie
    fake.fetch = lambda url: luma_fetch.get(url.removeprefix(PUBLIC))
    data = field_clip(tmp_path / "field.mp4", frames=8, size=(160, 96))
    response = _edit(api, data)
    assert response.status_code == 200, response.text
    video = response.json()
    assert video["plan"]["edit"]["endpoint"] == "/generations/video/modify"
    done = api.wait(video["id"])
    assert done["status"] == "completed", done
    assert (done["size"], done["seconds"]) == ("160x96", "1")
    # Luma was sent the modify, with a link under the public address that it fetched itself
    # while the edit was being made, getting exactly the uploaded file.
    assert f"POST {PREFIX}/generations/video/modify" in fake.requests
    (generation,) = fake.generations.values()
    assert generation.body["generation_type"] == "modify_video"
    assert generation.body["mode"] == luma.MODIFY_MODE
    link = generation.body["media"]["url"]  # type: ignore[index]
    assert link.startswith(f"{PUBLIC}/v1/videos/{video['id']}/source?")
    assert fake.fetched == [(link, 200, data)]
    # Once the edit has ended its link serves nothing more.
    gone = luma_fetch.get(link.removeprefix(PUBLIC))
    api.error(gone, 410, code="expired")


def test_a_source_link_refuses_tampering_and_expiry(
    make_api: Callable[..., Api], fake: FakeLuma, tmp_path: Path
) -> None:
    """A signed link works while valid; one altered in any part is 404 and one past its
    expiry is 410, and nothing but the source is reachable through it."""
    api = _luma_api(make_api, public_url=PUBLIC)
    links = api.server.services.source_links
    assert links is not None
    fake.never_finish = True  # the edit stays in progress: its link stays live
    response = _edit(api, field_clip(tmp_path / "field.mp4", frames=8, size=(160, 96)))
    assert response.status_code == 200, response.text
    video_id = response.json()["id"]
    api.wait(video_id, until=lambda _: bool(fake.fetched))
    link = urlsplit(fake.generations[next(iter(fake.generations))].body["media"]["url"])  # type: ignore[index]
    query = {k: v[0] for k, v in parse_qs(link.query).items()}
    path = f"/v1/videos/{video_id}/source"
    luma_fetch = TestClient(api.app)
    ok = luma_fetch.get(path, params=query)
    assert ok.status_code == 200
    assert ok.content == (api.job_dir(video_id) / "source.mp4").read_bytes()
    later = str(int(query["expires"]) + 3600)
    other = api.create()["id"]
    for changed in (
        {"signature": query["signature"][:-1] + ("0" if query["signature"][-1] != "0" else "1")},
        {"expires": later},  # a longer life is another link
        {"signature": ""},
        {"expires": "soon"},
    ):
        api.error(luma_fetch.get(path, params=query | changed), 404)
    api.error(luma_fetch.get(f"/v1/videos/{other}/source", params=query), 404)
    # Signed right but past its time: gone.
    past = 1_000_000
    expired = {"expires": str(past), "signature": links.signature(video_id, past)}
    api.error(luma_fetch.get(path, params=expired), 410, code="expired")


def test_luma_refuses_edits_at_admission_without_a_public_address(
    make_api: Callable[..., Api], fake: FakeLuma, tmp_path: Path
) -> None:
    api = _luma_api(make_api)
    before = set(api.job_dir("x").parent.iterdir()) if api.job_dir("x").parent.exists() else set()
    error = api.error(
        _edit(api, field_clip(tmp_path / "field.mp4", frames=8, size=(160, 96))),
        400,
        param="model",
    )
    assert "luma/ray-flash-2 cannot edit" in error["message"]
    assert "OPENREEL_PUBLIC_URL" in error["message"]
    assert fake.requests == []
    after = set(api.job_dir("x").parent.iterdir()) if api.job_dir("x").parent.exists() else set()
    assert after == before  # the upload was not kept
