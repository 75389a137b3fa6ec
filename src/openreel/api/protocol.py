"""Wire models: the OpenAI video API, field for field, plus our documented additions.

Field names and types copy ``openai/types/video.py``; our extras (seed, fps, phase, plan...)
are added fields, never renamed ones, so any OpenAI client reads our responses unchanged.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from openreel.domain import Job

__all__ = [
    "AuditList",
    "AuditObject",
    "AuditVerdict",
    "CharacterList",
    "CharacterObject",
    "CreateToken",
    "DeletedCharacter",
    "DeletedVideo",
    "ErrorBody",
    "ErrorEnvelope",
    "FileObject",
    "IssuedTokenObject",
    "LiftPause",
    "ModelCard",
    "ModelFacts",
    "ModelList",
    "PauseList",
    "PauseObject",
    "PauseResult",
    "Resumed",
    "RotateToken",
    "SetPause",
    "SetQuota",
    "TokenList",
    "TokenObject",
    "UsageList",
    "UsageObject",
    "Video",
    "VideoError",
    "VideoList",
    "format_seconds",
]


def format_seconds(seconds: float) -> str:
    """OpenAI sends seconds as a string: ``"10"``, or ``"2.5"`` when fractional."""
    return f"{seconds:g}" if seconds != int(seconds) else str(int(seconds))


class VideoError(BaseModel):
    """Why a video failed."""

    code: str
    message: str
    param: str | None = None
    type: str | None = None


class Video(BaseModel):
    """The OpenAI video object, with OpenReel's extra fields after the standard ones."""

    id: str
    object: Literal["video"] = "video"
    model: str
    status: Literal["queued", "in_progress", "completed", "failed"]
    progress: int = Field(ge=0, le=100)
    created_at: int
    completed_at: int | None = None
    expires_at: int | None = None
    prompt: str | None = None
    seconds: str
    size: str
    remixed_from_video_id: str | None = None
    error: VideoError | None = None
    # OpenReel additions
    seed: int | None = Field(
        None, description="Seed used; the same request and seed give the same video."
    )
    fps: int = Field(description="Frames per second.")
    phase: str = Field(
        description="What the worker is doing: queued, rendering, finalizing, done..."
    )
    negative_prompt: str | None = None
    extended_from_video_id: str | None = None
    edited_from_video_id: str | None = Field(
        None, description="The video an edit changed, when it was one of ours (not an upload)."
    )
    plan: dict[str, Any] | None = Field(
        None, description="What the backend understood from the prompt."
    )
    audio: bool = Field(
        False, description="Whether the video has sound (an AAC stream in its MP4)."
    )

    @classmethod
    def from_job(cls, job: Job) -> Video:
        """Builds the wire object from a job row."""
        req = job.request
        return cls(
            id=job.id,
            model=req.model,
            status=job.status.value,
            progress=job.progress,
            created_at=int(job.created_at),
            completed_at=None if job.completed_at is None else int(job.completed_at),
            expires_at=None if job.expires_at is None else int(job.expires_at),
            prompt=req.prompt,
            seconds=format_seconds(job.total_seconds or req.seconds),
            size=req.size,
            remixed_from_video_id=job.remixed_from,
            error=None if job.error is None else VideoError(**job.error.to_dict()),
            seed=req.seed,
            fps=req.fps,
            phase=job.phase,
            negative_prompt=req.negative_prompt or None,
            extended_from_video_id=job.extended_from,
            edited_from_video_id=req.source.video_id
            if req.operation == "edit" and req.source is not None
            else None,
            plan=job.interpretation or None,
            audio=req.audio is True,
        )


class VideoList(BaseModel):
    """A page of videos (``GET /v1/videos``)."""

    object: Literal["list"] = "list"
    data: list[Video]
    first_id: str | None
    last_id: str | None
    has_more: bool


class DeletedVideo(BaseModel):
    """Answer to ``DELETE /v1/videos/{id}``."""

    id: str
    object: Literal["video.deleted"] = "video.deleted"
    deleted: bool = True


class ModelFacts(BaseModel):
    """A model's public card: what it is, who made it, its licence, training data and limits
    (backends/cards.py)."""

    kind: Literal["procedural", "trained", "hosted"] = Field(
        description="procedural (drawn by code), trained (open weights run here) or hosted."
    )
    maker: str = Field(description="Who made the model.")
    licence: str = Field(description="The licence it is used under.")
    training_data: str = Field(
        description="What is known of its training data ('not disclosed' where nothing is)."
    )
    limits: list[str] = Field(description="What it does not do, in words.")
    sound: bool = Field(description="Whether its videos have a soundtrack.")
    source: str | None = Field(None, description="Where its maker describes it.")
    served_by: str | None = Field(None, description="The provider running it, if hosted.")


