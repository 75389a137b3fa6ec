"""What each GPU server's dialect does beyond the provider contract: the create's form, progress
estimated where the server reports none, failures, cancel, job slots, several upstreams routed
by prefix, and an upstream that goes away leaving ``/v1/models``."""

from __future__ import annotations

import io
import json
import threading
from pathlib import Path

import pytest
from PIL import Image
from pydantic import SecretStr
from tests.support import gpu_servers
from tests.support.hosted.harness import FakeTime, run
from tests.support.hosted.providers import FASTVIDEO, SGLANG, UPSTREAM_CAPS, VLLM_OMNI

from openreel.backends.hosted.base import HostedBackend, HostedModel, PollPolicy
from openreel.backends.hosted.dialects import PATH_FIELDS
from openreel.backends.hosted.upstream import UpstreamClient
from openreel.backends.hosted.upstream_backend import UpstreamBackend
from openreel.backends.hosted.upstream_health import UpstreamHealth
from openreel.backends.hosted.upstream_jobs import JobSlots
from openreel.backends.providers import build_registry
from openreel.backends.registry import BackendRegistry
from openreel.config import ProviderKeys, Settings, UpstreamConfig, UpstreamServer
from openreel.domain import ImageInput
from openreel.errors import (
    BackendError,
    BackendUnavailableError,
    CancelledError,
    ConfigurationError,
)
from openreel.media.certs import ensure_instance_identity


def _png() -> ImageInput:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 36), (250, 200, 10)).save(buffer, "PNG")
    return ImageInput(data=buffer.getvalue(), media_type="image/png", width=64, height=36)


def test_vllm_omni_gets_a_multipart_create_with_seed_frames_and_rate() -> None:
    fake = VLLM_OMNI.fake()
    request = VLLM_OMNI.request(seed=123456, fps=16, seconds=1.5, input_reference=_png())
    run(VLLM_OMNI.backend(fake, FakeTime()), request)
    (job,) = fake.history
    assert job.fields["seed"] == "123456"
    assert job.fields["num_frames"] == "24"
    assert job.fields["fps"] == "16"
    assert job.fields["seconds"] == "2"  # digits only; num_frames says the exact length
    assert "model" not in job.fields  # one model per process: a differing name is refused
    assert job.files["input_reference"][1] == "image/png"
    assert not PATH_FIELDS & job.fields.keys()
    assert fake.auth_headers[0] == f"Bearer {gpu_servers.KEY}"


def test_sglang_text_goes_as_json_and_an_image_as_a_multipart_file_never_a_path() -> None:
    fake = SGLANG.fake()
    backend = SGLANG.backend(fake, FakeTime())
    run(backend, SGLANG.request(seed=77))
    run(backend, SGLANG.request(seed=78, input_reference=_png()))
    text, image = fake.history
    assert text.fields["_sent"] == {
        "prompt": "a lighthouse at dusk",
        "model": "wan",
        "seconds": 1,
        "size": "640x360",
        "width": 640,
        "height": 360,
        "num_frames": 24,
        "fps": 24,
        "seed": 77,
    }
    # The multipart create demands the file; its path on the server is the server's own.
    assert image.fields["input_reference"].startswith("outputs/uploads/")
    assert json.loads(image.fields["_sent"]["extra_body"]) == {
        "fps": 24,
        "num_frames": 24,
        "seed": 78,
    }
    for job in fake.history:
        sent = job.fields["_sent"]
        assert not PATH_FIELDS & sent.keys()
        assert "input_reference" not in sent  # a string here would be read as a server path
    assert set(fake.auth_headers) == {""}  # no authentication: no key sent


def test_fastvideo_gets_the_seed_so_its_fixed_default_is_never_used() -> None:
    fake = FASTVIDEO.fake()
    run(FASTVIDEO.backend(fake, FakeTime()), FASTVIDEO.request(seed=4242, fps=12))
    (job,) = fake.history
    assert job.fields["seed"] == 4242  # not FastVideo's fixed default, 1024
    assert job.fields["num_frames"] == 12
    assert job.fields["fps"] == 12


