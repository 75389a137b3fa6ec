"""Every hosted provider as its tests see it: its real backend wired to its fake, a request
it serves as is, and where its fake records what the provider was asked.

The provider contract suite runs the same scenarios over :data:`PROVIDERS`; each provider's
own test file uses its entry to build the backend for what is specific to its wire format.
Where a provider truly lacks something a scenario needs (a CDN, a cancel, Retry-After, a
refusal at create), its entry says None and the reason sits beside it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from openreel.backends.base import BackendCapabilities
from openreel.backends.hosted.base import HostedBackend, HostedModel, PollPolicy
from openreel.backends.hosted.dialects import DIALECTS
from openreel.backends.hosted.fal import build_fal
from openreel.backends.hosted.luma import build_luma
from openreel.backends.hosted.replicate import build_replicate
from openreel.backends.hosted.runway import build_runway
from openreel.backends.hosted.upstream import UpstreamClient
from openreel.backends.hosted.upstream_backend import UpstreamBackend
from openreel.backends.hosted.upstream_jobs import JobSlots
from openreel.backends.hosted.veo import build_veo
from openreel.domain import VideoRequest

from .. import gpu_servers
from . import fake_fal, fake_luma, fake_replicate, fake_runway, fake_upstream, fake_veo
from .harness import FakeTime, ScriptedProvider

UPSTREAM_CAPS = BackendCapabilities(
    max_seconds=20,
    min_side=64,
    max_side=1920,
    fps_range=(1, 60),
    sizes=("640x360",),
    image_input=True,  # as runtime declares upstream models: the upstream checks itself
    audio=True,  # passed through, as runtime declares them
    deterministic=False,  # as runtime declares them too
)
"""What the tests declare for the upstream's one model (an upstream's limits are its own)."""


@dataclass(frozen=True)
class HostedProvider:
    """One hosted provider, its fake and how to read the fake's records.

    Attributes:
        name: The provider's name (the backend's, and ``check`` of its refusals).
        fake: Makes its scripted fake, given :class:`ScriptedProvider` switches and its own.
        connect: Builds the real backend on a fake, a fake clock and a poll policy.
        interval_s: The poll interval its tests run with.
        defaults: A request it serves as is (the keyword arguments of ``VideoRequest``).
        key: The credential it is given; None for a server that checks none.
        create: ``METHOD path`` of the request that makes the first job.
        cancel: ``METHOD path`` that cancels the first job; None where there is none.
        made: How many jobs the fake made.
        cancelled: Whether the fake's first job was cancelled.
        refusal: Words of the provider's reason when a finished job is refused; None where
            it has no content check.
        failure: Words of the provider's reason when a job fails otherwise.
        refusal_at_create: Words of its reason when it refuses the create itself; None where
            the provider reports refusals only on the finished job.
        downloaded: Whether the result is downloaded from a URL (False: it comes inline).
        cdn: The host its results are downloaded from, apart from the API; None where there
            is none.
        retry_after: Whether its 429 says when to come back.
        too_long: Request changes it refuses for their length.
        bad_size: Request changes it refuses for their size.
        remote_model: The provider's own name of the default request's model.
        throttled: Whether it answers 429 at all (GPU servers have no rate limits).
        plan: What its backend adds to the default request's plan (a dialect's gaps).
    """

    name: str
    fake: Callable[..., ScriptedProvider]
    connect: Callable[[Any, FakeTime, PollPolicy], HostedBackend]
    interval_s: float
    defaults: dict[str, object]
    key: str | None
    create: str
    cancel: str | None
    made: Callable[[Any], int]
    cancelled: Callable[[Any], bool]
    refusal: str | None
    failure: str
    refusal_at_create: str | None
    downloaded: bool
    cdn: str | None
    retry_after: bool
    too_long: dict[str, object]
    bad_size: dict[str, object]
    remote_model: str
    throttled: bool = True
    plan: dict[str, object] = field(default_factory=dict)

    def backend(
        self, fake: ScriptedProvider, time: FakeTime, policy: PollPolicy | None = None
    ) -> HostedBackend:
        """The real backend talking to ``fake`` on ``time`` (a 600 s deadline by default)."""
        policy = policy or PollPolicy(interval_s=self.interval_s, retries=3, deadline_s=600)
        return self.connect(fake, time, policy)

    def request(self, **changes: object) -> VideoRequest:
        """The default request with ``changes``."""
        return VideoRequest(**(self.defaults | changes))  # type: ignore[arg-type]

    def __str__(self) -> str:
        return self.name


def _runway(fake: fake_runway.FakeRunway, time: FakeTime, policy: PollPolicy) -> HostedBackend:
    return build_runway(
        fake_runway.KEY,
        transport=fake.transport(),
        base_url=f"https://{fake_runway.API_HOST}",
        policy=policy,
        sleep=time.sleep,
        clock=time.clock,
    )


def _fal(fake: fake_fal.FakeFal, time: FakeTime, policy: PollPolicy) -> HostedBackend:
    return build_fal(
        fake_fal.KEY, transport=fake.transport(), policy=policy, sleep=time.sleep, clock=time.clock
    )


def _luma(fake: fake_luma.FakeLuma, time: FakeTime, policy: PollPolicy) -> HostedBackend:
    return build_luma(
        fake_luma.KEY, transport=fake.transport(), policy=policy, sleep=time.sleep, clock=time.clock
    )


def _replicate(
    fake: fake_replicate.FakeReplicate, time: FakeTime, policy: PollPolicy
) -> HostedBackend:
    return build_replicate(
        fake_replicate.KEY,
        transport=fake.transport(),
        policy=policy,
        sleep=time.sleep,
        clock=time.clock,
    )


def _veo(fake: fake_veo.FakeVeo, time: FakeTime, policy: PollPolicy) -> HostedBackend:
    from google.oauth2.credentials import Credentials

    return build_veo(
        project=fake_veo.PROJECT,
        location=fake_veo.LOCATION,
        client_kwargs={
            "credentials": Credentials(token=fake_veo.TOKEN),
            "base_url": fake_veo.BASE,
            "http_client": httpx.Client(transport=fake.transport()),
        },
        policy=policy,
        sleep=time.sleep,
        clock=time.clock,
    )


def _upstream(
    fake: fake_upstream.FakeUpstream, time: FakeTime, policy: PollPolicy
) -> HostedBackend:
    client = UpstreamClient(
        "http://upstream.test/v1", fake_upstream.KEY, transport=fake.transport()
    )
    model = HostedModel("upstream/openreel-sketch", "openreel-sketch", UPSTREAM_CAPS)
    return HostedBackend(
        "upstream", client, (model,), policy=policy, sleep=time.sleep, clock=time.clock
    )


def _gpu(dialect: str, key: str | None, slots: int | None = None) -> Callable[..., HostedBackend]:
    """Connects the real upstream backend of ``dialect`` to its fake GPU server."""

    def connect(fake: gpu_servers._GpuServer, time: FakeTime, policy: PollPolicy) -> HostedBackend:
        name = _GPU_NAMES[dialect]
        job_slots = None if slots is None else JobSlots(slots)
        client = UpstreamClient(
            "http://gpu.test/v1",
            key,
            name=name,
            dialect=dialect,
            transport=fake.transport(),
            clock=time.clock,
            slots=job_slots,
            drain_interval_s=0.05,
            drain_max_s=2.0,
        )
        model = HostedModel(f"{name}/wan", "wan", UPSTREAM_CAPS)
        return UpstreamBackend(
            name,
            client,
            (model,),
            slots=job_slots,
            policy=policy,
            sleep=time.sleep,
            clock=time.clock,
        )

    return connect


_GPU_NAMES = {"vllm-omni": "vllm", "sglang": "sglang", "fastvideo": "fastvideo"}

_PROMPT = "a lighthouse at dusk"
_VEO_MODELS = (
    f"/v1beta1/projects/{fake_veo.PROJECT}/locations/{fake_veo.LOCATION}/publishers/google/models"
)

RUNWAY = HostedProvider(
    name="runway",
    fake=fake_runway.FakeRunway,
    connect=_runway,
    interval_s=2.0,
    defaults={
        "prompt": _PROMPT,
        "model": "runway/gen4.5",
        "seconds": 2.0,
        "width": 1280,
        "height": 720,
        "fps": 24,
        "seed": 3,
    },
    key=fake_runway.KEY,
    create="POST /v1/text_to_video",
    cancel="DELETE /v1/tasks/task-0001",
    made=lambda fake: len(fake.tasks),
    cancelled=lambda fake: fake.tasks["task-0001"].cancelled,
    refusal="real person",
    failure="unexpected error occurred",
    # Runway takes every well-formed task and reports a safety refusal on the finished task
    # (failureCode SAFETY.*); its create answers 400 only for a malformed body.
    refusal_at_create=None,
    downloaded=True,
    cdn=fake_runway.CDN_HOST,
    retry_after=True,
    too_long={"seconds": 12.0},
    bad_size={"width": 1920, "height": 1080},
    remote_model="gen4.5",
)

FAL = HostedProvider(
    name="fal",
    fake=fake_fal.FakeFal,
    connect=_fal,
    interval_s=2.0,
    defaults={
        "prompt": _PROMPT,
        "model": "fal/ltx-video",
        "seconds": 1.0,
        "width": 768,
        "height": 512,
        "fps": 24,
        "seed": 3,
    },
    key=fake_fal.KEY,
    create="POST /fal-ai/ltx-video",
    cancel="PUT /fal-ai/ltx-video/requests/req-1/cancel",
    made=lambda fake: len(fake.jobs),
    cancelled=lambda fake: fake.jobs["req-1"].cancelled,
    refusal="safety checker as NSFW",
    failure="CUDA out of memory",
    refusal_at_create="flagged as violating the content policy",
    downloaded=True,
    cdn=fake_fal.CDN,
    retry_after=True,
    too_long={"seconds": 8.0},
    bad_size={"model": "fal/wan-t2v", "width": 1920, "height": 1080},
    remote_model="fal-ai/ltx-video",
)

LUMA = HostedProvider(
    name="luma",
    fake=fake_luma.FakeLuma,
    connect=_luma,
    interval_s=3.0,
    defaults={
        "prompt": _PROMPT,
        "model": "luma/ray-2",
        "seconds": 1.0,
        "width": 960,
        "height": 540,
        "fps": 24,
        "seed": 3,
    },
    key=fake_luma.KEY,
    create=f"POST {fake_luma.PREFIX}/generations/video",
    cancel=f"DELETE {fake_luma.PREFIX}/generations/0f3e0001-aaaa-bbbb-cccc-000000000000",
    made=lambda fake: len(fake.generations),
    cancelled=lambda fake: fake.generations["0f3e0001-aaaa-bbbb-cccc-000000000000"].deleted,
    refusal="content moderation",
    failure="Internal error while rendering",
    refusal_at_create="failed content moderation",
    downloaded=True,
    cdn=fake_luma.CDN,
    retry_after=True,
    too_long={"seconds": 10.0},
    bad_size={"width": 1024, "height": 1024},
    remote_model="ray-2",
)

REPLICATE = HostedProvider(
    name="replicate",
    fake=fake_replicate.FakeReplicate,
    connect=_replicate,
    interval_s=2.0,
    defaults={
        "prompt": _PROMPT,
        "model": "replicate/wan-2.2-t2v-fast",
        "seconds": 1.0,
        "width": 832,
        "height": 480,
        "fps": 24,
        "seed": 3,
    },
    key=fake_replicate.KEY,
    create="POST /v1/models/wan-video/wan-2.2-t2v-fast/predictions",
    cancel="POST /v1/predictions/pred0001/cancel",
    made=lambda fake: len(fake.predictions),
    cancelled=lambda fake: fake.predictions["pred0001"].cancelled,
    refusal="NSFW content detected",
    failure="illegal memory access",
    # A Replicate prediction is created for any valid input; its safety checker fails the
    # finished prediction ("NSFW content detected"), never the create.
    refusal_at_create=None,
    downloaded=True,
    cdn=fake_replicate.CDN,
    retry_after=True,
    too_long={"seconds": 6.0},
    bad_size={"width": 640, "height": 360},
    remote_model="wan-video/wan-2.2-t2v-fast",
)

VEO = HostedProvider(
    name="veo",
    fake=fake_veo.FakeVeo,
    connect=_veo,
    interval_s=10.0,
    defaults={
        "prompt": _PROMPT,
        "model": "veo/veo-3.1-fast",
        "seconds": 4.0,
        "width": 1280,
        "height": 720,
        "fps": 12,
        "seed": 3,
    },
    key=fake_veo.TOKEN,
    create=f"POST {_VEO_MODELS}/veo-3.1-fast-generate-001:predictLongRunning",
    # Vertex has no cancel for video operations: a cancelled job is only no longer followed.
    cancel=None,
    made=lambda fake: len(fake.operations),
    cancelled=lambda fake: False,
    refusal="real person",
    failure="Internal error",
    refusal_at_create="Responsible AI",
    # Vertex returns the video inline (base64) in the finished operation: no URL, no CDN.
    downloaded=False,
    cdn=None,
    # Vertex's 429 (RESOURCE_EXHAUSTED) carries no Retry-After: the loop's backoff paces it.
    retry_after=False,
    too_long={"seconds": 10.0},
    bad_size={"width": 1920, "height": 1080, "seconds": 6.0},
    remote_model="veo-3.1-fast-generate-001",
)

UPSTREAM = HostedProvider(
    name="upstream",
    fake=fake_upstream.FakeUpstream,
    connect=_upstream,
    interval_s=2.0,
    defaults={
        "prompt": _PROMPT,
        "model": "upstream/openreel-sketch",
        "seconds": 1.0,
        "width": 640,
        "height": 360,
        "fps": 24,
        "seed": 3,
    },
    key=fake_upstream.KEY,
    create="POST /v1/videos",
    cancel="POST /v1/videos/video_1/cancel",
    made=lambda fake: len(fake.jobs),
    cancelled=lambda fake: fake.jobs["video_1"].cancelled,
    refusal="looks like a real person",
    failure="GPU fell over",
    refusal_at_create="blocked by our moderation system",
    # An OpenAI-style upstream serves the file itself (GET /v1/videos/{id}/content), to the
    # key: there is no separate host to keep the key from.
    downloaded=True,
    cdn=None,
    retry_after=True,
    too_long={"seconds": 30.0},
    bad_size={"width": 3840, "height": 2160},
    remote_model="openreel-sketch",
)


def _gpu_defaults(name: str) -> dict[str, object]:
    return {
        "prompt": _PROMPT,
        "model": f"{name}/wan",
        "seconds": 1.0,
        "width": 640,
        "height": 360,
        "fps": 24,
        "seed": 3,
    }


def _vllm_fake(**switches: object) -> gpu_servers.FakeVllmOmni:
    return gpu_servers.FakeVllmOmni(api_key=gpu_servers.KEY, **switches)  # type: ignore[arg-type]


VLLM_OMNI = HostedProvider(
    name="vllm",
    fake=_vllm_fake,
    connect=_gpu("vllm-omni", gpu_servers.KEY),
    interval_s=2.0,
    defaults=_gpu_defaults("vllm"),
    key=gpu_servers.KEY,
    create="POST /v1/videos",
    # Its DELETE cancels a queued or running job's task and aborts the engine request.
    cancel=f"DELETE /v1/videos/video_gen_{1:032x}",
    made=lambda fake: len(fake.history),
    cancelled=lambda fake: fake.history[0].aborted,
    # No content check: a GPU server makes whatever it is asked.
    refusal=None,
    failure="CUDA out of memory",
    refusal_at_create=None,
    downloaded=True,
    cdn=None,
    retry_after=False,
    too_long={"seconds": 30.0},
    bad_size={"width": 3840, "height": 2160},
    remote_model="wan",
    throttled=False,
    plan=DIALECTS["vllm-omni"].plan_notes(),
)

SGLANG = HostedProvider(
    name="sglang",
    fake=gpu_servers.FakeSGLang,
    connect=_gpu("sglang", None),
    interval_s=2.0,
    defaults=_gpu_defaults("sglang"),
    key=None,  # no authentication
    create="POST /v1/videos",
    # Its DELETE drops the record and leaves the work running: no cancel.
    cancel=None,
    made=lambda fake: len(fake.history),
    cancelled=lambda fake: False,
    refusal=None,
    failure="CUDA out of memory",
    refusal_at_create=None,
    downloaded=True,
    cdn=None,
    retry_after=False,
    too_long={"seconds": 30.0},
    bad_size={"width": 3840, "height": 2160},
    remote_model="wan",
    throttled=False,
    plan=DIALECTS["sglang"].plan_notes(),
)

FASTVIDEO = HostedProvider(
    name="fastvideo",
    fake=gpu_servers.FakeFastVideo,
    connect=_gpu("fastvideo", None, slots=1),
    interval_s=2.0,
    defaults=_gpu_defaults("fastvideo"),
    key=None,  # no authentication
    create="POST /v1/videos",
    cancel=None,  # as SGLang's
    made=lambda fake: len(fake.history),
    cancelled=lambda fake: False,
    refusal=None,
    failure="CUDA out of memory",
    refusal_at_create=None,
    downloaded=True,
    cdn=None,
    retry_after=False,
    too_long={"seconds": 30.0},
    bad_size={"width": 3840, "height": 2160},
    remote_model="wan",
    throttled=False,
    plan=DIALECTS["fastvideo"].plan_notes(),
)

GPU_SERVERS: tuple[HostedProvider, ...] = (VLLM_OMNI, SGLANG, FASTVIDEO)
"""The GPU servers' ``/v1/videos`` variants, each with its fake (tests/support/gpu_servers.py)."""

PROVIDERS: tuple[HostedProvider, ...] = (RUNWAY, FAL, LUMA, REPLICATE, VEO, UPSTREAM, *GPU_SERVERS)
"""Every hosted provider OpenReel speaks to, each with its fake."""
