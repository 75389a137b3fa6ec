"""Settings: every knob an operator can turn, read from OPENREEL_* environment variables.

Nested groups use ``__`` (``OPENREEL_ENCODER__CRF=18``). Settings are built once by the
composition root (cli/runtime) and passed down; nothing reads the environment at import time.

Imports: errors only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["EncoderConfig", "Settings"]

Preset = Literal[
    "ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow"
]


class EncoderConfig(BaseModel):
    """H.264 settings for every video OpenReel writes.

    The defaults were chosen by benchmarks/encoder.py on a 2-core machine: ``veryfast`` at
    CRF 20 keeps a 10-second 1080p sketch clip faster than real time while its files are about
    seven times smaller than ``ultrafast`` at the same quality.
    """

    preset: Preset = "veryfast"
    crf: int = Field(20, ge=0, le=51)


class Settings(BaseSettings):
    """OpenReel's settings.

    Attributes:
        data_dir: Folder for the database, artifacts and keys.
        default_model: Model used when a request names none.
        encoder: H.264 encoder settings.
    """

    model_config = SettingsConfigDict(
        env_prefix="OPENREEL_", env_nested_delimiter="__", extra="ignore"
    )

    data_dir: Path = Path("data")
    default_model: str = "openreel-sketch"
    encoder: EncoderConfig = EncoderConfig()