@pytest.mark.parametrize("provider", [VLLM_OMNI, SGLANG, FASTVIDEO], ids=str)
def test_progress_is_estimated_from_the_models_recent_durations(provider: object) -> None:
    from tests.support.hosted.providers import HostedProvider

    assert isinstance(provider, HostedProvider)
    fake, time = provider.fake(runs_polls=6), FakeTime()
    backend = provider.backend(fake, time)
    decoded = int(provider.request().frame_count * 0.9)  # where the download's decode starts

    def waiting(seen: list[int]) -> list[int]:
        return [count for count in seen if count < decoded]

    _, first = run(backend, provider.request())
    # The server says 0 until done and nothing was learnt yet: no estimate while it runs.
    assert len(waiting(first)) >= 3
    assert set(waiting(first)) == {0}
    _, second = run(backend, provider.request())
    # Now the model's duration is known: progress rises while the server still says 0.
    assert waiting(second) == sorted(waiting(second))
    assert max(waiting(second)) > 0
    assert "estimated" in str(backend.describe(provider.request())["progress"])


def test_vllm_omni_failed_job_answered_with_500_is_a_failed_video_with_its_reason() -> None:
    fake = VLLM_OMNI.fake(fail_later=True)
    with pytest.raises(BackendError, match="CUDA out of memory") as info:
        run(VLLM_OMNI.backend(fake, FakeTime()), VLLM_OMNI.request())
    assert info.value.code == "backend_error"
    assert fake.requests.count("GET /v1/videos/" + fake.history[0].id) <= 2  # not retried


def test_fastvideo_bad_form_is_rejected_with_fastapis_detail() -> None:
    fake = FASTVIDEO.fake()
    client = UpstreamClient(
        "http://gpu.test/v1", None, name="fv", dialect="fastvideo", transport=fake.transport()
    )
    with pytest.raises(BackendError, match="prompt is required"):
        client._send("POST", "/videos", data={"prompt": ""}, files={"x": ("a", b"b")})


def test_vllm_omni_cancel_deletes_and_stops_the_job_there() -> None:
    fake, time = VLLM_OMNI.fake(never_finish=True), FakeTime()
    with pytest.raises(CancelledError):
        run(VLLM_OMNI.backend(fake, time), VLLM_OMNI.request(), cancelled=lambda: time.now >= 3)
    assert fake.history[0].aborted
    assert not fake.jobs


def test_sglang_cancel_drops_the_result_and_the_plan_says_the_server_finishes_it() -> None:
    fake, time = SGLANG.fake(never_finish=True), FakeTime()
    backend = SGLANG.backend(fake, time)
    with pytest.raises(CancelledError):
        run(backend, SGLANG.request(), cancelled=lambda: time.now >= 3)
    job = fake.history[0]
    assert job.deleted
    assert not job.aborted
    assert job.status == "queued"
    assert "cannot stop" in str(backend.describe(SGLANG.request())["cancel"])


def _threaded(backend: UpstreamBackend, request: object, **kwargs: object) -> threading.Thread:
    errors: list[BaseException] = []

    def go() -> None:
        try:
            list(backend.generate(request, **kwargs))  # type: ignore[arg-type]
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=go, daemon=True)
    thread.errors = errors  # type: ignore[attr-defined]
    thread.start()
    return thread


def _fastvideo(fake: gpu_servers.FakeFastVideo, slots: JobSlots) -> UpstreamBackend:
    client = UpstreamClient(
        "http://gpu.test/v1",
        None,
        name="fv",
        dialect="fastvideo",
        transport=fake.transport(),
        slots=slots,
        drain_interval_s=0.02,
    )
    model = HostedModel("fv/wan", "wan", UPSTREAM_CAPS)
    policy = PollPolicy(interval_s=0.01, cancel_check_s=0.01, deadline_s=60)
    return UpstreamBackend("fv", client, (model,), slots=slots, policy=policy)


