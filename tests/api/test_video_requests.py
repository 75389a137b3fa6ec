"""The create, remix and extend body models: what each accepts, what it refuses and how it says so,
and that a body gives the same job request whether it came as JSON or as a form."""

from __future__ import annotations

import base64
import io
from typing import TYPE_CHECKING, Any

import pytest
from PIL import Image

from openreel.api.forms import fold_bracket_keys
from openreel.api.video_requests import (
    CreateVideoBody,
    EditVideoBody,
    ExtendVideoBody,
    ImageReference,
    RemixVideoBody,
    VideoBody,
)
from openreel.domain import ImageInput, VideoRequest
from openreel.errors import InvalidRequestError, PayloadTooLargeError

if TYPE_CHECKING:
    from tests.api.conftest import Api

MISSING = object()
"""Marks a case whose field is left out of the body."""


def _png(colour: tuple[int, int, int] = (255, 0, 0)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), colour).save(buffer, "PNG")
    return buffer.getvalue()


def _data_url(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode()


def _no_upload(file_id: str) -> ImageInput:
    raise AssertionError(f"no uploaded image was expected; asked for {file_id!r}")


def _refused(model: type[VideoBody], body: dict[str, Any]) -> InvalidRequestError:
    with pytest.raises(InvalidRequestError) as refused:
        model.from_fields(body)
    assert refused.value.http_status == 400
    assert refused.value.code == "invalid_value"
    return refused.value


def _request(body: CreateVideoBody) -> VideoRequest:
    return body.to_video_request("openreel-sketch", _no_upload)


# ----- create: refused, naming the field and the value ------------------------------------------

CREATE_REFUSALS: list[tuple[str, Any]] = [
    ("prompt", 42),
    ("prompt", ["a boat"]),
    ("prompt", b"a boat"),  # a form's file part
    ("size", 96),
    ("size", "huge"),
    ("size", "96*64"),
    ("seconds", "abc"),
    ("seconds", True),
    ("seconds", "nan"),
    ("seconds", float("inf")),
    ("seconds", 10**400),
    ("seconds", [4]),
    ("fps", 8.5),
    ("fps", "8.5"),
    ("fps", "abc"),
    ("fps", False),
    ("negative_prompt", 5),
    ("seed", 1.5),
    ("seed", "seven"),
    ("model", 2),
    ("input_reference", 42),
    ("input_reference", "x"),
    ("input_reference", ["not", "an", "object"]),
    ("input_reference", {}),
    ("input_reference", {"url": "data:image/png;base64,AAAA"}),
    ("input_reference", {"file_id": 5}),
    ("input_reference", {"image_url": "data:image/png;base64,AAAA", "file_id": "file-x"}),
    ("input_reference", {"image_url": "https://example.com/cat.png"}),
    ("input_reference", {"image_url": "data:image/png,AAAA"}),  # not base64
]


@pytest.mark.parametrize(("param", "value"), CREATE_REFUSALS)
def test_create_refuses_a_bad_field_naming_it_and_its_value(param: str, value: Any) -> None:
    error = _refused(CreateVideoBody, {"prompt": "a boat", param: value})
    assert error.param == param
    assert error.message.startswith(f"{param} ")
    assert repr(value)[:40] in error.message


@pytest.mark.parametrize("body", [{}, {"prompt": None}, {"seconds": "4"}])
def test_create_without_a_prompt_is_refused_naming_prompt(body: dict[str, Any]) -> None:
    error = _refused(CreateVideoBody, body)
    assert (error.param, error.message) == ("prompt", "prompt is required")


def test_create_reports_the_first_bad_field_in_order() -> None:
    body: dict[str, Any] = {
        "input_reference": 4,
        "fps": "x",
        "seconds": "x",
        "size": "x",
        "prompt": 1,
    }
    fixes = {"prompt": "a boat", "size": "96x64", "seconds": 1, "fps": 8, "input_reference": None}
    for param, fixed in fixes.items():
        assert _refused(CreateVideoBody, body).param == param
        body[param] = fixed
    assert CreateVideoBody.from_fields(body).size == (96, 64)


def test_create_remote_url_message_says_data_urls_only() -> None:
    error = _refused(
        CreateVideoBody, {"prompt": "a", "input_reference": {"image_url": "http://127.0.0.1/x"}}
    )
    assert "data URL" in error.message
    assert "remote" in error.message
    assert "http://127.0.0.1/x" in error.message


# ----- create: accepted ---------------------------------------------------------------------------


def test_create_defaults() -> None:
    body = CreateVideoBody.from_fields({"prompt": "a boat"})
    request = body.to_video_request("the-default-model", _no_upload)
    assert request == VideoRequest(prompt="a boat", model="the-default-model")
    assert (request.seconds, request.size, request.fps, request.seed) == (
        10.0,
        "1920x1080",
        24,
        None,
    )


@pytest.mark.parametrize("absent", [None, ""])
def test_create_null_or_empty_fields_take_their_defaults(absent: Any) -> None:
    fields = ("size", "seconds", "fps", "negative_prompt", "seed", "model", "input_reference")
    body = CreateVideoBody.from_fields({"prompt": "a boat", **dict.fromkeys(fields, absent)})
    assert body == CreateVideoBody.from_fields({"prompt": "a boat"})


@pytest.mark.parametrize("seconds", ["4", "8", "12"])
def test_create_accepts_openais_seconds_strings(seconds: str) -> None:
    body = CreateVideoBody.from_fields({"prompt": "a boat", "seconds": seconds, "size": "720x1280"})
    assert _request(body).seconds == float(seconds)
    assert _request(body).size == "720x1280"


def test_create_reads_numbers_from_text_and_whole_numbers_from_floats() -> None:
    body = CreateVideoBody.from_fields(
        {"prompt": "a boat", "seconds": "1.5", "fps": "8.0", "seed": 7.0, "size": " 96 x 64 "}
    )
    assert (body.seconds, body.fps, body.seed, body.size) == (1.5, 8, 7, (96, 64))
    assert isinstance(body.fps, int)
    assert isinstance(body.seed, int)


def test_create_ignores_unknown_fields_and_keeps_the_prompt_as_sent() -> None:
    body = CreateVideoBody.from_fields({"prompt": "", "unused": b"x", "n": 3, "quality": "hd"})
    assert body.prompt == ""  # the domain refuses it, with its own message
    with pytest.raises(InvalidRequestError, match="prompt must not be empty"):
        _request(body)


def test_create_leaves_range_checks_to_the_domain() -> None:
    body = CreateVideoBody.from_fields({"prompt": "a boat", "size": "97x64", "seed": -1})
    with pytest.raises(InvalidRequestError) as refused:
        _request(body)
    assert refused.value.param == "size"


def test_create_image_references_every_way() -> None:
    png = _png()
    asked: list[str] = []

    def uploaded(file_id: str) -> ImageInput:
        asked.append(file_id)
        return ImageInput(data=png, media_type="image/png", width=32, height=32)

    uploaded_part = CreateVideoBody.from_fields({"prompt": "a", "input_reference": png})
    by_url = CreateVideoBody.from_fields(
        {"prompt": "a", "input_reference": {"image_url": _data_url(png), "file_id": None}}
    )
    by_id = CreateVideoBody.from_fields(
        {"prompt": "a", "input_reference": {"file_id": "file-1", "image_url": ""}}
    )
    assert uploaded_part.input_reference == png
    assert by_url.input_reference == ImageReference(image_url=_data_url(png))
    assert by_id.input_reference == ImageReference(file_id="file-1")
    images = [
        body.to_video_request("m", uploaded).input_reference
        for body in (uploaded_part, by_url, by_id)
    ]
    assert images[0] == images[1] == images[2] == ImageInput(png, "image/png", 32, 32)
    assert asked == ["file-1"]


def test_create_image_content_is_checked_when_the_request_is_made() -> None:
    garbage = {"image_url": "data:image/png;base64,!!!notbase64!!!"}
    body = CreateVideoBody.from_fields({"prompt": "a", "input_reference": garbage})
    with pytest.raises(InvalidRequestError, match="not valid base64") as refused:
        _request(body)
    assert refused.value.param == "input_reference"
    not_an_image = CreateVideoBody.from_fields({"prompt": "a", "input_reference": b"GIF89a"})
    with pytest.raises(InvalidRequestError) as refused:
        _request(not_an_image)
    assert refused.value.param == "input_reference"
    huge = CreateVideoBody.from_fields(
        {"prompt": "a", "input_reference": _png() + b"\0" * 11 * 2**20}
    )
    with pytest.raises(PayloadTooLargeError):
        _request(huge)


# ----- remix and extend ---------------------------------------------------------------------------


def test_remix_needs_a_prompt_string_and_ignores_the_rest() -> None:
    assert RemixVideoBody.from_fields({"prompt": "at night", "seconds": "x"}).prompt == "at night"
    assert _refused(RemixVideoBody, {}).param == "prompt"
    error = _refused(RemixVideoBody, {"prompt": 3})
    assert (error.param, error.message) == ("prompt", "prompt must be a string; got 3")


def test_extend_reads_video_and_seconds_with_a_default() -> None:
    body = ExtendVideoBody.from_fields({"prompt": "on", "video": {"id": "video_1", "x": 1}})
    assert (body.prompt, body.video.id, body.seconds) == ("on", "video_1", 4.0)
    body = ExtendVideoBody.from_fields({"prompt": "on", "video": {"id": "v"}, "seconds": "8"})
    assert body.seconds == 8.0
    assert (
        ExtendVideoBody.from_fields({"prompt": "on", "video": {"id": "v"}, "seconds": ""}).seconds
        == 4.0
    )


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("video", "video_1"),
        ("video", {"id": ""}),
        ("video", {"id": 5}),
        ("video", {}),
        ("video", None),
        ("seconds", "0"),
        ("seconds", -1),
        ("seconds", "abc"),
        ("seconds", True),
        ("prompt", 1),
    ],
)
def test_extend_refuses_a_bad_field_naming_it_and_its_value(param: str, value: Any) -> None:
    body = {"prompt": "on", "video": {"id": "video_1"}, param: value}
    error = _refused(ExtendVideoBody, body)
    assert error.param == param
    assert repr(value)[:40] in error.message


