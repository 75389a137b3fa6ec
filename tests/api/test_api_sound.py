"""``audio`` on the API: on by default wherever the model makes sound, off on request (a file
with no audio stream), kept by remixes and extensions, refused for a silent model, and
said by ``/v1/models`` and the Video object (which the official SDK's type accepts)."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

import av
from openai.types.video import Video as SdkVideo
from tests.support.hosted import sdk

from openreel.config import ProviderKeys

if TYPE_CHECKING:
    from collections.abc import Callable

    from tests.api.conftest import Api


def _sound_seconds(data: bytes) -> tuple[float, float | None]:
    """The picture's length and the sound's (None with no audio stream)."""
    with av.open(io.BytesIO(data)) as container:
        video = container.streams.video[0]
        picture = float(video.duration * video.time_base)
        if not container.streams.audio:
            return picture, None
        audio = container.streams.audio[0]
        assert (audio.codec_context.name, audio.rate) == ("aac", 48_000)
        return picture, float(audio.duration * audio.time_base)


def test_sound_by_default_off_on_request_kept_by_remix_and_extension(api: Api) -> None:
    # The SDK's own type takes the object with its extra field (at a size the SDK knows).
    listed = api.create(size="1280x720", seconds="1", fps=1)
    assert sdk.reply_issues(SdkVideo, listed) == []
    assert (SdkVideo.model_validate(listed).model_extra or {})["audio"] is True
    made = api.make()
    assert made["audio"] is True
    picture, sound = _sound_seconds(api.content(made["id"]))
    assert sound is not None
    assert abs(sound - picture) <= 1024 / 48_000

    quiet = api.make(audio=False)
    assert quiet["audio"] is False
    assert _sound_seconds(api.content(quiet["id"]))[1] is None

    remix = api.client.post(
        f"/v1/videos/{quiet['id']}/remix", json={"prompt": "a boat at night"}, headers=api.auth()
    )
    assert remix.status_code == 200, remix.text
    assert remix.json()["audio"] is False  # as the source

    extended = api.client.post(
        "/v1/videos/extensions",
        json={"prompt": "the boat sails on", "video": {"id": made["id"]}, "seconds": 1},
        headers=api.auth(),
    )
    assert extended.status_code == 200, extended.text
    assert extended.json()["audio"] is True
    done = api.wait(extended.json()["id"])
    assert done["status"] == "completed", done
    picture, sound = _sound_seconds(api.content(done["id"]))
    assert picture == 2.0
    assert sound is not None
    assert abs(sound - picture) <= 1024 / 48_000


def test_a_silent_model_refuses_audio_and_models_say_which_make_sound(
    make_api: Callable[..., Api],
) -> None:
    keyed = make_api(providers=ProviderKeys(runway="rw-key"))  # type: ignore[arg-type]
    models = keyed.client.get("/v1/models", headers=keyed.auth()).json()["data"]
    sound: dict[str, Any] = {m["id"]: m["capabilities"]["audio"] for m in models}
    assert sound["openreel-sketch"] is True
    assert sound["runway/veo3.1"] is True
    assert sound["runway/gen4.5"] is False
    assert all(m["card"]["sound"] == m["capabilities"]["audio"] for m in models)
    body = {"prompt": "a boat", "model": "runway/gen4.5", "seconds": "4", "size": "1280x720"}
    refused = keyed.client.post("/v1/videos", json=body | {"audio": True}, headers=keyed.auth())
    error = keyed.error(refused, 400, param="audio")
    assert "runway/gen4.5" in error["message"]
    bad = keyed.client.post("/v1/videos", json=body | {"audio": "loud"}, headers=keyed.auth())
    assert "loud" in keyed.error(bad, 400, param="audio")["message"]


def test_models_say_the_ltx2_family_makes_sound_and_other_local_models_do_not(
    make_api: Callable[..., Api],
) -> None:
    from openreel.config import LocalConfig

    local = make_api(local=LocalConfig(enabled=True))
    models = local.client.get("/v1/models", headers=local.auth()).json()["data"]
    sound: dict[str, Any] = {m["id"]: m["capabilities"]["audio"] for m in models}
    assert sound["ltx-2"] is True
    assert sound["ltx-2-distilled"] is True
    assert sound["wan2.1-t2v-1.3b"] is False
    assert sound["ltx-video-distilled"] is False