def test_concurrency_one_makes_the_second_job_wait_for_the_first() -> None:
    fake = gpu_servers.FakeFastVideo(runs_polls=5)
    backend = _fastvideo(fake, JobSlots(1))
    request = FASTVIDEO.request(model="fv/wan", seconds=0.5, width=160, height=90)
    threads = [_threaded(backend, request) for _ in range(3)]
    for thread in threads:
        thread.join(30)
    assert not any(t.errors for t in threads)  # type: ignore[attr-defined]
    assert len(fake.history) == 3
    assert fake.most_running == 1


def test_a_cancelled_fastvideo_job_keeps_its_slot_until_the_server_has_finished_it() -> None:
    fake = gpu_servers.FakeFastVideo(never_finish=True)
    slots = JobSlots(1)
    backend = _fastvideo(fake, slots)
    request = FASTVIDEO.request(model="fv/wan", seconds=0.5, width=160, height=90)
    stop = threading.Event()
    first = _threaded(backend, request, cancelled=stop.is_set)
    while not fake.history:
        threading.Event().wait(0.01)
    stop.set()
    first.join(10)
    assert isinstance(first.errors[0], CancelledError)  # type: ignore[attr-defined]
    second = _threaded(backend, request)
    threading.Event().wait(0.3)
    # The server still runs the first job: the second has not been sent.
    assert len(fake.history) == 1
    with fake.lock:
        fake.never_finish = False
        fake.finish(fake.history[0], "completed")  # the server finishes the first job
    second.join(20)
    assert not second.errors  # type: ignore[attr-defined]
    assert len(fake.history) == 2
    assert fake.most_running == 1


def test_several_upstreams_are_routed_by_their_prefix_and_old_settings_still_work() -> None:
    settings = Settings(
        upstream=UpstreamConfig(url="http://old.test/v1", models=["m1"], prefix="studio"),
        providers=ProviderKeys(upstream="k"),  # type: ignore[arg-type]
        upstreams=[
            UpstreamServer(name="wan", url="http://a.test/v1", dialect="vllm-omni", models=["W"]),
            UpstreamServer(name="fv", url="http://b.test/v1", dialect="fastvideo", models=["F"]),
        ],
    )
    registry = build_registry(settings)
    served = {e.model: e.backend for e in registry.models()}
    assert served["studio/m1"] == "studio"
    assert served["wan/W"] == "wan"
    assert served["fv/F"] == "fv"
    assert registry.for_model("fv/F").name == "fv"
    fastvideo = settings.upstream_servers()[2]
    assert fastvideo.concurrency == 1  # FastVideo: one job at a time


