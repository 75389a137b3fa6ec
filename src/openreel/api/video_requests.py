"""The create, remix and extend bodies: one pydantic model each, for JSON and forms alike.

OpenAI's SDK sends these bodies as JSON or as multipart forms (a form carries numbers as text
and objects in bracket notation, ``input_reference[image_url]``);
:func:`openreel.api.forms.read_fields` turns either into one dict, so each model validates
both the same way. Field types follow ``openai/types/video_create_params.py`` and its
siblings, loosened where OpenReel accepts more (any ``seconds``, any even ``WIDTHxHEIGHT``)
and extended with ``fps``, ``seed`` and ``negative_prompt``. Unknown fields are ignored, as a
newer SDK may send some. The first field at fault, in the order the fields are declared,
becomes a 400 that names it and the value received.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from collections.abc import Callable, Mapping
from typing import Annotated, Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, ValidationError, WithJsonSchema
from pydantic_core import ErrorDetails, PydanticCustomError, PydanticUseDefault

from openreel.domain import MAX_PROMPT_CHARS, ImageInput, VideoRequest, parse_size
from openreel.errors import InvalidRequestError
from openreel.media.images import read_image

__all__ = [
    "CreateVideoBody",
    "EditVideoBody",
    "ExtendVideoBody",
    "ImageReference",
    "RemixVideoBody",
    "VideoBody",
    "VideoReference",
]

_DATA_URL = re.compile(r"^data:(image/[a-z+.-]+)?;base64,")
_DATA_URL_RULE = (
    "image_url must be a base64 data URL (data:image/png;base64,...); "
    "this server does not fetch remote URLs"
)
_IMAGE_RULE = "must be an uploaded image file, {image_url: <data URL>} or {file_id: <id>}"
_UPLOAD_SCHEMA = {"type": "string", "format": "binary"}


def _refuse(rule: str) -> PydanticCustomError:
    """A field error whose message is the rule; the value received is added when it is shown."""
    return PydanticCustomError("invalid_value", "{rule}", {"rule": rule})


def _absent(value: object) -> bool:
    """JSON ``null`` and an empty form field (what the SDK sends for ``None``) mean "not given"."""
    return value is None or (isinstance(value, str) and value == "")


def _required_text(value: object) -> str:
    if value is None:
        raise PydanticUseDefault  # no default: reported as missing
    if not isinstance(value, str):
        raise _refuse("must be a string")
    return value


def _text(value: object) -> str:
    if _absent(value):
        raise PydanticUseDefault
    return _required_text(value)


def _number(value: object) -> float:
    """A JSON number or its text (a form field); never a boolean, never NaN or infinite."""
    if _absent(value):
        raise PydanticUseDefault
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise _refuse("must be a number")
    try:
        number = float(value)
    except ValueError:
        raise _refuse("must be a number") from None
    except OverflowError:  # an integer past the largest float
        raise _refuse("must be a finite number") from None
    if not math.isfinite(number):
        raise _refuse("must be a finite number")
    return number


def _whole(value: object) -> int:
    number = _number(value)
    if number != int(number) or abs(number) > 2**63:
        raise _refuse("must be a whole number")
    return int(number)


def _positive(value: object) -> float:
    number = _number(value)
    if number <= 0:
        raise _refuse("must be greater than 0")
    return number


def _boolean(value: object) -> bool:
    """JSON ``true``/``false``, or a form's text of them (``"true"``, ``"false"``, 1, 0)."""
    if _absent(value):
        raise PydanticUseDefault
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _BOOLEAN_TEXT:
        return _BOOLEAN_TEXT[value.strip().lower()]
    raise _refuse("must be true or false")


_BOOLEAN_TEXT = {"true": True, "1": True, "false": False, "0": False}


def _size(value: object) -> tuple[int, int]:
    text = _text(value)
    try:
        return parse_size(text)
    except InvalidRequestError:
        raise _refuse("must look like WIDTHxHEIGHT, e.g. 1920x1080") from None


