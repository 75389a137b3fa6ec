"""The catalogue of local models: which weights, which pipeline, which native clip.

The catalogue is a TOML file (``catalogue.toml`` beside this module; an operator points
``OPENREEL_LOCAL__CATALOGUE`` at their own copy). Each ``[[model]]`` table becomes one
:class:`ModelEntry`; reading it needs neither torch nor diffusers, so ``/v1/models``,
admission and job descriptions work on a machine that only serves the API.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal, cast, get_args

from openreel.backends.cards import NOT_DISCLOSED, ModelCard
from openreel.backends.diffusers.frames import FrameRule
from openreel.errors import ConfigurationError

__all__ = [
    "FAMILIES",
    "Catalogue",
    "Family",
    "MemoryProfile",
    "ModelEntry",
    "load_catalogue",
]

MemoryProfile = Literal["none", "model_cpu_offload", "group_offload", "vae_tiling"]
"""How weights meet a small GPU: ``none`` (all on the device), ``model_cpu_offload`` (one
component at a time), ``group_offload`` (blocks streamed in; least memory, slower), and
``vae_tiling`` (decode in tiles; combine it with either offload)."""

DType = Literal["bfloat16", "float16", "float32"]


@dataclass(frozen=True, slots=True)
class Family:
    """What every model of one architecture shares.

    Attributes:
        pipeline: diffusers text-to-video class.
        image_pipeline: diffusers image-to-video class built from the same components with
            ``from_pipe`` (first frame from an image; also joins chained segments), or None.
        frame_step: Frame counts are ``frame_step * k + 1``.
        multiple: Width and height must be multiples of this.
        upsample_pipeline: diffusers class of the family's own x2 spatial upsampler (its
            weights are the entry's ``upsampler``), or None.
        video_pipeline: diffusers video-to-video class built from the same components (an
            edit starts from the source's frames), or None where the family's base weights
            have none (Wan's VACE and HunyuanVideo's need weights of their own).
        video_strength: The keyword that says how far the video-to-video class may move
            from the source (LTX's ``denoise_strength``, CogVideoX's ``strength``).
        last_frame: How the family ends a clip on a given image (first-and-last-frame
            generation): ``last_image`` (Wan's image-to-video ``last_image``, FLF2V),
            ``conditions`` (the family's ``condition_pipeline``, a condition at the last
            frame index), or None where it cannot.
        condition_pipeline: diffusers class that takes frame conditions at any index (LTX's
            and LTX-2's), or None.
        refine_pipeline: The class that refines upsampled latents (LTX's condition
            pipeline, which takes ``latents`` and ``denoise_strength``), or None.
        image_only: Every call needs an image (Stable Video Diffusion has no text input).
    """

    pipeline: str
    image_pipeline: str | None
    frame_step: int
    multiple: int
    upsample_pipeline: str | None = None
    video_pipeline: str | None = None
    video_strength: str = "strength"
    last_frame: str | None = None
    condition_pipeline: str | None = None
    refine_pipeline: str | None = None
    image_only: bool = False

    @property
    def rule(self) -> FrameRule:
        """The family's frame-count rule."""
        return FrameRule(self.frame_step)


FAMILIES: dict[str, Family] = {
    # LTX-Video: 8k+1 frames, sides multiple of 32 (diffusers ltx_video.md; LTXPipeline.check_inputs).
    "ltx": Family(
        "LTXPipeline",
        "LTXImageToVideoPipeline",
        8,
        32,
        "LTXLatentUpsamplePipeline",
        video_pipeline="LTXConditionPipeline",
        video_strength="denoise_strength",
        last_frame="conditions",
        condition_pipeline="LTXConditionPipeline",
        refine_pipeline="LTXConditionPipeline",
    ),
    # LTX-2: 8k+1 frames, 32 (pipeline_ltx2.py check_inputs); video and audio in one call.
    "ltx2": Family(
        "LTX2Pipeline",
        "LTX2ImageToVideoPipeline",
        8,
        32,
        "LTX2LatentUpsamplePipeline",
        last_frame="conditions",
        condition_pipeline="LTX2ConditionPipeline",
    ),
    # Wan 2.1/2.2: 4k+1 frames, 16 (diffusers wan.md); TI2V-5B needs 32 (entry's multiple).
    "wan": Family("WanPipeline", None, 4, 16, last_frame="last_image"),
    # CogVideoX: 8N+1 frames (THUDM/CogVideo README: "8N+1 where N <= 6"), sides of 16.
    "cogvideox": Family(
        "CogVideoXPipeline", None, 8, 16, video_pipeline="CogVideoXVideoToVideoPipeline"
    ),
    "hunyuan": Family("HunyuanVideoPipeline", None, 4, 16),
    # HunyuanVideo 1.5: 4k+1 frames, VAE x16 (pipeline_hunyuan_video1_5.py).
    "hunyuan15": Family("HunyuanVideo15Pipeline", None, 4, 16),
    # Stable Video Diffusion: image only; any count (UNet temporal layers), sides of 8 (VAE).
    "svd": Family("StableVideoDiffusionPipeline", None, 1, 8, image_only=True),
}
"""Families the backend knows, by the name used in the catalogue's ``family`` field."""


@dataclass(frozen=True, slots=True)
class ModelEntry:
    """One local model as the catalogue describes it.

    Attributes:
        id: Model id in ``/v1/models`` and requests.
        family: Key of :data:`FAMILIES`.
        source: A local folder in diffusers layout, or a hub repo id that diffusers
            downloads on first use (on the operator's machine; never in tests).
        dtype: Weights' dtype on the device.
        memory: Memory profiles to apply, in order.
        steps: Denoising steps per call.
        guidance: Classifier-free guidance scale (1.0 turns it off for distilled models).
        width: Native width.
        height: Native height.
        fps: Native frame rate.
        max_frames: Most frames one call may make (more are made in overlapping segments).
        max_seconds: Longest clip a request may ask for.
        overlap: Frames two chained segments share.
        pipeline: Text-to-video class, when it is not the family's.
        image_pipeline: Image-to-video class, when it is not the family's ("" for none).
        upsampler: Weights (folder or hub repo) of the family's own x2 spatial upsampler;
            when set and the request is larger than native, each segment is upsampled x2
            by it before the final Lanczos scale.
        fixed_size: Always generate at the native size (models trained at one size only,
            such as CogVideoX); otherwise the native pixel count takes the request's shape.
        min_vram_gb: GPU memory the model needs with its memory profiles (for a clear
            refusal instead of an out-of-memory error mid-job); 0 skips the check.
        call: Extra keyword arguments for every pipeline call (``max_sequence_length``,
            ``decode_timestep``, ``timesteps``, ``guidance_scale_2``...); only those the
            pipeline accepts are passed.
        multiple: Width and height must be multiples of this, when stricter than the
            family's (Wan 2.2 TI2V 5B: 32, its VAE compresses 4x32x32 with patch 2); 0 keeps
            the family's.
        dtypes: Per-component dtypes over ``dtype`` (``{ vae = "float32" }``): the models'
            own documentation runs some components in another precision than the rest.
        scheduler: The scheduler to swap in after loading, as ``{ class = "Name", ... }``
            with config overrides (CogVideoX's DPM with trailing spacing).
        negative_prompt: The model's recommended negative prompt, used when a request has
            none.
        load: Extra keyword arguments for ``from_pretrained`` (pipeline config such as
            Wan 2.2 A14B's ``boundary_ratio``).
        refine: Keyword arguments of the short refine pass after the latent upsampler
            (``timesteps``/``num_inference_steps`` and ``denoise_strength``).
        audio: The model makes sound with its video (LTX-2).
        image_only: Every call needs an image (an image-to-video model: without a reference
            image, the first frame is drawn by the sketch engine from the prompt).
        last_frame: Whether the family's first-and-last-frame generation applies to these
            weights (false for Wan 2.2 TI2V 5B, whose image conditioning ignores a last image).
        maker: Who made the model (its model card), for the public model card.
        licence: The licence of its weights.
        training_data: What its makers published about its training data.
        limits: What it does not do, in words, beyond its sizes and lengths.
    """

    id: str
    family: str
    source: str
    dtype: DType
    memory: tuple[MemoryProfile, ...]
    steps: int
    guidance: float
    width: int
    height: int
    fps: int
    max_frames: int
    max_seconds: float
    overlap: int = 8
    pipeline: str = ""
    image_pipeline: str | None = None
    upsampler: str | None = None
    fixed_size: bool = False
    min_vram_gb: float = 0.0
    call: dict[str, Any] = field(default_factory=dict)
    multiple: int = 0
    dtypes: dict[str, DType] = field(default_factory=dict)
    scheduler: dict[str, Any] = field(default_factory=dict)
    negative_prompt: str = ""
    load: dict[str, Any] = field(default_factory=dict)
    refine: dict[str, Any] = field(default_factory=dict)
    audio: bool = False
    image_only: bool = False
    last_frame: bool = True
    maker: str = NOT_DISCLOSED
    licence: str = NOT_DISCLOSED
    training_data: str = NOT_DISCLOSED
    limits: tuple[str, ...] = ()

    @property
    def card(self) -> ModelCard:
        """The model's public card (a hub repo's page is its source; a folder has none)."""
        return ModelCard(
            kind="trained",
            maker=self.maker,
            licence=self.licence,
            training_data=self.training_data,
            limits=self.limits,
            source=None if self.is_local_folder else f"https://huggingface.co/{self.source}",
        )

    @property
    def spec(self) -> Family:
        """The entry's family."""
        return FAMILIES[self.family]

    @property
    def pipeline_class(self) -> str:
        """diffusers class that makes text-to-video."""
        return self.pipeline or self.spec.pipeline

    @property
    def image_pipeline_class(self) -> str | None:
        """diffusers class for image-to-video, or None when the model has none."""
        if self.image_pipeline is not None:
            return self.image_pipeline or None
        if self.needs_image:
            return self.pipeline_class
        return self.spec.image_pipeline

    @property
    def video_pipeline_class(self) -> str | None:
        """diffusers class for video-to-video (edits), or None when the model has none."""
        return self.spec.video_pipeline

    @property
    def side_multiple(self) -> int:
        """Width and height are multiples of this."""
        return self.multiple or self.spec.multiple

    @property
    def needs_image(self) -> bool:
        """Whether every call starts from an image (an image-to-video-only model)."""
        return self.image_only or self.spec.image_only

    @property
    def continues(self) -> bool:
        """Whether a clip longer than one call can be continued from the previous call's
        frames (an image-to-video pipeline); otherwise one call is the longest clip, since
        independent calls joined would jump at every seam."""
        return self.image_pipeline_class is not None

    @property
    def one_call_seconds(self) -> float:
        """The longest clip one call makes."""
        return (self.max_frames - 1) / self.fps

    @property
    def longest_seconds(self) -> float:
        """The longest clip this model offers: ``max_seconds``, or one call's worth when it
        cannot continue from frames."""
        if self.continues:
            return self.max_seconds
        return min(self.max_seconds, self.one_call_seconds)

    @property
    def last_frame_by(self) -> str | None:
        """How this model ends a clip on a given image (the family's way), or None."""
        how = self.spec.last_frame
        if not self.last_frame or how is None:
            return None
        if how == "last_image" and self.image_pipeline_class is None:
            return None  # Wan's last_image belongs to its image-to-video pipeline
        return how

    @property
    def is_local_folder(self) -> bool:
        """Whether ``source`` names a folder rather than a hub repo id."""
        return self.source.startswith(("/", ".", "~")) or Path(self.source).is_dir()


@dataclass(frozen=True, slots=True)
class Catalogue:
    """The models one installation offers, in file order.

    Attributes:
        entries: The models.
        path: Where they were read from.
    """

    entries: tuple[ModelEntry, ...]
    path: str

    @property
    def ids(self) -> tuple[str, ...]:
        """Every model id."""
        return tuple(e.id for e in self.entries)

    def get(self, model: str) -> ModelEntry | None:
        """The entry called ``model``, or None."""
        return next((e for e in self.entries if e.id == model), None)


_REQUIRED = ("id", "family", "source", "steps", "guidance", "width", "height", "fps")


def load_catalogue(path: Path | None = None) -> Catalogue:
    """Reads the catalogue at ``path`` (default: the one shipped with OpenReel).

    Raises:
        ConfigurationError: The file is missing or unreadable, or an entry is incomplete,
            names an unknown family or memory profile, or breaks its family's rules; the
            message names the file, the entry and the field.
    """
    if path is None:
        text = resources.files(__package__).joinpath("catalogue.toml").read_text("utf-8")
        where = "the built-in catalogue"
    else:
        where = str(path)
        try:
            text = Path(path).expanduser().read_text("utf-8")
        except OSError as exc:
            raise ConfigurationError(
                f"local model catalogue {where} cannot be read ({exc.strerror or exc}); "
                "fix OPENREEL_LOCAL__CATALOGUE"
            ) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(
            f"local model catalogue {where} is not valid TOML: {exc}"
        ) from None
    tables = data.get("model", [])
    if not isinstance(tables, list) or not tables:
        raise ConfigurationError(f"local model catalogue {where} has no [[model]] tables")
    entries = tuple(_entry(table, where) for table in tables)
    ids = [e.id for e in entries]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ConfigurationError(
            f"local model catalogue {where} lists {', '.join(duplicates)} more than once"
        )
    return Catalogue(entries, where)


def _entry(table: dict[str, Any], where: str) -> ModelEntry:
    name = table.get("id", "?")

    def bad(field_name: str, rule: str) -> ConfigurationError:
        return ConfigurationError(
            f"local model catalogue {where}, model {name!r}: {field_name} {rule}; "
            f"got {table.get(field_name)!r}"
        )

    for key in _REQUIRED:
        if key not in table:
            raise bad(key, "is required")
    known = set(ModelEntry.__dataclass_fields__)
    unknown = sorted(set(table) - known)
    if unknown:
        raise ConfigurationError(
            f"local model catalogue {where}, model {name!r}: unknown fields {', '.join(unknown)}"
        )
    if table["family"] not in FAMILIES:
        raise bad("family", f"must be one of {', '.join(FAMILIES)}")
    family = FAMILIES[table["family"]]
    memory = table.get("memory", "none")
    profiles = (memory,) if isinstance(memory, str) else tuple(memory)
    if not all(p in get_args(MemoryProfile) for p in profiles):
        raise bad("memory", f"must be among {', '.join(get_args(MemoryProfile))}")
    if table.get("dtype", "bfloat16") not in get_args(DType):
        raise bad("dtype", f"must be one of {', '.join(get_args(DType))}")
    multiple = table.get("multiple", 0) or family.multiple
    if not isinstance(multiple, int) or multiple <= 0 or multiple % family.multiple:
        raise bad("multiple", f"must be a positive multiple of {family.multiple}")
    for side in ("width", "height"):
        value = table[side]
        if not isinstance(value, int) or value <= 0 or value % multiple:
            raise bad(side, f"must be a positive multiple of {multiple}")
    dtypes = table.get("dtypes", {})
    if not isinstance(dtypes, dict) or not all(v in get_args(DType) for v in dtypes.values()):
        raise bad("dtypes", f"must map components to one of {', '.join(get_args(DType))}")
    for name in ("scheduler", "load", "refine"):
        if not isinstance(table.get(name, {}), dict):
            raise bad(name, "must be a table")
    scheduler = table.get("scheduler", {})
    if scheduler and not isinstance(scheduler.get("class"), str):
        raise bad("scheduler", "must name its class (class = ...)")
    max_frames = table.get("max_frames", family.rule.normalise(int(table["fps"]) * 5))
    if not isinstance(max_frames, int) or not family.rule.is_valid(max_frames):
        raise bad("max_frames", f"must be of the form {family.frame_step}k+1")
    overlap = table.get("overlap", 8)
    if not isinstance(overlap, int) or not 0 <= overlap < max_frames - 1:
        raise bad("overlap", f"must be from 0 to {max_frames - 2}")
    if table.get("upsampler") and family.upsample_pipeline is None:
        raise bad("upsampler", f"is not available for family {table['family']}")
    if not isinstance(table.get("audio", False), bool):
        raise bad("audio", "must be true or false")
    call = table.get("call", {})
    if not isinstance(call, dict):
        raise bad("call", "must be a table of keyword arguments")
    try:
        return ModelEntry(
            id=str(table["id"]),
            family=str(table["family"]),
            source=str(table["source"]),
            dtype=cast(DType, table.get("dtype", "bfloat16")),
            memory=cast(tuple[MemoryProfile, ...], profiles),
            steps=int(table["steps"]),
            guidance=float(table["guidance"]),
            width=int(table["width"]),
            height=int(table["height"]),
            fps=int(table["fps"]),
            max_frames=max_frames,
            max_seconds=float(table.get("max_seconds", 10.0)),
            overlap=overlap,
            pipeline=str(table.get("pipeline", "")),
            image_pipeline=table.get("image_pipeline"),
            upsampler=table.get("upsampler"),
            fixed_size=bool(table.get("fixed_size", False)),
            min_vram_gb=float(table.get("min_vram_gb", 0.0)),
            call=dict(call),
            multiple=int(table.get("multiple", 0)),
            dtypes=cast(dict[str, DType], dict(dtypes)),
            scheduler=dict(scheduler),
            negative_prompt=str(table.get("negative_prompt", "")),
            load=dict(table.get("load", {})),
            refine=dict(table.get("refine", {})),
            audio=bool(table.get("audio", False)),
            image_only=bool(table.get("image_only", False)),
            last_frame=bool(table.get("last_frame", True)),
            maker=str(table.get("maker", NOT_DISCLOSED)),
            licence=str(table.get("licence", NOT_DISCLOSED)),
            training_data=str(table.get("training_data", NOT_DISCLOSED)),
            limits=tuple(str(line) for line in _lines(table, "limits", bad)),
        )
    except (TypeError, ValueError) as exc:
        raise ConfigurationError(f"local model catalogue {where}, model {name!r}: {exc}") from None


def _lines(
    table: dict[str, Any], key: str, bad: Callable[[str, str], ConfigurationError]
) -> list[Any]:
    """A field that must be a list of sentences (absent: none)."""
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise bad(key, "must be a list of strings")
    return value
