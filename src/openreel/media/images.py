"""Reference images: checking what people upload before any backend sees it."""

from __future__ import annotations

import io
import warnings

from PIL import Image, UnidentifiedImageError

from openreel.domain import ImageInput
from openreel.errors import InvalidRequestError, PayloadTooLargeError

__all__ = ["IMAGE_TYPES", "MAX_IMAGE_BYTES", "MAX_IMAGE_SIDE", "read_image"]

MAX_IMAGE_BYTES = 10 * 1024 * 1024
"""Largest reference image accepted, in bytes."""

MAX_IMAGE_SIDE = 4096
"""Largest width or height of a reference image, in pixels."""

_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}

IMAGE_TYPES = tuple(_TYPES.values())
"""Media types a reference image may have (its content decides, not its name)."""


def read_image(data: bytes, *, param: str = "input_reference") -> ImageInput:
    """Validates an uploaded image by its content (never by its name or declared type).

    Raises:
        PayloadTooLargeError: Over :data:`MAX_IMAGE_BYTES`.
        InvalidRequestError: Not a PNG, JPEG or WebP, unreadable, or too large in pixels.
    """
    if len(data) > MAX_IMAGE_BYTES:
        raise PayloadTooLargeError(
            f"{param} must be at most {MAX_IMAGE_BYTES // (1024 * 1024)} MB; got {len(data)} bytes",
            param=param,
        )
    if not data:
        raise InvalidRequestError(f"{param} is empty", param=param)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                kind = image.format or ""
                width, height = image.size
                if kind not in _TYPES:
                    raise InvalidRequestError(
                        f"{param} must be a PNG, JPEG or WebP image; got {kind or 'unknown'}",
                        param=param,
                    )
                if max(width, height) > MAX_IMAGE_SIDE or min(width, height) < 1:
                    raise InvalidRequestError(
                        f"{param} must be at most {MAX_IMAGE_SIDE} pixels on each side; got {width}x{height}",
                        param=param,
                    )
                image.verify()
    except InvalidRequestError:
        raise
    except (
        UnidentifiedImageError,
        OSError,
        SyntaxError,
        ValueError,
        Image.DecompressionBombError,
        Warning,
    ) as exc:
        raise InvalidRequestError(
            f"{param} is not a readable image ({type(exc).__name__})", param=param
        ) from exc
    return ImageInput(data=data, media_type=_TYPES[kind], width=width, height=height)