RequiredText = Annotated[str, PlainValidator(_required_text, json_schema_input_type=str)]
"""Text that must be given (it may be empty: the domain says why that is refused)."""

Text = Annotated[str, PlainValidator(_text, json_schema_input_type=str)]
"""Optional text; null or empty takes the field's default."""

Number = Annotated[float, PlainValidator(_number, json_schema_input_type=float | str)]
"""A number, or its text as OpenAI sends ``seconds`` (``"4"``) and as forms send every field."""

PositiveNumber = Annotated[float, PlainValidator(_positive, json_schema_input_type=float | str)]
"""A :data:`Number` above zero."""

Whole = Annotated[int, PlainValidator(_whole, json_schema_input_type=int | str)]
"""A whole number, or its text; ``8.0`` counts as 8."""

MaybeText = Annotated[str | None, PlainValidator(_text, json_schema_input_type=str)]
"""Optional text without a default value."""

MaybeWhole = Annotated[int | None, PlainValidator(_whole, json_schema_input_type=int | str)]
"""An optional :data:`Whole` without a default value."""

MaybeBoolean = Annotated[bool | None, PlainValidator(_boolean, json_schema_input_type=bool | str)]
"""An optional true/false (a form sends its text) without a default value."""

_AUDIO = (
    "OpenReel addition: whether the video gets sound; default: on wherever the model makes "
    "sound (/v1/models says which). true for a silent model is refused."
)

Size = Annotated[tuple[int, int], PlainValidator(_size, json_schema_input_type=str)]
"""``WIDTHxHEIGHT`` as text, read into (width, height); the domain checks the range."""


class ImageReference(BaseModel):
    """``input_reference`` as an object: a base64 data URL or an uploaded file's id, one of them."""

    model_config = ConfigDict(frozen=True)

    image_url: str | None = Field(
        None, description="A base64 data URL (data:image/png;base64,...); no remote URL is fetched."
    )
    file_id: str | None = Field(None, description="The id of an image uploaded to /v1/files.")

    def image(
        self, uploaded_image: Callable[[str], ImageInput], param: str = "input_reference"
    ) -> ImageInput:
        """The image, decoded and checked; ``uploaded_image`` finds a file id's image;
        ``param`` names the field in errors (``input_reference`` or ``last_frame``).

        Raises:
            InvalidRequestError: Not base64, or not a PNG, JPEG or WebP image.
            PayloadTooLargeError: Over the image size limit.
        """
        if self.file_id is not None:
            return uploaded_image(self.file_id)
        url = self.image_url or ""
        match = _DATA_URL.match(url)
        if match is None:
            raise InvalidRequestError.for_value(param, url, _DATA_URL_RULE)
        try:
            data = base64.b64decode(url[match.end() :], validate=True)
        except (binascii.Error, ValueError):
            raise InvalidRequestError.for_value(
                param, url, "image_url is not valid base64"
            ) from None
        return read_image(data, param=param)


