"""The official ``openai`` SDK, unmodified, against a real OpenReel server process."""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import openai
import pytest
from openai import OpenAI
from PIL import Image
from tests.support.clips import field_clip, figure_clip, yellow_share

from openreel.media.probe import iter_frames, probe

if TYPE_CHECKING:
    from tests.e2e.conftest import LiveServer

SMALL = {"model": "openreel-sketch", "seconds": "2", "size": "160x96"}


@pytest.fixture
def client(live_server: LiveServer) -> Iterator[OpenAI]:
    with OpenAI(
        base_url=live_server.base_url, api_key=live_server.tokens["alice"], max_retries=0
    ) as sdk:
        yield sdk


# The SDK marks its video methods deprecated (OpenAI retired its own service); the wire API
# is what we test, so that one notice is not a failure here.
pytestmark = pytest.mark.filterwarnings("ignore:The Sora API:DeprecationWarning")


def test_sdk_create_and_poll_then_download_all_variants(client: OpenAI, tmp_path: Path) -> None:
    video = client.videos.create_and_poll(prompt="a lighthouse on a stormy coast at dusk", **SMALL)  # type: ignore[arg-type]
    assert video.status == "completed", video.error
    assert video.progress == 100
    assert video.id.startswith("video_")
    assert video.seconds == "2"
    assert video.size == "160x96"
    assert video.completed_at is not None
    assert video.completed_at >= video.created_at
    out = tmp_path / "out.mp4"
    client.videos.download_content(video.id, variant="video").write_to_file(out)
    info = probe(out)
    assert (info.width, info.height, info.codec, info.frames) == (160, 96, "h264", 48)
    thumb = client.videos.download_content(video.id, variant="thumbnail").read()
    assert thumb[:4] == b"RIFF"
    assert thumb[8:12] == b"WEBP"
    sprite = client.videos.download_content(video.id, variant="spritesheet").read()
    assert sprite[:3] == b"\xff\xd8\xff"


def test_sdk_retrieve_and_extra_fields(client: OpenAI) -> None:
    created = client.videos.create(prompt="a balloon over the countryside at dawn", **SMALL)  # type: ignore[arg-type]
    assert created.status in ("queued", "in_progress")
    again = client.videos.retrieve(created.id)
    assert again.id == created.id
    extra = again.model_extra or {}
    assert isinstance(extra.get("seed"), int)
    assert extra.get("fps") == 24
    assert extra.get("audio") is True  # the sketch engine makes sound
    assert extra["plan"]["plan"]["setting"] == "countryside"


def test_sdk_list_auto_paginates_in_both_orders(client: OpenAI, live_server: LiveServer) -> None:
    with OpenAI(
        base_url=live_server.base_url, api_key=live_server.tokens["bob"], max_retries=0
    ) as bob:
        made = [bob.videos.create(prompt=f"boat number {i}", **SMALL).id for i in range(5)]  # type: ignore[arg-type]
        newest_first = [v.id for v in bob.videos.list(limit=2)]
        assert newest_first == list(reversed(made))
        oldest_first = [v.id for v in bob.videos.list(limit=2, order="asc")]
        assert oldest_first == made
    assert not set(made) & {v.id for v in client.videos.list(limit=100)}


def test_sdk_remix_keeps_seed_and_settings(client: OpenAI) -> None:
    source = client.videos.create_and_poll(prompt="a castle in the mountains", **SMALL)  # type: ignore[arg-type]
    remix = client.videos.remix(source.id, prompt="a castle in the mountains at night")
    assert remix.remixed_from_video_id == source.id
    assert (remix.model_extra or {})["seed"] == (source.model_extra or {})["seed"]
    assert remix.size == source.size
    assert remix.seconds == source.seconds
    done = client.videos.poll(remix.id, poll_interval_ms=200)
    assert done.status == "completed"


