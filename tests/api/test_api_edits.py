"""Edits and extensions of uploaded videos and of our own: ``POST /v1/videos/edits`` and
``/v1/videos/extensions`` with ``video`` as a file or as ``{id}``."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import c2pa
import numpy as np
import pytest
from PIL import Image
from tests.support.clips import audio_only, field_clip

from openreel.config import VideoUploadConfig
from openreel.media.label import Labeler, LabelSpec
from openreel.media.probe import iter_frames, probe

if TYPE_CHECKING:
    from collections.abc import Callable

    from tests.api.conftest import Api

SMALL = {"model": "openreel-sketch", "seconds": "1", "size": "160x96", "fps": 8}


def _jobs(api: Api) -> list[Path]:
    folder = api.data_dir / "artifacts" / "jobs"
    return sorted(folder.iterdir()) if folder.exists() else []


def _videos(api: Api) -> list[dict[str, Any]]:
    response = api.client.get("/v1/videos", headers=api.auth("root"))
    return list(response.json()["data"])


def _mean(path: Path) -> float:
    return float(np.mean([frame.mean() for frame in iter_frames(path)]))


def _download(api: Api, video_id: str, name: str) -> Path:
    out = api.data_dir / name
    out.write_bytes(api.content(video_id))
    return out


# ----- uploads: good ones ---------------------------------------------------------------------


def test_edit_of_an_uploaded_file_lays_the_change_over_the_footage(
    api: Api, tmp_path: Path
) -> None:
    data = field_clip(tmp_path / "field.mp4")
    response = api.client.post(
        "/v1/videos/edits",
        data={"prompt": "at night, without the birds"},
        files={"video": ("field.mp4", data, "video/mp4")},
        headers=api.auth(),
    )
    assert response.status_code == 200, response.text
    video = response.json()
    assert video["edited_from_video_id"] is None  # an upload, not one of ours
    assert (video["size"], video["seconds"], video["fps"]) == ("128x80", "1.5", 8)
    plan = video["plan"]
    assert plan["mode"] == "footage"
    assert plan["layers"]["time_of_day"] == "night"
    assert plan["layers"]["not_applied"] == ["removing birds"]
    assert plan["source"] == {"video_id": None, "uploaded": True}
    done = api.wait(video["id"])
    assert done["status"] == "completed", done
    edited = _download(api, video["id"], "edited.mp4")
    info = probe(edited)
    assert (info.width, info.height, info.frames) == (128, 80, 12)
    assert _mean(edited) < 0.6 * _mean(tmp_path / "field.mp4")
    # The upload is kept with the video that used it, and removed with it.
    folder = api.job_dir(video["id"])
    assert (folder / "source.mp4").read_bytes() == data
    assert api.client.delete(f"/v1/videos/{video['id']}", headers=api.auth()).status_code == 200
    assert not folder.exists()


def test_extension_of_an_uploaded_file_dissolves_from_its_last_frame(
    api: Api, tmp_path: Path
) -> None:
    data = field_clip(tmp_path / "field.mp4")
    response = api.client.post(
        "/v1/videos/extensions",
        data={"prompt": "a lighthouse on the coast", "seconds": "1"},
        files={"video": ("field.webm", data, "application/octet-stream")},  # named wrong
        headers=api.auth(),
    )
    assert response.status_code == 200, response.text
    video = response.json()
    assert video["extended_from_video_id"] is None
    assert video["seconds"] == "2.5"  # the stitched total: 1.5 s uploaded + 1 s new
    assert "last frame" in video["plan"]["continues"]
    done = api.wait(video["id"])
    assert done["status"] == "completed", done
    out = _download(api, video["id"], "extended.mp4")
    frames = list(iter_frames(out))
    assert len(frames) == 12 + 8
    source = list(iter_frames(tmp_path / "field.mp4"))
    # The upload comes first, as it was but for the label burned into its corner (it had
    # none); the new part starts close to its last frame and moves away from it as the
    # dissolve ends.
    x0, y0, w, h = Labeler(LabelSpec(), 128, 80).box
    outside = np.ones((80, 128), bool)
    outside[y0 : y0 + h, x0 : x0 + w] = False
    assert np.abs(frames[5].astype(int) - source[5])[outside].mean() < 6
    plate = (slice(y0, y0 + h), slice(x0, x0 + w))
    assert frames[5][plate].mean() < 0.7 * source[5][plate].mean()  # the label's dark plate
    first_new = np.abs(frames[12].astype(int) - source[-1]).mean()
    last_new = np.abs(frames[-1].astype(int) - source[-1]).mean()
    assert first_new < last_new


def test_the_source_of_an_edit_of_our_own_video_is_recorded(api: Api) -> None:
    source = api.make(prompt="a lighthouse on the coast with birds in the day", seed=3, **SMALL)
    response = api.client.post(
        "/v1/videos/edits",
        json={"prompt": "at night", "video": {"id": source["id"]}},
        headers=api.auth(),
    )
    assert response.status_code == 200, response.text
    video = response.json()
    assert video["edited_from_video_id"] == source["id"]
    assert video["seed"] == 3
    assert (video["size"], video["seconds"]) == (source["size"], source["seconds"])
    assert video["plan"]["mode"] == "drawn"
    assert video["plan"]["changes"] == ["time_of_day: day -> night"]
    assert video["plan"]["plan"]["subjects"] == source["plan"]["plan"]["subjects"]
    done = api.wait(video["id"])
    assert done["status"] == "completed", done
    day = _download(api, source["id"], "day.mp4")
    night = _download(api, video["id"], "night.mp4")
    assert _mean(night) < 0.6 * _mean(day)
    # The signature names the source as the parent, carrying the source's own manifest.
    with night.open("rb") as stream, c2pa.Reader("video/mp4", stream) as reader:
        store = json.loads(reader.json())
    (parent,) = store["manifests"][store["active_manifest"]]["ingredients"]
    assert (parent["relationship"], parent["title"]) == ("parentOf", f"{source['id']}.mp4")
    assert parent["active_manifest"] in store["manifests"]
    # Another user can neither edit it nor see that it exists.
    other = api.client.post(
        "/v1/videos/edits",
        json={"prompt": "at night", "video": {"id": source["id"]}},
        headers=api.auth("bob"),
    )
    api.error(other, 404, param="video_id")


def test_the_edit_form_takes_the_id_in_brackets(api: Api) -> None:
    source = api.make(**SMALL)
    response = api.client.post(
        "/v1/videos/edits",
        data={"prompt": "make it snow", "video[id]": source["id"]},
        files={"unused": ("x.txt", b"x", "text/plain")},
        headers=api.auth(),
    )
    assert response.status_code == 200, response.text
    assert response.json()["plan"]["changes"] == [
        f"weather: {source['plan']['plan']['weather']} -> snow"
    ]


# ----- uploads: bad ones ------------------------------------------------------------------------


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (255, 0, 0)).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.mark.parametrize("route", ["/v1/videos/edits", "/v1/videos/extensions"])
def test_bad_uploads_are_refused_naming_video_and_leave_nothing(
    make_api: Callable[..., Api], tmp_path: Path, route: str
) -> None:
    api = make_api(video_uploads=VideoUploadConfig(max_bytes=200_000, max_seconds=2.0))
    good = field_clip(tmp_path / "good.mp4")
    long = field_clip(tmp_path / "long.mp4", frames=24)  # 3 s at 8 fps: over the 2 s limit
    cases: dict[str, tuple[bytes, str]] = {
        "empty": (b"", "empty"),
        "png named .mp4": (_png(), "not an MP4, MOV or WebM"),
        "audio only": (audio_only(tmp_path / "audio.mp4"), "no video stream"),
        "truncated": (good[: len(good) * 2 // 3], "truncated"),
        "too long": (long, "the limit is 2 s"),
        "too large": (good + b"\0" * 200_000, "the limit is 200000 bytes"),
    }
    for name, (data, why) in cases.items():
        response = api.client.post(
            route,
            data={"prompt": "at night", "seconds": "1"},
            files={"video": ("clip.mp4", data, "video/mp4")},
            headers=api.auth(),
        )
        error = api.error(response, 400, param="video")
        assert why in error["message"], (name, error)
        assert _jobs(api) == [], name
        assert _videos(api) == [], name


def test_an_upload_too_small_a_picture_is_refused_naming_video(api: Api, tmp_path: Path) -> None:
    data = field_clip(tmp_path / "tiny.mp4", size=(48, 32))
    response = api.client.post(
        "/v1/videos/edits",
        data={"prompt": "at night"},
        files={"video": ("tiny.mp4", data, "video/mp4")},
        headers=api.auth(),
    )
    error = api.error(response, 400, param="video")
    assert "48x32" in error["message"]
    assert _jobs(api) == []


def test_an_upload_refused_by_moderation_leaves_nothing(api: Api, tmp_path: Path) -> None:
    response = api.client.post(
        "/v1/videos/edits",
        data={"prompt": "a man being beheaded"},
        files={"video": ("clip.mp4", field_clip(tmp_path / "c.mp4"), "video/mp4")},
        headers=api.auth(),
    )
    api.error(response, 400, code="moderation_blocked")
    assert _jobs(api) == []
    assert _videos(api) == []


def test_models_say_which_inputs_and_operations_they_take(api: Api) -> None:
    models = api.client.get("/v1/models", headers=api.auth()).json()["data"]
    sketch = next(m for m in models if m["id"] == "openreel-sketch")
    assert sketch["capabilities"]["inputs"] == ["text", "image", "video", "character"]
    assert sketch["capabilities"]["operations"] == ["create", "remix", "extend", "edit"]


def test_an_extension_of_our_own_video_names_it_as_the_parent(api: Api) -> None:
    source = api.make(prompt="a boat on a lake", **SMALL)
    response = api.client.post(
        "/v1/videos/extensions",
        json={"prompt": "the boat sails on", "seconds": "1", "video": {"id": source["id"]}},
        headers=api.auth(),
    )
    assert response.status_code == 200, response.text
    done = api.wait(response.json()["id"])
    assert done["status"] == "completed", done
    out = _download(api, done["id"], "extended.mp4")
    with out.open("rb") as stream, c2pa.Reader("video/mp4", stream) as reader:
        store = json.loads(reader.json())
    active = store["manifests"][store["active_manifest"]]
    (parent,) = active["ingredients"]
    assert (parent["relationship"], parent["title"]) == ("parentOf", f"{source['id']}.mp4")
    actions = next(a for a in active["assertions"] if a["label"].startswith("c2pa.actions"))
    assert [a["action"] for a in actions["data"]["actions"]] == ["c2pa.opened", "c2pa.edited"]