class VideoReference(BaseModel):
    """The ``video`` of an edit or extension given by id: one of the caller's completed videos."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(description="The id of a completed video of yours.")


def _image_reference(value: object) -> bytes | ImageReference:
    """An uploaded file part (its bytes) or an :class:`ImageReference`, checked for shape only:
    decoding the image waits until the request is admitted, off the event loop."""
    if _absent(value):
        raise PydanticUseDefault
    if isinstance(value, bytes):  # an uploaded file part (JSON cannot carry bytes)
        return value
    if not isinstance(value, dict):
        raise _refuse(_IMAGE_RULE)
    given = {key: item for key, item in value.items() if not _absent(item)}
    if given.keys() == {"file_id"} and isinstance(given["file_id"], str):
        return ImageReference(file_id=given["file_id"])
    if given.keys() == {"image_url"} and isinstance(given["image_url"], str):
        if _DATA_URL.match(given["image_url"]) is None:
            raise _refuse(_DATA_URL_RULE)
        return ImageReference(image_url=given["image_url"])
    raise _refuse(_IMAGE_RULE)


def _video_reference(value: object) -> VideoReference | bytes:
    """An uploaded file part (its bytes, checked once admitted) or ``{id}`` of a video."""
    if isinstance(value, bytes):
        return value
    if not isinstance(value, dict) or not isinstance(value.get("id"), str) or not value["id"]:
        raise _refuse(
            "must be an uploaded video file (MP4, MOV or WebM) or an object {id: <video id>} "
            "naming a completed video"
        )
    return VideoReference(id=value["id"])


Reference = Annotated[
    bytes | ImageReference | None,
    PlainValidator(_image_reference),
    WithJsonSchema(ImageReference.model_json_schema()),
]
"""``input_reference``: an uploaded image file (forms only) or an :class:`ImageReference`."""

VideoSource = Annotated[
    VideoReference | bytes,
    PlainValidator(_video_reference),
    WithJsonSchema(VideoReference.model_json_schema()),
]
"""``video``: an uploaded video file (forms only) or a :class:`VideoReference`."""


def _invalid(error: ErrorDetails) -> InvalidRequestError:
    """The 400 for one pydantic error: the top-level field is the parameter at fault."""
    param = str(error["loc"][0]) if error["loc"] else "body"
    if error["type"] == "missing":
        return InvalidRequestError(f"{param} is required", param=param)
    return InvalidRequestError.for_value(param, error["input"], error["msg"])


class VideoBody(BaseModel):
    """What the video bodies share: reading from a dict of fields, and their OpenAPI entry."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    form_uploads: ClassVar[tuple[str, ...]] = ()
    """Fields a form may send as a file part."""

    @classmethod
    def from_fields(cls, fields: Mapping[str, Any]) -> Self:
        """The body from a JSON object or a form (see :func:`openreel.api.forms.read_fields`).

        Raises:
            InvalidRequestError: The first field at fault, named, with the value received.
        """
        try:
            return cls.model_validate(fields)
        except ValidationError as exc:
            raise _invalid(exc.errors(include_url=False)[0]) from None

    @classmethod
    def openapi(cls) -> dict[str, Any]:
        """The ``openapi_extra`` of a route that reads this body, as JSON or as a form.

        The form's schema is the JSON one with each object spelled in bracket notation
        (``video[id]``) and each upload field as a file part.
        """
        schema = cls.model_json_schema()
        required = set(schema.get("required", ()))
        form: dict[str, Any] = {}
        form_required: list[str] = []
        for name, field in schema["properties"].items():
            inner_fields: dict[str, Any] = field.get("properties", {})
            if name in cls.form_uploads:
                form[name] = dict(_UPLOAD_SCHEMA)
            elif not inner_fields:
                form[name] = field
                if name in required:
                    form_required.append(name)
            for inner, inner_field in inner_fields.items():
                form[f"{name}[{inner}]"] = inner_field
                if name in required and inner in field.get("required", ()):
                    form_required.append(f"{name}[{inner}]")
        form_schema = {"type": "object", "properties": form, "required": form_required}
        return {
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {"schema": schema},
                    "multipart/form-data": {"schema": form_schema},
                },
            }
        }