def test_extend_without_a_video_is_refused_naming_video() -> None:
    assert _refused(ExtendVideoBody, {"prompt": "on"}).param == "video"


@pytest.mark.parametrize("model", [ExtendVideoBody, EditVideoBody])
def test_an_uploaded_file_or_an_id_is_the_source(model: type[ExtendVideoBody]) -> None:
    """The bytes are checked once the request is admitted (services/videos.py)."""
    uploaded = model.from_fields({"prompt": "on", "video": b"\x00\x00\x00 ftyp"})
    assert uploaded.source == b"\x00\x00\x00 ftyp"
    by_id = model.from_fields({"prompt": "on", "video": {"id": "video_1"}})
    assert by_id.source == "video_1"


def test_edit_refuses_a_missing_prompt_or_video_naming_it() -> None:
    assert _refused(EditVideoBody, {"video": {"id": "video_1"}}).param == "prompt"
    assert _refused(EditVideoBody, {"prompt": "at night"}).param == "video"
    assert _refused(EditVideoBody, {"prompt": "at night", "video": "video_1"}).param == "video"


# ----- JSON and form are one body -----------------------------------------------------------------


def test_form_bracket_keys_fold_into_objects() -> None:
    items = [
        ("prompt", "a"),
        ("video[id]", "v1"),
        ("input_reference[image_url]", "data:,"),
        ("input_reference[file_id]", "f"),
        ("seed", "1"),
        ("seed", "2"),
    ]
    assert fold_bracket_keys(items) == {
        "prompt": "a",
        "video": {"id": "v1"},
        "input_reference": {"image_url": "data:,", "file_id": "f"},
        "seed": "2",
    }
    # A plain value already under the name wins over bracket fields for it.
    assert fold_bracket_keys([("video", "x"), ("video[id]", "v")]) == {"video": "x"}