def test_sdk_delete_returns_video_deleted(client: OpenAI) -> None:
    video = client.videos.create_and_poll(prompt="a whale at sea", **SMALL)  # type: ignore[arg-type]
    deleted = client.videos.delete(video.id)
    assert (deleted.id, deleted.object, deleted.deleted) == (video.id, "video.deleted", True)
    with pytest.raises(openai.NotFoundError):
        client.videos.retrieve(video.id)


def test_sdk_error_classes(client: OpenAI, live_server: LiveServer) -> None:
    with pytest.raises(openai.BadRequestError) as bad:
        client.videos.create(prompt="a boat", model="openreel-sketch", seconds="0", size="160x96")  # type: ignore[arg-type]
    assert bad.value.param == "seconds"
    assert bad.value.code == "invalid_value"
    with pytest.raises(openai.BadRequestError) as bad_size:
        client.videos.create(prompt="a boat", model="openreel-sketch", seconds="1", size="161x96")  # type: ignore[arg-type]
    assert bad_size.value.param == "size"
    with pytest.raises(openai.BadRequestError) as bad_model:
        client.videos.create(prompt="a boat", model="sora-2", seconds="1", size="160x96")
    assert bad_model.value.param == "model"
    assert bad_model.value.code == "model_not_found"
    with (
        OpenAI(base_url=live_server.base_url, api_key="or_notarealtoken", max_retries=0) as nobody,
        pytest.raises(openai.AuthenticationError),
    ):
        nobody.videos.list()
    with pytest.raises(openai.NotFoundError):
        client.videos.retrieve("video_" + "0" * 32)


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), (0, 0, 255)).save(buffer, "PNG")
    return buffer.getvalue()


def test_sdk_reference_image_as_file_or_data_url_then_extend(client: OpenAI) -> None:
    png = _png()
    data_url = "data:image/png;base64," + base64.b64encode(png).decode()
    by_file = client.videos.create(
        prompt="a quiet meadow",
        input_reference=("ref.png", png, "image/png"),
        **SMALL,  # type: ignore[arg-type]
    )
    # This SDK refuses an object in input_reference itself (it expects a file there), so the
    # object goes in extra_body, which it sends as input_reference[image_url] form fields.
    by_url = client.videos.create(
        prompt="a quiet meadow",
        extra_body={"input_reference": {"image_url": data_url}},
        **SMALL,  # type: ignore[arg-type]
    )
    for video in (by_file, by_url):
        assert "backdrop from input_reference" in (video.model_extra or {})["plan"]["summary"]
    source = client.videos.poll(by_url.id, poll_interval_ms=200)
    assert source.status == "completed", source.error
    # Likewise for the video to extend: the object goes in extra_body, sent as video[id].
    extension = client.videos.extend(
        prompt="the meadow at dusk",
        seconds="1",  # type: ignore[arg-type]
        video=openai.omit,  # type: ignore[arg-type]
        extra_body={"video": {"id": source.id}},
    )
    assert (extension.model_extra or {})["extended_from_video_id"] == source.id
    assert extension.seconds == "3"
    with pytest.raises(openai.BadRequestError) as bad:
        client.videos.extend(
            prompt="more",
            seconds="0",  # type: ignore[arg-type]
            video=openai.omit,  # type: ignore[arg-type]
            extra_body={"video": {"id": source.id}},
        )
    assert bad.value.param == "seconds"