class CreateVideoBody(VideoBody):
    """Body of ``POST /v1/videos``: OpenAI's create params, plus fps, seed and negative_prompt."""

    form_uploads: ClassVar[tuple[str, ...]] = ("input_reference", "last_frame")

    prompt: RequiredText = Field(
        description="What the video shows.", json_schema_extra={"maxLength": MAX_PROMPT_CHARS}
    )
    size: Size = Field(
        (1920, 1080),
        description="WIDTHxHEIGHT in pixels, both even.",
        json_schema_extra={"default": "1920x1080", "examples": ["1920x1080"]},
    )
    seconds: Number = Field(
        10.0, description='Length; OpenAI\'s "4", "8" or "12", or any number the model allows.'
    )
    fps: Whole = Field(24, description="Frames per second.")
    negative_prompt: Text = Field("", description="What to leave out.")
    seed: MaybeWhole = Field(None, description="The same request and seed give the same video.")
    model: MaybeText = Field(None, description="A model id from /v1/models; default: the server's.")
    input_reference: Reference = Field(None, description="An image that guides the video.")
    last_frame: Reference = Field(
        None,
        description="An image the video ends on (with input_reference as its first frame), "
        "for models whose inputs include last_frame in /v1/models.",
    )
    audio: MaybeBoolean = Field(None, description=_AUDIO)

    def to_video_request(
        self, default_model: str, uploaded_image: Callable[[str], ImageInput]
    ) -> VideoRequest:
        """The domain request; decodes the reference image, so run it off the event loop.

        Args:
            default_model: The model when the body names none.
            uploaded_image: The caller's uploaded image with a given file id.

        Raises:
            InvalidRequestError: A value the domain refuses, or an unusable image.
            PayloadTooLargeError: The image is over the size limit.
        """
        image = _read_reference(self.input_reference, uploaded_image, "input_reference")
        last = _read_reference(self.last_frame, uploaded_image, "last_frame")
        width, height = self.size
        return VideoRequest(
            prompt=self.prompt,
            negative_prompt=self.negative_prompt,
            seconds=self.seconds,
            width=width,
            height=height,
            fps=self.fps,
            seed=self.seed,
            model=self.model or default_model,
            input_reference=image,
            last_frame=last,
            audio=self.audio,
        )


def _read_reference(
    reference: bytes | ImageReference | None,
    uploaded_image: Callable[[str], ImageInput],
    param: str,
) -> ImageInput | None:
    """An image field (an uploaded part's bytes or an :class:`ImageReference`), decoded."""
    if isinstance(reference, bytes):
        return read_image(reference, param=param)
    return None if reference is None else reference.image(uploaded_image, param)


class RemixVideoBody(VideoBody):
    """Body of ``POST /v1/videos/{id}/remix``: the new prompt (all else comes from the source)."""

    prompt: RequiredText = Field(description="The new prompt.")
    audio: MaybeBoolean = Field(
        None, description="OpenReel addition: whether the remix gets sound; default: as the source."
    )


class ExtendVideoBody(VideoBody):
    """Body of ``POST /v1/videos/extensions``: which video to continue, how, and for how long."""

    form_uploads: ClassVar[tuple[str, ...]] = ("video",)

    prompt: RequiredText = Field(description="What happens next.")
    video: VideoSource = Field(
        description="The completed video to continue, or an uploaded MP4, MOV or WebM file."
    )
    seconds: PositiveNumber = Field(4.0, description="Length of the new segment.")
    audio: MaybeBoolean = Field(
        None,
        description="OpenReel addition: whether the extended video has sound (the source's, "
        "continued with a cross-fade at the seam); default: as the source, or on where the "
        "model makes sound for an upload.",
    )

    @property
    def source(self) -> str | bytes:
        """The video id, or the uploaded file's bytes."""
        return self.video if isinstance(self.video, bytes) else self.video.id


class EditVideoBody(VideoBody):
    """Body of ``POST /v1/videos/edits``: which video to change, and how."""

    form_uploads: ClassVar[tuple[str, ...]] = ("video",)

    prompt: RequiredText = Field(description='The change: "at night", "without the birds"...')
    video: VideoSource = Field(
        description="The completed video to edit, or an uploaded MP4, MOV or WebM file."
    )
    model: MaybeText = Field(
        None,
        description="OpenReel addition: the model that edits (one whose operations include "
        "edit); default: the source's model, or the server's for an upload.",
    )
    audio: MaybeBoolean = Field(
        None,
        description="OpenReel addition: whether the edited video has sound; default: as "
        "the source, or on where the model makes sound for an upload.",
    )

    @property
    def source(self) -> str | bytes:
        """The video id, or the uploaded file's bytes."""
        return self.video if isinstance(self.video, bytes) else self.video.id
