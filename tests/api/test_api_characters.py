"""Characters: made from a clip, owner-only, named in prompts, drawn where the plan says."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import cv2
import pytest
from tests.support.clips import field_clip, figure_clip, yellow_share
from tests.support.tiny_diffusers import TINY_LTX, TINY_WAN

from openreel.backends.base import BackendCapabilities, check_against_capabilities
from openreel.config import LocalConfig
from openreel.domain import CharacterRef, VideoRequest
from openreel.errors import InvalidRequestError
from openreel.media.probe import iter_frames

if TYPE_CHECKING:
    from collections.abc import Callable

    from tests.api.conftest import Api

SMALL = {"model": "openreel-sketch", "seconds": "1", "size": "320x192", "fps": 8}


def _create(api: Api, name: str, data: bytes, who: str = "alice") -> Any:
    return api.client.post(
        "/v1/videos/characters",
        data={"name": name},
        files={"video": ("clip.mp4", data, "video/mp4")},
        headers=api.auth(who),
    )


def _characters_dir(api: Api) -> Path:
    return api.data_dir / "artifacts" / "characters"


def test_a_character_is_made_read_listed_used_and_deleted(api: Api, tmp_path: Path) -> None:
    response = _create(api, "Mira", figure_clip(tmp_path / "mira.mp4"))
    assert response.status_code == 200, response.text
    character = response.json()
    assert set(character) == {"id", "object", "name", "created_at"}
    assert character["object"] == "character"
    assert character["name"] == "Mira"
    got = api.client.get(f"/v1/videos/characters/{character['id']}", headers=api.auth())
    assert got.json() == character
    listed = api.client.get("/v1/videos/characters", headers=api.auth()).json()
    assert [c["id"] for c in listed["data"]] == [character["id"]]
    folder = _characters_dir(api) / character["id"]
    cutout = cv2.imread(str(folder / "cutout.png"), cv2.IMREAD_UNCHANGED)
    assert cutout.shape[2] == 4
    opaque = cutout[..., 3] > 127
    assert 0.5 < opaque.mean() < 1.0  # the figure, not the whole frame

    video = api.make(prompt="Mira walks along a quiet lake in the day", seed=2, **SMALL)
    used = video["plan"]["character"]
    assert (used["id"], used["name"]) == (character["id"], "Mira")
    assert "cut out" in used["how"]
    out = api.data_dir / "mira-video.mp4"
    out.write_bytes(api.content(video["id"]))
    plain = api.make(prompt="a quiet lake in the day", seed=2, **SMALL)
    plain_out = api.data_dir / "plain.mp4"
    plain_out.write_bytes(api.content(plain["id"]))
    path = used["path"]
    frames, plain_frames = list(iter_frames(out)), list(iter_frames(plain_out))
    for index in (0, len(frames) - 1):
        u = index / (len(frames) - 1)
        cx = (path["start"][0] + (path["end"][0] - path["start"][0]) * u) * 320
        cy = (path["start"][1] + (path["end"][1] - path["start"][1]) * u) * 192
        half = path["height"] * 192 / 2
        box = (slice(int(cy - half), int(cy + half)), slice(int(cx - half / 2), int(cx + half / 2)))
        assert yellow_share(frames[index][box]) > 0.2, index
        assert yellow_share(plain_frames[index][box]) < 0.01, index

    # Another user can neither read it, delete it, nor use it.
    other = api.client.get(f"/v1/videos/characters/{character['id']}", headers=api.auth("bob"))
    api.error(other, 404, param="character_id")
    gone = api.client.delete(f"/v1/videos/characters/{character['id']}", headers=api.auth("bob"))
    api.error(gone, 404)
    bobs = api.client.get("/v1/videos/characters", headers=api.auth("bob")).json()
    assert bobs["data"] == []
    borrowed = api.create("bob", prompt="Mira walks along a quiet lake", **SMALL)
    assert "character" not in borrowed["plan"]

    deleted = api.client.delete(f"/v1/videos/characters/{character['id']}", headers=api.auth())
    assert deleted.json() == {"id": character["id"], "object": "character.deleted", "deleted": True}
    assert not folder.exists()
    missing = api.client.get(f"/v1/videos/characters/{character['id']}", headers=api.auth())
    api.error(missing, 404)


def test_names_on_the_lists_are_refused_and_leave_nothing(api: Api, tmp_path: Path) -> None:
    clip = figure_clip(tmp_path / "c.mp4")
    error = api.error(_create(api, "Barack Obama", clip), 400, param="name")
    assert error["code"] == "moderation_blocked"
    artist = api.client.post(
        "/v1/admin/artists", json={"name": "Ilse Vandermeer"}, headers=api.auth("root")
    )
    assert artist.status_code == 200, artist.text
    error = api.error(_create(api, "ilse vandermeer", clip), 400, param="name")
    assert "opt-out" in error["message"]
    api.error(_create(api, "  ", clip), 400, param="name")
    api.error(_create(api, "x" * 81, clip), 400, param="name")
    assert not _characters_dir(api).exists() or list(_characters_dir(api).iterdir()) == []
    assert api.client.get("/v1/videos/characters", headers=api.auth()).json()["data"] == []


def test_a_bad_clip_is_refused_naming_video_and_leaves_nothing(api: Api, tmp_path: Path) -> None:
    error = api.error(_create(api, "Mira", b"not a video at all"), 400, param="video")
    assert "video" in error["message"]
    # The same checks as an edit's upload: a picture under 64 pixels a side says so.
    tiny = field_clip(tmp_path / "tiny.mp4", size=(48, 32))
    error = api.error(_create(api, "Mira", tiny), 400, param="video")
    assert "48x32" in error["message"], error
    missing = api.client.post("/v1/videos/characters", data={"name": "Mira"}, headers=api.auth())
    api.error(missing, 400, param="video")
    assert not _characters_dir(api).exists() or list(_characters_dir(api).iterdir()) == []


def test_a_model_without_a_character_input_refuses_naming_the_character() -> None:
    caps = BackendCapabilities(
        max_seconds=10, min_side=64, max_side=1920, fps_range=(1, 30), sizes=("1280x720",)
    )
    request = VideoRequest(
        prompt="Mira on a beach",
        model="some-hosted-model",
        width=1280,
        height=720,
        character=CharacterRef(id="char_" + "0" * 32, name="Mira", cutout="c", frame="f"),
    )
    with pytest.raises(InvalidRequestError) as refused:
        check_against_capabilities(request, caps)
    assert refused.value.param == "prompt"
    assert "'Mira'" in refused.value.message
    assert "some-hosted-model" in refused.value.message
    edit = VideoRequest(prompt="at night", model="some-hosted-model", operation="edit")
    with pytest.raises(InvalidRequestError) as cannot:
        check_against_capabilities(edit, caps)
    assert cannot.value.param == "model"
    assert "some-hosted-model" in cannot.value.message


def test_a_local_image_to_video_model_starts_from_the_characters_frame(
    make_api: Callable[..., Api], tiny_catalogue: Path, tmp_path: Path
) -> None:
    """A local family that takes an image gets the character's clearest frame as its image
    condition; one that takes none refuses the prompt naming the character, and (having no
    video-to-video either) an edit naming the model."""
    api = make_api(local=LocalConfig(catalogue=tiny_catalogue, device="cpu"))
    made = _create(api, "Mira", figure_clip(tmp_path / "mira.mp4"))
    assert made.status_code == 200, made.text
    tiny = {"seconds": "1", "size": "64x64", "fps": 8}
    video = api.make(prompt="Mira on a beach", model=TINY_LTX, **tiny)
    assert video["plan"]["character"]["name"] == "Mira"
    assert video["plan"]["image_to_video"] is True
    stored = api.job_dir(video["id"]) / "input.png"
    frame = api.data_dir / "artifacts" / "characters" / made.json()["id"] / "frame.png"
    assert stored.read_bytes() == frame.read_bytes()
    refused = api.client.post(
        "/v1/videos",
        json={"prompt": "Mira on a beach", "model": TINY_WAN, **tiny},
        headers=api.auth(),
    )
    error = api.error(refused, 400, param="prompt")
    assert "'Mira'" in error["message"]
    source = api.make(prompt="a beach", **{**tiny, "size": "96x64"})
    edit = api.client.post(
        "/v1/videos/edits",
        json={"prompt": "at night", "video": {"id": source["id"]}},
        headers=api.auth(),
    )
    assert edit.status_code == 200  # the sketch engine made it, so the sketch engine edits it
    models = {m["id"]: m for m in api.client.get("/v1/models", headers=api.auth()).json()["data"]}
    assert "edit" in models[TINY_LTX]["capabilities"]["operations"]  # video-to-video
    assert "edit" not in models[TINY_WAN]["capabilities"]["operations"]
    assert "character" in models[TINY_LTX]["capabilities"]["inputs"]
    assert "character" not in models[TINY_WAN]["capabilities"]["inputs"]
    own = api.make(prompt="a beach", model=TINY_WAN, **tiny)
    cannot = api.client.post(
        "/v1/videos/edits",
        json={"prompt": "at night", "video": {"id": own["id"]}},
        headers=api.auth(),
    )
    error = api.error(cannot, 400, param="model")
    assert TINY_WAN in error["message"]