def test_sdk_every_video_method_end_to_end(
    client: OpenAI, live_server: LiveServer, tmp_path: Path
) -> None:
    """Every video method of the SDK, unmodified, one after another against one server:
    create, create_and_poll, poll, retrieve, list, download_content, remix, extend and edit
    with an uploaded file, create_character, get_character, a prompt naming the character,
    and delete; then edit by ``{id}`` with a plain HTTP client (this SDK sends only files)."""
    small = {"model": "openreel-sketch", "seconds": "1", "size": "320x192"}
    created = client.videos.create(prompt="a lighthouse on the coast with birds", **small)  # type: ignore[arg-type]
    assert created.status in ("queued", "in_progress")
    polled = client.videos.poll(created.id, poll_interval_ms=100)
    assert polled.status == "completed", polled.error
    assert client.videos.retrieve(created.id).status == "completed"
    assert created.id in {v.id for v in client.videos.list(limit=100)}
    out = tmp_path / "created.mp4"
    client.videos.download_content(created.id).write_to_file(out)
    assert probe(out).frames == 24

    remix = client.videos.create_and_poll(  # create_and_poll is a create, then a poll
        prompt="a lighthouse on the coast with birds at dusk",
        **small,  # type: ignore[arg-type]
    )
    assert remix.status == "completed"
    remixed = client.videos.remix(remix.id, prompt="a lighthouse at night")
    assert remixed.remixed_from_video_id == remix.id

    upload = field_clip(tmp_path / "field.mp4", size=(160, 96))
    extended = client.videos.extend(
        prompt="a sailboat on a lake",
        seconds="1",  # type: ignore[arg-type]
        video=("field.mp4", upload, "video/mp4"),
    )
    assert extended.seconds == "2.5"  # 1.5 s uploaded + 1 s new
    assert client.videos.poll(extended.id, poll_interval_ms=100).status == "completed"

    edited = client.videos.edit(prompt="make it snow", video=("field.mp4", upload, "video/mp4"))
    assert (edited.model_extra or {})["plan"]["layers"]["weather"] == "snow"
    assert client.videos.poll(edited.id, poll_interval_ms=100).status == "completed"

    by_id = httpx.post(
        f"{live_server.base_url}/videos/edits",
        json={"prompt": "at night", "video": {"id": created.id}},
        headers={"Authorization": f"Bearer {live_server.tokens['alice']}"},
        timeout=30,
    )
    assert by_id.status_code == 200, by_id.text
    assert by_id.json()["edited_from_video_id"] == created.id
    night = client.videos.poll(by_id.json()["id"], poll_interval_ms=100)
    assert night.status == "completed"
    night_file = tmp_path / "night.mp4"
    client.videos.download_content(night.id).write_to_file(night_file)
    day_mean = sum(f.mean() for f in iter_frames(out))
    assert sum(f.mean() for f in iter_frames(night_file)) < 0.6 * day_mean

    character = client.videos.create_character(
        name="Tova", video=("tova.mp4", figure_clip(tmp_path / "tova.mp4"), "video/mp4")
    )
    assert character.name == "Tova"
    assert character.id is not None
    assert client.videos.get_character(character.id).name == "Tova"
    starring = client.videos.create_and_poll(
        prompt="Tova walks by a quiet lake in the day",
        **small,  # type: ignore[arg-type]
    )
    assert starring.status == "completed", starring.error
    plan = (starring.model_extra or {})["plan"]
    assert plan["character"]["id"] == character.id
    starring_file = tmp_path / "tova-video.mp4"
    client.videos.download_content(starring.id).write_to_file(starring_file)
    first = next(iter_frames(starring_file))
    x, y = plan["character"]["path"]["start"]
    half = int(plan["character"]["path"]["height"] * 192 / 2)
    region = first[int(y * 192) - half : int(y * 192) + half, int(x * 320) - 20 : int(x * 320) + 20]
    assert yellow_share(region) > 0.2

    deleted = client.videos.delete(starring.id)
    assert deleted.deleted
    with OpenAI(
        base_url=live_server.base_url, api_key=live_server.tokens["bob"], max_retries=0
    ) as bob:
        with pytest.raises(openai.NotFoundError):
            bob.videos.get_character(character.id)
        with pytest.raises(openai.NotFoundError):
            bob.videos.edit(
                prompt="at night", video=openai.omit, extra_body={"video": {"id": created.id}}
            )  # type: ignore[arg-type]
