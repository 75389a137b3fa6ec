"""Which backends an installation serves: the sketch engine, local models, and a table of the
hosted providers, each offered only when its settings allow.

A new hosted provider is a module in ``backends/hosted`` and one entry in
:data:`HOSTED_PROVIDERS`; nothing outside ``backends/`` changes.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from cryptography import x509

from openreel.backends.base import BackendCapabilities, VideoBackend
from openreel.backends.cards import SKETCH_CARD, hosted_cards, unknown_card
from openreel.backends.diffusers.backend import DiffusersBackend
from openreel.backends.diffusers.catalogue import load_catalogue
from openreel.backends.hosted import fal, luma, replicate, runway, veo
from openreel.backends.hosted.base import HostedBackend, HostedModel
from openreel.backends.hosted.upstream import UpstreamClient
from openreel.backends.hosted.upstream_backend import UpstreamBackend
from openreel.backends.hosted.upstream_health import UpstreamHealth
from openreel.backends.hosted.upstream_jobs import JobSlots
from openreel.backends.registry import BackendRegistry
from openreel.backends.sketch.backend import SketchBackend
from openreel.config import Settings, UpstreamServer
from openreel.errors import ConfigurationError

__all__ = ["HOSTED_PROVIDERS", "Entry", "HostedOptions", "Offer", "build_registry"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class HostedOptions:
    """What every hosted backend of an installation shares.

    Attributes:
        fit: How a provider's nearest size is fitted to the request (the operator's setting).
        render_slots: How many hosted results are re-encoded at once.
    """

    fit: Literal["reject", "nearest"]
    render_slots: threading.Semaphore


Offer = tuple[tuple[str, ...], Callable[[], VideoBackend]]
"""The model ids a provider serves and the factory of its backend."""


def _keyed(
    name: str,
    catalogue: tuple[HostedModel, ...],
    build: Callable[..., HostedBackend],
) -> Callable[[Settings, HostedOptions], Offer | None]:
    """The entry of a provider that needs only its API key (``OPENREEL_PROVIDERS__<NAME>``)."""

    def entry(settings: Settings, options: HostedOptions) -> Offer | None:
        key = getattr(settings.providers, name)
        if key is None or not key.get_secret_value():
            return None
        secret = key.get_secret_value()
        return tuple(m.id for m in catalogue), lambda: build(
            secret, fit=options.fit, render_slots=options.render_slots
        )

    return entry


def _luma(settings: Settings, options: HostedOptions) -> Offer | None:
    """Luma: its key; its models also edit where a worker can give Luma a link to the
    source (a public address for this server, or a bucket that presigns)."""
    key = settings.providers.luma
    if key is None or not key.get_secret_value():
        return None
    secret = key.get_secret_value()
    edits = bool(settings.public_url) or settings.storage.is_remote
    return tuple(m.id for m in luma.MODELS), lambda: luma.build_luma(
        secret, edits=edits, fit=options.fit, render_slots=options.render_slots
    )


def _veo(settings: Settings, options: HostedOptions) -> Offer | None:
    """Google Veo: a Vertex AI project (Cloud credentials) or a Gemini API key."""
    google = settings.providers.google
    if not settings.veo.project and (google is None or not google.get_secret_value()):
        return None
    api_key = None if google is None else google.get_secret_value() or None
    return tuple(m.id for m in veo.MODELS), lambda: veo.build_veo(
        project=settings.veo.project,
        location=settings.veo.location,
        api_key=api_key,
        fit=options.fit,
        render_slots=options.render_slots,
    )


def _upstream(
    server: UpstreamServer, options: HostedOptions, certificate_setting: str
) -> tuple[tuple[str, ...], Callable[[], VideoBackend], UpstreamHealth]:
    """One upstream GPU server people already run (vLLM-Omni, SGLang, FastVideo, another
    OpenReel): its model ids, its backend's factory, and its reachability (kept apart from
    the backend, so ``/v1/models`` can ask without building it)."""
    models = tuple(
        HostedModel(f"{server.name}/{m}", m, _upstream_caps(server.max_seconds, server.dialect))
        for m in server.models
    )
    secret = None if server.key is None else server.key.get_secret_value()
    slots = None if server.concurrency is None else JobSlots(server.concurrency)
    client = UpstreamClient(
        server.url,
        secret,
        name=server.name,
        dialect=server.dialect,
        slots=slots,
        signers=_pinned(server, certificate_setting),
    )
    health = UpstreamHealth(server.name, client.probe)
    client.attach_health(health)

    def build() -> VideoBackend:
        return UpstreamBackend(
            server.name,
            client,
            models,
            slots=slots,
            health=health,
            fit=options.fit,
            render_slots=options.render_slots,
        )

    return tuple(m.id for m in models), build, health


def _pinned(server: UpstreamServer, setting: str) -> tuple[bytes, ...]:
    """The upstream's pinned signing certificate, read once at start; ``setting`` names where
    the operator set it.

    Raises:
        ConfigurationError: The file cannot be read or holds no PEM certificate (a broken
            one included: it would match no signature, and every video would be decoded
            with nothing said).
    """
    if server.certificate is None:
        return ()
    try:
        pem = server.certificate.read_bytes()
    except OSError as exc:
        raise ConfigurationError(
            f"{setting}: cannot read {server.certificate}: {exc.strerror or exc}"
        ) from None
    try:
        x509.load_pem_x509_certificates(pem)
    except ValueError:
        raise ConfigurationError(
            f"{setting}: {server.certificate} holds no PEM certificate (save the upstream's "
            "/v1/transparency/certificate.pem there)"
        ) from None
    return (pem,)


Entry = Callable[[Settings, HostedOptions], Offer | None]
"""A provider's entry: its offer under these settings, or None when it is not configured."""