class CharacterObject(BaseModel):
    """A character (``openai/types/video_create_character_response.py``, plus ``object``)."""

    id: str
    object: Literal["character"] = "character"
    name: str
    created_at: int


class CharacterList(BaseModel):
    """A page of characters (``GET /v1/videos/characters``, an OpenReel addition)."""

    object: Literal["list"] = "list"
    data: list[CharacterObject]
    first_id: str | None
    last_id: str | None
    has_more: bool


class DeletedCharacter(BaseModel):
    """Answer to ``DELETE /v1/videos/characters/{id}``."""

    id: str
    object: Literal["character.deleted"] = "character.deleted"
    deleted: bool = True


class ModelCard(BaseModel):
    """One entry of ``GET /v1/models``, with what the model can make."""

    model_config = ConfigDict(protected_namespaces=())

    id: str
    object: Literal["model"] = "model"
    created: int = 0
    owned_by: str = "openreel"
    backend: str
    capabilities: dict[str, Any]
    card: ModelFacts | None = Field(None, description="The model's public card.")


class ModelList(BaseModel):
    """Answer to ``GET /v1/models``."""

    object: Literal["list"] = "list"
    data: list[ModelCard]


class FileObject(BaseModel):
    """An uploaded file (reference images), in the OpenAI files shape."""

    id: str
    object: Literal["file"] = "file"
    bytes: int
    created_at: int
    filename: str
    purpose: str = "vision"


class ErrorBody(BaseModel):
    """The OpenAI error object (a moderation refusal adds its ``category``)."""

    message: str
    type: str
    param: str | None = None
    code: str | None = None
    category: str | None = Field(
        None, description="Only on moderation_blocked: the policy category that refused it."
    )


class ErrorEnvelope(BaseModel):
    """Every error response: ``{"error": {...}}``."""

    error: ErrorBody


class TokenObject(BaseModel):
    """An access token as admins see it: never its secret, only a recognisable prefix."""

    id: str
    object: Literal["token"] = "token"
    principal_id: str
    name: str
    prefix: str
    scopes: list[str]
    created_at: int
    expires_at: int | None
    revoked_at: int | None
    last_used_at: int | None


class IssuedTokenObject(TokenObject):
    """A token just created or rotated: the one response that carries the secret."""

    token: str = Field(description="The secret; shown once and stored only as a keyed hash.")


class TokenList(BaseModel):
    """Tokens, oldest first."""

    object: Literal["list"] = "list"
    data: list[TokenObject]


class CreateToken(BaseModel):
    """Body of ``POST /v1/admin/tokens``."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100, description="The principal (made if new).")
    admin: bool = Field(False, description="Make a new principal an admin.")
    label: str | None = Field(None, max_length=100, description="Token label (default: name).")
    scopes: list[str] | None = Field(None, description="Default: all its role allows.")
    days: float | None = Field(None, description="Lifetime (default and maximum: settings).")


class RotateToken(BaseModel):
    """Body of ``POST /v1/admin/tokens/{id}/rotate`` (optional)."""

    model_config = ConfigDict(extra="forbid")

    days: float | None = None


class UsageObject(BaseModel):
    """A principal's quota usage (``GET /v1/usage``)."""

    object: Literal["usage"] = "usage"
    principal: str
    exempt: bool = Field(description="True for admins, who have no default limits.")
    period_seconds: float
    seconds_used: float = Field(description="Queued, rendering and finished, this period.")
    seconds_limit: float | None
    seconds_left: float | None
    active_videos: int
    concurrent_limit: int | None
    next_release_at: int | None = Field(description="When the oldest counted video expires.")


class UsageList(BaseModel):
    """Usage of one or more principals."""

    object: Literal["list"] = "list"
    data: list[UsageObject]