def _form_fields(body: dict[str, Any]) -> list[tuple[str, str]]:
    """``body`` the way a form carries it: every value text, objects in bracket notation."""
    items: list[tuple[str, str]] = []
    for name, value in body.items():
        if isinstance(value, dict):
            items += [(f"{name}[{key}]", str(inner)) for key, inner in value.items()]
        else:
            items.append((name, str(value)))
    return items


def _as_form(body: dict[str, Any]) -> dict[str, Any]:
    """``body`` as the route reads it from a form."""
    return fold_bracket_keys(_form_fields(body))


def test_create_json_and_form_give_the_same_request() -> None:
    body = {
        "prompt": "a red kite over the dunes",
        "model": "openreel-sketch",
        "seconds": 2.5,
        "size": "160x96",
        "fps": 12,
        "seed": 9,
        "negative_prompt": "rain",
        "input_reference": {"image_url": _data_url(_png())},
    }
    as_json = _request(CreateVideoBody.from_fields(body))
    as_form = _request(CreateVideoBody.from_fields(_as_form(body)))
    assert as_json == as_form
    assert as_json.input_reference is not None
    assert (as_json.seconds, as_json.fps, as_json.seed) == (2.5, 12, 9)


def test_extend_and_remix_json_and_form_are_the_same_body() -> None:
    extend = {"prompt": "on", "seconds": 3, "video": {"id": "video_1"}}
    assert ExtendVideoBody.from_fields(extend) == ExtendVideoBody.from_fields(_as_form(extend))
    remix = {"prompt": "at night"}
    assert RemixVideoBody.from_fields(remix) == RemixVideoBody.from_fields(_as_form(remix))


