"""Reference images: every way to send one, how they are checked, and that the video uses them."""

from __future__ import annotations

import base64
import io
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

from openreel.media.probe import iter_frames

if TYPE_CHECKING:
    from tests.api.conftest import Api

TINY = {"model": "openreel-sketch", "seconds": "1", "size": "96x64", "fps": 8}
TINY_FORM = {k: str(v) for k, v in TINY.items()}
BACKDROP = "backdrop from input_reference"
TEN_MB = 10 * 1024 * 1024


def _form(api: Api, fields: dict[str, str], files: dict[str, Any] | None = None) -> Any:
    return api.client.post(
        "/v1/videos",
        data={"prompt": "a quiet meadow", **TINY_FORM, **fields},
        files=files or {"unused": ("x.txt", b"x", "text/plain")},
        headers=api.auth(),
    )


def _json(api: Api, reference: Any) -> Any:
    return api.client.post(
        "/v1/videos",
        json={"prompt": "a quiet meadow", **TINY, "input_reference": reference},
        headers=api.auth(),
    )


def _accepted(api: Api, response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    video: dict[str, Any] = response.json()
    assert BACKDROP in video["plan"]["summary"]
    done = api.wait(video["id"])
    assert done["status"] == "completed", done
    return done


def _upload(api: Api, data: bytes, who: str = "alice", name: str = "ref.png") -> Any:
    return api.client.post(
        "/v1/files",
        files={"file": (name, data, "image/png")},
        data={"purpose": "vision"},
        headers=api.auth(who),
    )


def _noise_png(side: int) -> bytes:
    pixels = np.random.default_rng(1).integers(0, 256, (side, side, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG", compress_level=0)
    return buffer.getvalue()


# ----- ways in ------------------------------------------------------------------------------------


def test_input_multipart_file_part(api: Api) -> None:
    response = _form(api, {}, {"input_reference": ("ref.png", api.image(), "image/png")})
    _accepted(api, response)


def test_input_multipart_bracket_image_url(api: Api) -> None:
    jpeg = api.image((0, 0, 255), fmt="JPEG")
    response = _form(api, {"input_reference[image_url]": api.data_url(jpeg, "image/jpeg")})
    _accepted(api, response)


def test_input_multipart_bracket_file_id(api: Api) -> None:
    file_id = _upload(api, api.image()).json()["id"]
    _accepted(api, _form(api, {"input_reference[file_id]": file_id}))


def test_input_json_image_url(api: Api) -> None:
    webp = api.image((0, 255, 0), fmt="WEBP")
    _accepted(api, _json(api, {"image_url": api.data_url(webp, "image/webp")}))


def test_input_json_file_id(api: Api) -> None:
    file_id = _upload(api, api.image()).json()["id"]
    _accepted(api, _json(api, {"file_id": file_id}))


def test_input_multipart_data_url_over_one_megabyte(api: Api) -> None:
    big = _noise_png(700)
    assert len(base64.b64encode(big)) > 1024 * 1024
    response = _form(api, {"input_reference[image_url]": api.data_url(big)})
    assert response.status_code == 200, response.text
    assert BACKDROP in response.json()["plan"]["summary"]


def test_input_remix_keeps_the_reference(api: Api) -> None:
    source = _accepted(api, _json(api, {"image_url": api.data_url(api.image())}))
    response = api.client.post(
        f"/v1/videos/{source['id']}/remix", json={"prompt": "a quiet meadow"}, headers=api.auth()
    )
    assert response.status_code == 200, response.text
    assert BACKDROP in response.json()["plan"]["summary"]


# ----- /v1/files ------------------------------------------------------------------------------


def test_files_upload_and_retrieve(api: Api) -> None:
    data = api.image()
    response = _upload(api, data, name="sky.png")
    assert response.status_code == 200, response.text
    stored = response.json()
    assert stored["id"].startswith("file-")
    assert stored["object"] == "file"
    assert stored["bytes"] == len(data)
    assert stored["filename"] == "sky.png"
    assert stored["purpose"] == "vision"
    assert isinstance(stored["created_at"], int)
    again = api.client.get(f"/v1/files/{stored['id']}", headers=api.auth())
    assert again.status_code == 200
    assert again.json() == stored


def test_files_belong_to_their_uploader(api: Api) -> None:
    file_id = _upload(api, api.image()).json()["id"]
    api.error(api.client.get(f"/v1/files/{file_id}", headers=api.auth("bob")), 404)
    response = api.client.post(
        "/v1/videos",
        json={"prompt": "a meadow", **TINY, "input_reference": {"file_id": file_id}},
        headers=api.auth("bob"),
    )
    api.error(response, 400, param="input_reference")
    assert api.client.get("/v1/videos", headers=api.auth("bob")).json()["data"] == []


def test_files_are_checked_like_references(api: Api) -> None:
    api.error(_upload(api, b"not an image"), 400, param="file")
    api.error(_upload(api, api.image(fmt="GIF")), 400, param="file")
    api.error(_upload(api, api.image() + b"\0" * TEN_MB), 413, param="file")


def test_unknown_file_id_is_refused(api: Api) -> None:
    for file_id in (f"file-{'0' * 32}", "nope"):
        error = api.error(_json(api, {"file_id": file_id}), 400, param="input_reference")
        assert file_id in error["message"]


# ----- validation ---------------------------------------------------------------------------------


def test_input_bad_bytes_are_400(api: Api) -> None:
    garbage = b"\x89PNG\r\n\x1a\nthis is not really a png"
    api.error(
        _form(api, {}, {"input_reference": ("ref.png", garbage, "image/png")}),
        400,
        param="input_reference",
    )
    api.error(_json(api, {"image_url": api.data_url(garbage)}), 400, param="input_reference")
    api.error(
        _form(api, {"input_reference[image_url]": api.data_url(b"hello")}),
        400,
        param="input_reference",
    )
    api.error(
        _form(api, {}, {"input_reference": ("ref.png", b"", "image/png")}),
        400,
        param="input_reference",
    )


def test_input_gif_and_bmp_are_400(api: Api) -> None:
    for fmt, media_type in (("GIF", "image/gif"), ("BMP", "image/bmp")):
        data = api.image(fmt=fmt)
        for response in (
            _form(api, {}, {"input_reference": (f"ref.{fmt.lower()}", data, media_type)}),
            _json(api, {"image_url": api.data_url(data, media_type)}),
            # The declared type is not trusted: a GIF that claims to be a PNG is still a GIF.
            _form(api, {}, {"input_reference": ("ref.png", data, "image/png")}),
        ):
            error = api.error(response, 400, param="input_reference")
            assert fmt in error["message"]
            assert "PNG, JPEG or WebP" in error["message"]


def test_input_over_ten_megabytes_is_413(api: Api) -> None:
    huge = api.image() + b"\0" * TEN_MB
    for response in (
        _form(api, {}, {"input_reference": ("ref.png", huge, "image/png")}),
        _json(api, {"image_url": api.data_url(huge)}),
    ):
        error = api.error(response, 413, param="input_reference", code="payload_too_large")
        assert "10 MB" in error["message"]


def test_input_remote_url_is_400_data_urls_only(api: Api) -> None:
    for url in ("https://example.com/cat.png", "http://127.0.0.1/secret.png", "file:///etc/passwd"):
        for response in (
            _json(api, {"image_url": url}),
            _form(api, {"input_reference[image_url]": url}),
        ):
            error = api.error(response, 400, param="input_reference")
            assert "data URL" in error["message"]
            assert "remote" in error["message"]


def test_input_malformed_references_are_400(api: Api) -> None:
    png = api.image()
    cases: list[Any] = [
        "data:image/png;base64,!!!notbase64!!!",
        {"image_url": "data:image/png;base64,!!!notbase64!!!"},
        {"image_url": f"data:image/png,{png[:10]!r}"},  # not base64
        {"image_url": api.data_url(png), "file_id": "file-x"},  # both at once
        {},
        {"url": api.data_url(png)},
        ["not", "an", "object"],
        42,
    ]
    for reference in cases:
        api.error(_json(api, reference), 400, param="input_reference")
    assert api.client.get("/v1/videos", headers=api.auth()).json()["data"] == []


# ----- the video uses it ----------------------------------------------------------------------


def _sky_colour(api: Api, video_id: str) -> np.ndarray[Any, np.dtype[np.float64]]:
    path = api.data_dir / f"{video_id}.mp4"
    path.write_bytes(api.content(video_id))
    first = next(iter_frames(path))
    sky = first[: first.shape[0] // 4].reshape(-1, 3).astype(np.float64)
    mean: np.ndarray[Any, np.dtype[np.float64]] = sky.mean(axis=0)
    return mean


def test_input_reference_becomes_the_backdrop(api: Api) -> None:
    fields = {"prompt": "a quiet meadow", "seconds": "1", "size": "160x96", "fps": "8", "seed": "3"}
    plain = api.client.post(
        "/v1/videos",
        data=fields,
        files={"unused": ("x.txt", b"x", "text/plain")},
        headers=api.auth(),
    )
    red = api.client.post(
        "/v1/videos",
        data=fields,
        files={"input_reference": ("red.png", api.image((255, 0, 0), (64, 64)), "image/png")},
        headers=api.auth(),
    )
    blue = _json_backdrop(api, fields, (0, 0, 255))
    plain_id, red_id = plain.json()["id"], red.json()["id"]
    for video_id in (plain_id, red_id, blue):
        assert api.wait(video_id)["status"] == "completed"
    r, g, b = _sky_colour(api, red_id)
    assert r > 150
    assert r > g + 100
    assert r > b + 100
    r, g, b = _sky_colour(api, blue)
    assert b > 150
    assert b > r + 100
    assert b > g + 100
    r, g, b = _sky_colour(api, plain_id)
    assert not (r > g + 100 and r > b + 100)  # without a reference the sky is not red


def _json_backdrop(api: Api, fields: dict[str, str], colour: tuple[int, int, int]) -> str:
    body = {**fields, "fps": 8, "input_reference": {"image_url": api.data_url(api.image(colour))}}
    response = api.client.post("/v1/videos", json=body, headers=api.auth())
    assert response.status_code == 200, response.text
    video_id: str = response.json()["id"]
    return video_id


def test_last_frame_is_checked_and_refused_by_models_without_it(api: Api) -> None:
    """``last_frame`` beside ``input_reference``: a malformed one is a 400 naming it, and a
    model whose inputs do not include it (the sketch engine) refuses it, keeping nothing."""
    png = api.image()
    bad = api.client.post(
        "/v1/videos",
        json={"prompt": "a quiet meadow", **TINY, "last_frame": {"url": "x"}},
        headers=api.auth(),
    )
    api.error(bad, 400, param="last_frame")
    undecodable = api.client.post(
        "/v1/videos",
        json={
            "prompt": "a quiet meadow",
            **TINY,
            "last_frame": {
                "image_url": "data:image/png;base64," + base64.b64encode(b"no").decode()
            },
        },
        headers=api.auth(),
    )
    api.error(undecodable, 400, param="last_frame")
    refused = api.client.post(
        "/v1/videos",
        json={"prompt": "a quiet meadow", **TINY, "last_frame": {"image_url": api.data_url(png)}},
        headers=api.auth(),
    )
    api.error(refused, 400, param="last_frame")
    uploaded = _form(api, {}, files={"last_frame": ("end.png", png, "image/png")})
    api.error(uploaded, 400, param="last_frame")
    assert api.client.get("/v1/videos", headers=api.auth()).json()["data"] == []
    assert not list((api.data_dir).rglob("last_frame.png"))