class SetQuota(BaseModel):
    """Body of ``POST /v1/admin/quotas``: a principal's own limits (null: the default)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    seconds: float | None = Field(None, ge=0, description="Per period; 0 means no limit.")
    videos: int | None = Field(None, ge=0, description="At once; 0 means no limit.")


class PauseObject(BaseModel):
    """A kill switch in force."""

    object: Literal["pause"] = "pause"
    scope: Literal["all", "model", "principal", "token"]
    target: str = Field(description="Model id, principal id or token id; empty for all.")
    reason: str
    created_at: int
    created_by: str | None


class PauseList(BaseModel):
    """Pauses in force, oldest first."""

    object: Literal["list"] = "list"
    data: list[PauseObject]


class SetPause(BaseModel):
    """Body of ``POST /v1/admin/pauses``."""

    model_config = ConfigDict(extra="forbid")

    scope: Literal["all", "model", "principal", "token"]
    target: str = Field("", max_length=200, description="Model id, principal name or token id.")
    reason: str = Field(min_length=1, max_length=500)
    cancel_queued: bool = False
    cancel_running: bool = False


class PauseResult(PauseObject):
    """A pause just set, with what it stopped."""

    cancelled_queued: int
    stopping_running: int


class LiftPause(BaseModel):
    """Body of ``POST /v1/admin/pauses/resume``."""

    model_config = ConfigDict(extra="forbid")

    scope: Literal["all", "model", "principal", "token"]
    target: str = Field("", max_length=200)


class Resumed(BaseModel):
    """Whether a pause was lifted."""

    object: Literal["pause.resumed"] = "pause.resumed"
    resumed: bool


class AuditObject(BaseModel):
    """One audit row (never a secret: the store refuses anything token-shaped)."""

    object: Literal["audit.entry"] = "audit.entry"
    seq: int
    ts: float
    action: str
    outcome: str
    actor_id: str | None
    token_id: str | None
    target_id: str | None
    detail: dict[str, Any] | None
    request_id: str | None
    prev_hash: str
    row_hash: str


class AuditList(BaseModel):
    """Audit rows, newest first; page with ``after=<last seq>``."""

    object: Literal["list"] = "list"
    data: list[AuditObject]
    has_more: bool


class AuditVerdict(BaseModel):
    """The result of checking the audit chain."""

    object: Literal["audit.verification"] = "audit.verification"
    ok: bool
    rows_checked: int
    first_bad_seq: int | None
    reason: str | None
    anchor_seq: int | None


class ArtistObject(BaseModel):
    """An artists' opt-out registry entry (admins only: it holds contact details)."""

    id: str
    object: Literal["artist_optout"] = "artist_optout"
    name: str
    aliases: list[str]
    allow_style: bool = Field(description="The artist allows prompts in their style.")
    status: Literal["active", "pending"]
    source: str | None
    contact: str | None
    created_at: int
    created_by: str | None
    updated_at: int


class ArtistList(BaseModel):
    """Registry entries by name."""

    object: Literal["list"] = "list"
    data: list[ArtistObject]


class CreateArtist(BaseModel):
    """Body of ``POST /v1/admin/artists``."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    aliases: list[str] = Field(default_factory=list, max_length=20)
    allow_style: bool = False
    source: str | None = Field(None, max_length=500)
    contact: str | None = Field(None, max_length=500)


class UpdateArtist(BaseModel):
    """Body of ``PATCH /v1/admin/artists/{id}``; absent fields stay as they are."""

    model_config = ConfigDict(extra="forbid")

    aliases: list[str] | None = Field(None, max_length=20)
    allow_style: bool | None = None
    status: Literal["active", "pending"] | None = None


class ArtistRequest(BaseModel):
    """Body of ``POST /v1/artists/optout``: an artist (or someone for them) asks to opt out."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    aliases: list[str] = Field(default_factory=list, max_length=20)
    contact: str | None = Field(None, max_length=500, description="How an admin can confirm.")


class ArtistRequestReceipt(BaseModel):
    """What the requester learns: the request id and that it waits for review."""

    id: str
    object: Literal["artist_optout.request"] = "artist_optout.request"
    status: Literal["pending"] = "pending"


class ArtistDeleted(BaseModel):
    """Result of deleting an entry."""

    id: str
    object: Literal["artist_optout.deleted"] = "artist_optout.deleted"
    deleted: bool


class ProvenanceReport(BaseModel):
    """What a video's C2PA credentials say (``POST /v1/provenance/verify``)."""

    object: Literal["provenance.verification"] = "provenance.verification"
    status: Literal["Trusted", "Valid", "Invalid", "Missing"] = Field(
        description="Trusted: signed by this server; Valid: intact, signed by someone else; "
        "Invalid: altered or broken; Missing: no credentials."
    )
    signer: str | None
    organization: str | None
    digital_source_type: str | None
    model: str | None
    backend: str | None
    seed: int | None
    title: str | None
    messages: list[str]


class LookupMatchObject(BaseModel):
    """One video of this server that the uploaded file is a copy of."""

    video_id: str | None = Field(description="Shown to the video's owner and to admins only.")
    exact: bool = Field(description="Byte for byte the file this server served.")
    distance: float = Field(description="Mean differing bits per compared second, of 64.")
    matched_seconds: int
    compared_seconds: int
    created_at: int


class LookupResult(BaseModel):
    """Did this server make the uploaded video? (``POST /v1/provenance/lookup``)."""

    object: Literal["provenance.lookup"] = "provenance.lookup"
    made_here: bool
    matches: list[LookupMatchObject]