@pytest.mark.parametrize(("param", "value"), [("seconds", "abc"), ("size", "huge"), ("fps", "8.5")])
def test_json_and_form_refuse_alike(param: str, value: str) -> None:
    body = {"prompt": "a boat", param: value}
    json_error = _refused(CreateVideoBody, body)
    form_error = _refused(CreateVideoBody, _as_form(body))
    assert (json_error.param, json_error.message) == (form_error.param, form_error.message)


def test_json_and_form_over_http_make_the_same_job(api: Api) -> None:
    png = api.image((0, 0, 255))
    body = {
        "prompt": "a quiet harbour",
        "model": "openreel-sketch",
        "seconds": 1,
        "size": "96x64",
        "fps": 8,
        "seed": 4,
        "negative_prompt": "fog",
    }
    with_url = {**body, "input_reference": {"image_url": api.data_url(png)}}
    made = [
        api.client.post("/v1/videos", json=with_url, headers=api.auth()),
        api.client.post(
            "/v1/videos",
            data={k: str(v) for k, v in body.items()},
            files={"input_reference": ("ref.png", png, "image/png")},
            headers=api.auth(),
        ),
        api.client.post("/v1/videos", data=dict(_form_fields(with_url)), headers=api.auth()),
    ]
    for response in made:
        assert response.status_code == 200, response.text
    alice = api.principals["alice"]
    jobs = [api.server.services.videos.get(alice, response.json()["id"]) for response in made]
    requests = [job.request.to_dict() for job in jobs]
    assert requests[0] == requests[1] == requests[2]
    assert requests[0]["seed"] == 4
    for response in made:  # the stored request leaves the image out; the plan shows it was used
        assert "backdrop from input_reference" in response.json()["plan"]["summary"]


def test_openapi_shows_each_body_for_json_and_form(api: Api) -> None:
    paths = api.client.get("/openapi.json").json()["paths"]
    for path, model in (
        ("/v1/videos", CreateVideoBody),
        ("/v1/videos/{video_id}/remix", RemixVideoBody),
        ("/v1/videos/extensions", ExtendVideoBody),
    ):
        content = paths[path]["post"]["requestBody"]["content"]
        served, own = content["application/json"]["schema"], model.model_json_schema()
        assert served["title"] == model.__name__
        assert served["required"] == own["required"]
        assert list(served["properties"]) == list(own["properties"])
        assert "multipart/form-data" in content
    create_form = paths["/v1/videos"]["post"]["requestBody"]["content"]["multipart/form-data"]
    properties = create_form["schema"]["properties"]
    assert properties["input_reference"] == {"type": "string", "format": "binary"}
    assert {"input_reference[image_url]", "input_reference[file_id]", "seconds"} <= set(properties)
    extend_form = paths["/v1/videos/extensions"]["post"]["requestBody"]["content"]
    assert extend_form["multipart/form-data"]["schema"]["required"] == ["prompt", "video[id]"]


@pytest.mark.parametrize(
    ("given", "audio"),
    [(True, True), (False, False), ("true", True), ("false", False), ("0", False)],
)
def test_audio_from_json_or_a_form(given: Any, audio: bool) -> None:
    body = CreateVideoBody.from_fields({"prompt": "a boat", "audio": given})
    assert body.to_video_request("m", _no_upload).audio is audio
    assert (
        CreateVideoBody.from_fields({"prompt": "a boat"}).to_video_request("m", _no_upload).audio
        is None
    )


@pytest.mark.parametrize("given", ["loud", 2, [True]])
def test_audio_that_is_not_true_or_false_is_refused_naming_it(given: Any) -> None:
    with pytest.raises(InvalidRequestError) as info:
        CreateVideoBody.from_fields({"prompt": "a boat", "audio": given})
    assert info.value.param == "audio"
    assert str(given) in info.value.message