HOSTED_PROVIDERS: tuple[tuple[str, Entry], ...] = (
    ("runway", _keyed("runway", runway.MODELS, runway.build_runway)),
    ("fal", _keyed("fal", fal.MODELS, fal.build_fal)),
    ("replicate", _keyed("replicate", replicate.MODELS, replicate.build_replicate)),
    ("luma", _luma),
    ("veo", _veo),
)
"""Every hosted provider by backend name, in the order /v1/models lists them (the upstreams
after them); each offers its models only when its settings are there."""


def build_registry(settings: Settings) -> BackendRegistry:
    """Registers every backend this installation can serve.

    Hosted models are registered only when their credentials are configured, and local
    models only when ``OPENREEL_LOCAL__ENABLED`` or ``__CATALOGUE`` is set, so
    ``/v1/models`` never offers what cannot run.

    Raises:
        ConfigurationError: The local model catalogue is unusable, or an upstream's pinned
            certificate cannot be read.
    """
    registry = BackendRegistry()
    registry.register(
        "sketch",
        SketchBackend.models,
        SketchBackend,
        cards={model: SKETCH_CARD for model in SketchBackend.models},
    )
    if settings.local.is_enabled:
        catalogue = load_catalogue(settings.local.catalogue)
        local = DiffusersBackend(catalogue, settings.local)
        cards = {entry.id: entry.card for entry in catalogue.entries}
        registry.register("diffusers", local.models, lambda: local, cards=cards)
    # As many hosted results render at once as there are local render workers.
    options = HostedOptions(settings.hosted_fit, threading.Semaphore(settings.workers))
    known = hosted_cards()
    for name, entry in HOSTED_PROVIDERS:
        offered = entry(settings, options)
        if offered is not None:
            models, factory = offered
            cards = {m: known.get(m) or unknown_card(True, served_by=name) for m in models}
            registry.register(name, models, factory, hosted=True, cards=cards)
    servers = settings.upstream_servers()
    single = len(servers) > len(settings.upstreams)  # OPENREEL_UPSTREAM__*, first
    if settings.upstream.url and not single:
        missing = [
            name
            for name, value in (
                ("OPENREEL_PROVIDERS__UPSTREAM", settings.providers.upstream),
                ("OPENREEL_UPSTREAM__MODELS", settings.upstream.models),
            )
            if not value
        ]
        log.warning(
            "OPENREEL_UPSTREAM__URL is set but %s is not: no upstream models are offered",
            " nor ".join(missing),
        )
    for index, server in enumerate(servers):
        setting = (
            "OPENREEL_UPSTREAM__CERTIFICATE"
            if single and index == 0
            else f"OPENREEL_UPSTREAMS ({server.name}) certificate"
        )
        if server.name in registry.backend_names():
            raise ConfigurationError(
                f"upstream name {server.name!r} is already a backend's name here; name the "
                "upstream otherwise (its name is its model prefix)"
            )
        models, factory, health = _upstream(server, options, setting)
        cards = {m: known.get(m) or unknown_card(True, served_by=server.name) for m in models}
        registry.register(
            server.name, models, factory, hosted=True, cards=cards, available=health.reason
        )
        registry.watch(server.name, health.report)
    return registry


def _upstream_caps(max_seconds: float, dialect: str = "openai") -> BackendCapabilities:
    """What an upstream's model is assumed to accept (it checks again itself); only an OpenAI
    upstream (another OpenReel) takes edits, at its ``/videos/edits``."""
    if dialect != "openai":
        return BackendCapabilities(
            max_seconds=max_seconds,
            min_side=64,
            max_side=3840,
            fps_range=(1, 60),
            sizes=("1280x720", "720x1280", "832x480", "480x832"),
            image_input=True,
            deterministic=False,
        )
    return BackendCapabilities(
        max_seconds=max_seconds,
        min_side=64,
        max_side=3840,
        fps_range=(1, 60),
        sizes=("1280x720", "720x1280", "1920x1080", "1080x1920"),
        image_input=True,
        audio=True,  # passed through: whatever sound the upstream sends is kept
        deterministic=False,
        edit=True,
        edit_note="passed through to the upstream's POST /videos/edits with the source video",
    )
