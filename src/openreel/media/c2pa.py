"""Signing finished MP4s with a C2PA manifest, and reading one back.

Every video this instance makes says, in a cryptographically signed manifest embedded in the
file, that it was generated: a ``c2pa.created`` action with the IPTC digital source type
(``algorithmicMedia`` for the procedural engine, ``trainedAlgorithmicMedia`` for models) and
OpenReel as the software agent, plus an ``org.openreel.generation`` assertion with the model,
backend, seed, a few settings and the prompt's SHA-256. The prompt itself is embedded only when
the operator opts in: manifests are public and trivially extracted.

Signing must be the very last step: any later remux or transcode strips or breaks the
manifest. It rewrites the file in place atomically, so a reader sees the unsigned file or the
signed one, never half of either.

Everything runs offline: no timestamp authority, no OCSP, no remote manifests.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

import c2pa  # type: ignore[import-untyped]

from openreel import __version__
from openreel.errors import InvalidRequestError, MediaError
from openreel.media.certs import SigningIdentity
from openreel.media.partial import partial_path

__all__ = [
    "DIGITAL_SOURCE_TYPES",
    "GENERATION_ASSERTION",
    "IPTC_DIGITAL_SOURCE_TYPE",
    "ProvenanceClaim",
    "ProvenanceStatus",
    "ProvenanceVerdict",
    "prompt_sha256",
    "sign_mp4",
    "verify_mp4",
]

IPTC_DIGITAL_SOURCE_TYPE: Final = "http://cv.iptc.org/newscodes/digitalsourcetype/"
"""The IPTC vocabulary C2PA uses for ``digitalSourceType``; a term is appended to it."""
DIGITAL_SOURCE_TYPES: Final = ("algorithmicMedia", "trainedAlgorithmicMedia")
"""The terms a generated video may claim: without or with a model trained on sampled content."""
GENERATION_ASSERTION: Final = "org.openreel.generation"
"""Label of our own assertion: how the video was made (model, backend, seed, settings)."""
GENERATOR_NAME: Final = "OpenReel"

_MIME: Final = "video/mp4"
_SOURCE_ACTIONS: Final = ("c2pa.created", "c2pa.opened", "c2pa.edited")
_MAX_SETTINGS: Final = 32
_MAX_SETTINGS_BYTES: Final = 2048
_SHA256_HEX: Final = re.compile(r"[0-9a-f]{64}")
_ALGORITHMS: Final = {
    "es256": "ES256",
    "es384": "ES384",
    "es512": "ES512",
    "ps256": "PS256",
    "ed25519": "ED25519",
}

ProvenanceStatus = Literal["Trusted", "Valid", "Invalid", "Missing"]
SettingValue = str | int | float | bool | None


def prompt_sha256(prompt: str) -> str:
    """The hex SHA-256 of a prompt's UTF-8 bytes: what the manifest carries instead of it."""
    return hashlib.sha256(prompt.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ProvenanceClaim:
    """What one video's manifest asserts about how it was made.

    Attributes:
        title: The asset's title, usually ``<video id>.mp4``.
        digital_source_type: ``algorithmicMedia`` or ``trainedAlgorithmicMedia``.
        model: The model (or provider model) that made the frames.
        backend: The backend that ran it.
        seed: The seed the frames were made with.
        prompt_sha256: Hex SHA-256 of the prompt (see :func:`prompt_sha256`), or ``None``.
        prompt: The prompt itself; set only when the operator opted in to publishing prompts.
        settings: A few generation settings (size, fps, seconds...): at most 32 entries of
            strings, numbers, booleans or ``None``, 2 KB as JSON.
        generator_version: The OpenReel version that made the video.
        parent_title: Set when the video was made from another (an edit, an extension): the
            title of that source, named as the manifest's parent ingredient. The actions
            then say the source was opened and edited (``c2pa.opened``, ``c2pa.edited``), as
            the C2PA specification describes for derived media, instead of ``c2pa.created``.
        parent_action: What was done to the parent: ``edited`` or ``extended`` (said in the
            edited action's description), or ``relayed``: the parent is a video another
            OpenReel made, labelled and signed, which this one passes on unchanged (a
            gateway's upstream), so the actions say it was opened and nothing else.
        label: The visible label burned into the frames (``LabelSpec.as_dict``), recorded in
            the generation assertion so that a server receiving the video can tell which
            label it carries; ``None`` when the video has none.
        fingerprint: The content fingerprint of the frames (``media.fingerprint``:
            ``version``, ``fps`` and ``hashes``, one 16-digit hex pHash a second), recorded so
            that a gateway trusting this signer can register the video without decoding it
            (``services.relay``); ``None`` when it was not taken.
    """

    title: str
    digital_source_type: str
    model: str
    backend: str
    seed: int
    prompt_sha256: str | None = None
    prompt: str | None = None
    settings: Mapping[str, SettingValue] = field(default_factory=dict)
    generator_version: str = __version__
    parent_title: str | None = None
    parent_action: str = "edited"
    label: Mapping[str, str | float] | None = None
    fingerprint: Mapping[str, str | float | int] | None = None

    def __post_init__(self) -> None:
        for name in ("title", "model", "backend", "generator_version"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise InvalidRequestError.for_value(name, value, "must be a non-empty string")
        if self.digital_source_type not in DIGITAL_SOURCE_TYPES:
            raise InvalidRequestError.for_value(
                "digital_source_type",
                self.digital_source_type,
                f"must be one of {', '.join(DIGITAL_SOURCE_TYPES)}",
            )
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise InvalidRequestError.for_value("seed", self.seed, "must be a whole number >= 0")
        if self.prompt_sha256 is not None and (
            not isinstance(self.prompt_sha256, str) or not _SHA256_HEX.fullmatch(self.prompt_sha256)
        ):
            raise InvalidRequestError.for_value(
                "prompt_sha256", self.prompt_sha256, "must be 64 lowercase hex digits"
            )
        if self.prompt is not None:
            if not isinstance(self.prompt, str):
                raise InvalidRequestError.for_value("prompt", self.prompt, "must be a string")
            if self.prompt_sha256 is not None and self.prompt_sha256 != prompt_sha256(self.prompt):
                raise InvalidRequestError.for_value(
                    "prompt_sha256", self.prompt_sha256, "must be the SHA-256 of the prompt"
                )
        object.__setattr__(self, "settings", _checked_settings(self.settings))

    def manifest(self) -> dict[str, Any]:
        """The manifest definition handed to the C2PA builder."""
        generation: dict[str, Any] = {
            "model": self.model,
            "backend": self.backend,
            "generator_version": self.generator_version,
            "seed": self.seed,
            "settings": dict(self.settings),
        }
        if self.prompt_sha256 is not None:
            generation["prompt_sha256"] = self.prompt_sha256
        if self.prompt is not None:
            generation["prompt"] = self.prompt
            generation.setdefault("prompt_sha256", prompt_sha256(self.prompt))
        if self.label is not None:
            generation["label"] = dict(self.label)
        if self.fingerprint is not None:
            generation["fingerprint"] = dict(self.fingerprint)
        agent = {"name": f"{GENERATOR_NAME}/{self.model}", "version": self.generator_version}
        source_type = IPTC_DIGITAL_SOURCE_TYPE + self.digital_source_type
        if self.parent_title is None:
            actions: list[dict[str, Any]] = [
                {"action": "c2pa.created", "digitalSourceType": source_type, "softwareAgent": agent}
            ]
        elif self.parent_action == "relayed":
            actions = [
                {
                    "action": "c2pa.opened",
                    "digitalSourceType": source_type,
                    "softwareAgent": agent,
                    "parameters": {"ingredientIds": [PARENT_INGREDIENT_ID]},
                    "description": "passed on as the upstream server made, labelled and signed it",
                }
            ]
        else:
            actions = [
                {
                    "action": "c2pa.opened",
                    "softwareAgent": agent,
                    "parameters": {"ingredientIds": [PARENT_INGREDIENT_ID]},
                },
                {
                    "action": "c2pa.edited",
                    "digitalSourceType": source_type,
                    "softwareAgent": agent,
                    "description": f"{self.parent_action} with generated frames",
                },
            ]
        return {
            "claim_generator_info": [{"name": GENERATOR_NAME, "version": self.generator_version}],
            "title": self.title,
            "format": _MIME,
            "assertions": [
                {"label": "c2pa.actions", "data": {"actions": actions}},
                {"label": GENERATION_ASSERTION, "data": generation},
            ],
        }


def _checked_settings(settings: object) -> dict[str, SettingValue]:
    if not isinstance(settings, Mapping):
        raise InvalidRequestError.for_value("settings", settings, "must be a mapping")
    if len(settings) > _MAX_SETTINGS:
        raise InvalidRequestError.for_value(
            "settings", settings, f"must have at most {_MAX_SETTINGS} entries"
        )
    checked: dict[str, SettingValue] = {}
    for key, value in settings.items():
        if not isinstance(key, str) or not isinstance(value, str | int | float | bool | None):
            raise InvalidRequestError.for_value(
                "settings", {key: value}, "must map names to strings, numbers or booleans"
            )
        checked[key] = value
    try:
        size = len(json.dumps(checked, allow_nan=False))
    except ValueError as exc:
        raise InvalidRequestError.for_value(
            "settings", checked, "must hold finite numbers only"
        ) from exc
    if size > _MAX_SETTINGS_BYTES:
        raise InvalidRequestError.for_value(
            "settings", checked, f"must be at most {_MAX_SETTINGS_BYTES} bytes as JSON"
        )
    return checked


@dataclass(frozen=True)
class ProvenanceVerdict:
    """What a file's C2PA manifest says, and whether to believe it.

    Attributes:
        status: ``Trusted`` (valid and issued under one of the given trust anchors),
            ``Valid`` (intact and well signed, by a signer nobody vouched for), ``Invalid``
            (tampered with, broken, expired or unreadable) or ``Missing`` (no manifest).
        signer_common_name: The signing certificate's common name.
        signer_organization: The signing certificate's organization.
        digital_source_type: The ``c2pa.created`` action's source type: the IPTC term
            (``trainedAlgorithmicMedia``...) or the full URL for other vocabularies.
        model: The model named by our generation assertion.
        backend: The backend named by our generation assertion.
        seed: The seed named by our generation assertion.
        generation: Our generation assertion as found, or empty.
        title: The manifest's title.
        parent: The title of the ingredient it was made from (an edit's or extension's
            source), or None for a video made from nothing.
        parent_has_credentials: Whether that ingredient carried its own C2PA manifest (a
            video of this server's does, a camera's file usually not); None without a parent.
        messages: Why the status is not better: ``code: explanation`` per failure.
    """

    status: ProvenanceStatus
    signer_common_name: str | None = None
    signer_organization: str | None = None
    digital_source_type: str | None = None
    model: str | None = None
    backend: str | None = None
    seed: int | None = None
    generation: Mapping[str, Any] = field(default_factory=dict)
    title: str | None = None
    parent: str | None = None
    parent_has_credentials: bool | None = None
    messages: tuple[str, ...] = ()


def _context(anchors: list[bytes] | None = None) -> Any:
    """Settings that keep the library offline; trust is checked against ``anchors`` only."""
    settings: dict[str, Any] = {
        "verify": {"verify_trust": True, "ocsp_fetch": False, "remote_manifest_fetch": False},
    }
    if anchors:
        settings["trust"] = {"user_anchors": b"\n".join(anchors).decode("ascii")}
    return c2pa.Context(c2pa.Settings.from_dict(settings))


PARENT_INGREDIENT_ID = "openreel-source"
"""The instance id the actions use to point at the parent ingredient."""


def sign_mp4(
    path: Path,
    manifest: ProvenanceClaim,
    identity: SigningIdentity,
    *,
    parent: Path | None = None,
) -> None:
    """Embeds a signed C2PA manifest in the MP4 at ``path``, replacing the file atomically.

    The signed copy is written to a hidden sibling and renamed over the original only when
    complete. On any failure the original is untouched and the sibling is removed. The file
    keeps its permission bits. A manifest already in the file is replaced, not extended.

    Args:
        path: A finished MP4. Sign it last: any later remux strips the manifest.
        manifest: What to assert about the video.
        identity: The certificate chain and key to sign with.
        parent: The video this one was made from (an edit's or an extension's source), added
            as the parent ingredient; its own manifest, when it has one, is carried inside
            the ingredient, so the history reads back through it. Needs
            ``manifest.parent_title``.

    Raises:
        MediaError: The file is missing or not an MP4 the library can parse, the identity is
            refused by the library, or writing or renaming failed.
    """
    path = Path(path)
    try:
        mode = path.stat().st_mode & 0o7777
    except OSError as exc:
        raise MediaError(f"cannot sign '{path}': {exc.strerror or exc}") from exc
    temp = partial_path(path)
    try:
        algorithm = getattr(c2pa.C2paSigningAlg, _ALGORITHMS[identity.algorithm])
        signer = c2pa.Signer.from_info(
            c2pa.C2paSignerInfo(algorithm, identity.chain_pem, identity.key_pem, None)
        )
        with (
            signer,
            c2pa.Builder(manifest.manifest(), context=_context()) as builder,
            path.open("rb") as source,
            _create(temp, mode) as target,
        ):
            if parent is not None:
                ingredient = {
                    "title": manifest.parent_title or parent.name,
                    "relationship": "parentOf",
                    "instance_id": PARENT_INGREDIENT_ID,
                }
                with parent.open("rb") as parent_stream:
                    builder.add_ingredient(ingredient, _parent_format(parent), parent_stream)
            builder.sign(signer, _MIME, source, target)
            target.flush()
            os.fsync(target.fileno())
        os.replace(temp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            temp.unlink(missing_ok=True)
        if isinstance(exc, c2pa.C2paError):
            raise MediaError(f"signing '{path}' failed: {_reason(exc)}") from exc
        if isinstance(exc, KeyError):
            raise MediaError(
                f"signing '{path}' failed: unknown algorithm {identity.algorithm!r}"
            ) from exc
        if isinstance(exc, OSError):
            raise MediaError(f"signing '{path}' failed: {exc.strerror or exc}") from exc
        raise


def _parent_format(path: Path) -> str:
    """The MIME type of a parent video by its stored suffix (uploads keep theirs)."""
    return "video/webm" if path.suffix == ".webm" else _MIME


def _create(temp: Path, mode: int) -> Any:
    """Opens a new file for reading and writing (the library seeks back into what it wrote)."""
    descriptor = os.open(temp, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(descriptor, mode)
    except OSError:
        os.close(descriptor)
        raise
    return os.fdopen(descriptor, "w+b")


def verify_mp4(path: Path, *, trust_anchors: list[bytes] | None = None) -> ProvenanceVerdict:
    """Reads and validates the C2PA manifest of the MP4 at ``path``; offline.

    A file the library cannot parse (truncated inside the manifest, not an MP4 at all) is
    reported as ``Invalid`` with the reason, not raised: the question asked is "can this be
    believed", and the answer is no.

    Args:
        path: The video.
        trust_anchors: PEM certificates to trust (the instance CA's ``anchor_pem``...); a
            signer issued under one of them reads ``Trusted``. Without them the best status
            is ``Valid``.

    Returns:
        The verdict.

    Raises:
        MediaError: The file cannot be opened.
    """
    path = Path(path)
    try:
        with path.open("rb") as stream:
            try:
                reader = c2pa.Reader.try_create(_MIME, stream, context=_context(trust_anchors))
                if reader is None:
                    return ProvenanceVerdict(
                        status="Missing", messages=("no C2PA manifest in the file",)
                    )
                with reader:
                    state = reader.get_validation_state()
                    report = json.loads(reader.json())
            except c2pa.C2paError as exc:
                return ProvenanceVerdict(
                    status="Invalid", messages=(f"the file could not be read: {_reason(exc)}",)
                )
    except OSError as exc:
        raise MediaError(f"cannot read '{path}': {exc.strerror or exc}") from exc
    return _verdict(state, report)


def _verdict(state: object, report: Any) -> ProvenanceVerdict:
    messages = [
        _message(entry)
        for entry in report.get("validation_status") or []
        if isinstance(entry, dict)
    ]
    status: ProvenanceStatus = "Invalid"
    if state == "Trusted":
        status = "Trusted"
    elif state == "Valid":
        status = "Valid"
    elif state != "Invalid":
        messages.append(f"unknown validation state {state!r}")
    manifests = report.get("manifests") or {}
    active = manifests.get(report.get("active_manifest")) or {}
    signature = active.get("signature_info") or {}
    source_type: str | None = None
    generation: dict[str, Any] = {}
    for assertion in active.get("assertions") or []:
        label, data = assertion.get("label"), assertion.get("data") or {}
        if label in ("c2pa.actions", "c2pa.actions.v2"):
            for action in data.get("actions") or []:
                # A made video says it on c2pa.created; one passed on unchanged, on the
                # c2pa.opened of its parent; an edit or extension, on its c2pa.edited.
                if action.get("action") in _SOURCE_ACTIONS and source_type is None:
                    found = action.get("digitalSourceType")
                    if isinstance(found, str):
                        source_type = found.removeprefix(IPTC_DIGITAL_SOURCE_TYPE)
        elif label == GENERATION_ASSERTION and isinstance(data, dict):
            generation = data
    seed = generation.get("seed")
    parent = next(
        (
            ingredient
            for ingredient in active.get("ingredients") or []
            if isinstance(ingredient, dict) and ingredient.get("relationship") == "parentOf"
        ),
        None,
    )
    return ProvenanceVerdict(
        status=status,
        signer_common_name=_text(signature.get("common_name")),
        # c2pa-rs reports the signing certificate's organization as the claim "issuer".
        signer_organization=_text(signature.get("issuer")),
        digital_source_type=source_type,
        model=_text(generation.get("model")),
        backend=_text(generation.get("backend")),
        seed=seed if isinstance(seed, int) and not isinstance(seed, bool) else None,
        generation=generation,
        title=_text(active.get("title")),
        parent=None if parent is None else _text(parent.get("title")),
        parent_has_credentials=None if parent is None else "active_manifest" in parent,
        messages=tuple(messages),
    )


def _message(entry: dict[str, Any]) -> str:
    code, explanation = entry.get("code"), entry.get("explanation")
    return f"{code}: {explanation}" if explanation else str(code)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _reason(exc: BaseException) -> str:
    """The library's message on one line (some span several, listing each failure)."""
    return " ".join(str(exc).split()) or type(exc).__name__