def test_the_old_single_upstream_environment_is_one_openai_upstream(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENREEL_UPSTREAM__URL", "http://old.test/v1")
    monkeypatch.setenv("OPENREEL_UPSTREAM__MODELS", '["m1", "m2"]')
    monkeypatch.setenv("OPENREEL_PROVIDERS__UPSTREAM", "old-key")
    (server,) = Settings().upstream_servers()
    assert (server.name, server.dialect, server.url) == ("upstream", "openai", "http://old.test/v1")
    assert server.key is not None
    assert server.key.get_secret_value() == "old-key"
    served = [e.model for e in build_registry(Settings()).models()]
    assert served == ["openreel-sketch", "upstream/m1", "upstream/m2"]


def test_the_fleet_is_read_from_openreel_upstreams(monkeypatch: pytest.MonkeyPatch) -> None:
    fleet = [{"name": "sg", "url": "http://s.test/v1", "dialect": "sglang", "models": ["x"]}]
    monkeypatch.setenv("OPENREEL_UPSTREAMS", json.dumps(fleet))
    (server,) = Settings().upstream_servers()
    assert (server.name, server.dialect, server.models) == ("sg", "sglang", ["x"])
    with pytest.raises(ValueError, match=r"concurrency is 2"):
        UpstreamServer(
            name="f", url="http://f/v1", dialect="fastvideo", models=["x"], concurrency=2
        )
    with pytest.raises(ValueError, match=r"checks no key"):
        UpstreamServer(name="s", url="http://s/v1", dialect="sglang", models=["x"], key="k")  # type: ignore[arg-type]
    monkeypatch.setenv("OPENREEL_UPSTREAMS", json.dumps(fleet * 2))
    with pytest.raises(ValueError, match="given twice"):
        Settings()


def test_an_unreachable_upstream_leaves_the_models_and_gives_503_then_comes_back() -> None:
    fake = gpu_servers.FakeSGLang()
    down = {"now": False}

    def transport_handle(request: object) -> object:
        import httpx

        assert isinstance(request, httpx.Request)
        if down["now"]:
            raise httpx.ConnectError("connection refused", request=request)
        return fake.handle(request)

    import httpx

    client = UpstreamClient(
        "http://gpu.test/v1",
        None,
        name="sg",
        dialect="sglang",
        transport=httpx.MockTransport(transport_handle),
    )
    health = UpstreamHealth("sg", client.probe, every_s=3600)
    client.attach_health(health)
    model = HostedModel("sg/wan", "wan", UPSTREAM_CAPS)
    backend = UpstreamBackend("sg", client, (model,), health=health)
    from openreel.backends.registry import BackendRegistry

    registry = BackendRegistry()
    registry.register("sg", ("sg/wan",), lambda: backend, hosted=True, available=health.reason)
    request = SGLANG.request(model="sg/wan")
    assert health.check_now() is None
    assert [e.model for e in registry.models(available_only=True)] == ["sg/wan"]
    down["now"] = True
    assert "ConnectError" in (health.check_now() or "")
    assert registry.models(available_only=True) == []
    assert "ConnectError" in registry.unavailable()["sg"]  # what admins see
    with pytest.raises(BackendUnavailableError) as info:
        backend.check(request)
    assert info.value.http_status == 503
    assert info.value.code == "provider_unavailable"
    assert "ConnectError" not in info.value.message  # the reason is for admins
    down["now"] = False
    assert health.check_now() is None
    assert [e.model for e in registry.models(available_only=True)] == ["sg/wan"]
    backend.check(request)


def test_a_pinned_certificate_is_read_at_start_and_a_bad_one_is_named(tmp_path: Path) -> None:
    pem = tmp_path / "upstream-ca.pem"
    pem.write_bytes(ensure_instance_identity(tmp_path / "keys").anchor_pem)

    def registry(certificate: Path, single: bool = False) -> BackendRegistry:
        if single:  # OPENREEL_UPSTREAM__URL and its neighbours
            upstream = UpstreamConfig(
                url="http://up.test/v1", models=["m"], certificate=certificate
            )
            keys = ProviderKeys(upstream=SecretStr("k"))
            return build_registry(Settings(upstream=upstream, providers=keys))
        server = UpstreamServer(
            name="up", url="http://up.test/v1", models=["m"], certificate=certificate
        )
        return build_registry(Settings(upstreams=[server]))

    backend = registry(pem).for_model("up/m")
    assert isinstance(backend, HostedBackend)
    assert backend.signers == (pem.read_bytes(),)
    with pytest.raises(ConfigurationError, match=r"OPENREEL_UPSTREAMS \(up\) certificate: cannot"):
        registry(tmp_path / "missing.pem")
    with pytest.raises(ConfigurationError, match=r"^OPENREEL_UPSTREAM__CERTIFICATE: cannot read"):
        registry(tmp_path / "missing.pem", single=True)
    (tmp_path / "key.pem").write_text("-----BEGIN PRIVATE KEY-----\n")
    with pytest.raises(ConfigurationError, match=r"key\.pem holds no PEM certificate"):
        registry(tmp_path / "key.pem")
    # A certificate's markers round a body that is none: it would match no signature.
    broken = tmp_path / "broken.pem"
    broken.write_bytes(b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    with pytest.raises(ConfigurationError, match=r"broken\.pem holds no PEM certificate"):
        registry(broken, single=True)
