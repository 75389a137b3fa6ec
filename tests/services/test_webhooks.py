"""The webhooks' parts on their own: the signature against the official SDK, the address
guard (rebinding included), the sealing key, the backoff, the outbox on every ending path."""

from __future__ import annotations

import ipaddress
import json
import os
import stat
import time
from collections.abc import Sequence
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from openai import InvalidWebhookSignatureError, OpenAI
from tests.support.clock import Clock
from tests.support.webhook_receiver import receiving

from openreel.domain import Job, JobError, Principal, VideoRequest
from openreel.errors import ConfigurationError, NotFoundError, WebhookTargetError
from openreel.services.webhooks import RetryPolicy, TargetPolicy, WebhookDispatcher, WebhookSender
from openreel.services.webhooks.sender import retry_after_seconds
from openreel.services.webhooks.signing import new_secret, signed_headers
from openreel.storage.audit import AuditEntry
from openreel.storage.db import Database
from openreel.storage.jobs import JobStore
from openreel.storage.webhooks import WebhookStore
from openreel.trust.sealing import KEY_FILE, SecretBox, load_or_create_box

SDK = OpenAI(api_key="unused", base_url="http://127.0.0.1:9/v1")
EVENTS = ["video.completed", "video.failed"]


def test_the_sdk_accepts_our_signature_and_refuses_any_change() -> None:
    secret = new_secret()
    body = b'{"id":"evt_1","object":"event","created_at":1,"type":"video.completed","data":{}}'
    headers = signed_headers([secret], "msg_1", int(time.time()), body)
    SDK.webhooks.unwrap(body, headers, secret=secret)
    for changed in (
        (body.replace(b"evt_1", b"evt_2"), headers),
        (body, headers | {"webhook-id": "msg_2"}),
        (body, headers | {"webhook-timestamp": str(int(headers["webhook-timestamp"]) + 1)}),
    ):
        with pytest.raises(InvalidWebhookSignatureError):
            SDK.webhooks.unwrap(changed[0], changed[1], secret=secret)
    with pytest.raises(InvalidWebhookSignatureError):
        SDK.webhooks.unwrap(body, headers, secret=new_secret())


def test_two_secrets_sign_side_by_side() -> None:
    old, new = new_secret(), new_secret()
    body = b'{"a":1}'
    headers = signed_headers([new, old], "msg_x", int(time.time()), body)
    assert headers["webhook-signature"].count("v1,") == 2
    SDK.webhooks.unwrap(body, headers, secret=old)
    SDK.webhooks.unwrap(body, headers, secret=new)


def _resolver(answers: dict[str, Sequence[str]]) -> TargetPolicy:
    return TargetPolicy(resolve=lambda host, port: answers[host])


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("10.0.0.1", "private"),
        ("10.255.255.254", "private"),
        ("192.168.1.1", "private"),
        ("172.16.0.1", "private"),
        ("169.254.169.254", "metadata"),
        ("fd00:ec2::254", "metadata"),
        ("100.100.100.200", "metadata"),
        ("fe80::1", "link-local"),
        ("::ffff:127.0.0.1", "loopback"),
        ("0.0.0.0", "unspecified"),
        ("100.64.0.1", "public"),
    ],
)
def test_private_and_metadata_addresses_are_refused(address: str, why: str) -> None:
    policy = _resolver({"hooks.example.com": [address]})
    with pytest.raises(WebhookTargetError) as refused:
        policy.resolve("https://hooks.example.com/x")
    assert refused.value.param == "url"
    assert why in refused.value.message
    assert str(ipaddress.ip_address(address)) in refused.value.message
    allowed = TargetPolicy(allow_private=True, resolve=lambda host, port: [address])
    assert allowed.resolve("https://hooks.example.com/x").address == str(
        ipaddress.ip_address(address)
    )


def test_a_name_with_one_private_answer_among_public_ones_is_refused() -> None:
    policy = _resolver({"mixed.example.com": ["93.184.215.14", "127.0.0.1"]})
    with pytest.raises(WebhookTargetError):
        policy.resolve("https://mixed.example.com/")
    public = _resolver({"public.example.com": ["93.184.215.14"]})
    target = public.resolve("https://public.example.com:8443/x?y=1")
    assert (target.address, target.port, target.host_header) == (
        "93.184.215.14",
        8443,
        "public.example.com:8443",
    )
    assert str(target.connect_url) == "https://93.184.215.14:8443/x?y=1"


def test_the_name_localhost_is_refused_through_real_dns() -> None:
    with pytest.raises(WebhookTargetError, match="loopback"):
        TargetPolicy().resolve("https://localhost/hook")


def test_dns_rebinding_is_checked_at_every_attempt_and_the_checked_address_is_used() -> None:
    """The name first answers a public address, then loopback: the second attempt is refused
    without any connection, and a permitted attempt connects to the address it checked."""
    with receiving() as receiver:
        answers = iter([["93.184.215.14"], ["127.0.0.1"]])
        policy = TargetPolicy(allow_http=True, resolve=lambda host, port: next(answers))
        sender = WebhookSender(policy, timeout=0.5)
        url = f"http://rebind.example.com:{receiver.port}/hook"
        first = sender.send(url, b"{}", {})
        # The public address is not reachable from here: a connection error, not a refusal.
        assert first.status_code is None
        assert first.error is not None
        assert "refused" not in first.error
        second = sender.send(url, b"{}", {})
        assert second.error is not None
        assert second.error.startswith("refused:")
        assert "loopback" in second.error
        assert receiver.received == []
        # Allowed, the request goes to the address the name resolved to, named by its host.
        allowed = TargetPolicy(
            allow_http=True, allow_private=True, resolve=lambda host, port: ["127.0.0.1"]
        )
        reply = WebhookSender(allowed, timeout=2).send(url, b"{}", {"webhook-id": "msg_1"})
        assert reply.status_code == 200
        [request] = receiver.received
        assert request.headers["host"] == f"rebind.example.com:{receiver.port}"
        sender.close()


def test_url_forms_are_checked() -> None:
    policy = TargetPolicy()
    for url in ("http://x.example.com/", "ftp://x.example.com/", "https://", "nothing"):
        with pytest.raises(WebhookTargetError):
            policy.parse(url)
    with pytest.raises(WebhookTargetError, match="user name"):
        policy.parse("https://me:pw@x.example.com/")
    assert TargetPolicy(allow_http=True).parse("http://x.example.com/").scheme == "http"


def test_the_sealing_key_is_made_once_owner_only(tmp_path: Path) -> None:
    box = load_or_create_box(tmp_path)
    mode = stat.S_IMODE(os.stat(tmp_path / KEY_FILE).st_mode)
    assert mode == 0o600
    sealed = box.seal("whsec_abc")
    assert "whsec_abc" not in sealed
    assert load_or_create_box(tmp_path).open(sealed) == "whsec_abc"
    other = SecretBox(Fernet.generate_key())
    with pytest.raises(ConfigurationError, match="same key"):
        other.open(sealed)
    with pytest.raises(ConfigurationError, match="OPENREEL_WEBHOOKS__KEY"):
        load_or_create_box(tmp_path, "not-a-key")


def test_backoff_doubles_with_jitter_caps_and_honours_retry_after() -> None:
    policy = RetryPolicy(
        base_seconds=5, max_delay_seconds=3600, max_age_seconds=72 * 3600, disable_after_seconds=1
    )
    assert [policy.delay(n, 0.0) for n in (1, 2, 3)] == [2.5, 5.0, 10.0]
    assert [policy.delay(n, 0.999999) for n in (1, 2, 3)] == pytest.approx([5, 10, 20], rel=1e-5)
    assert policy.delay(50, 0.5) <= 3600
    assert policy.delay(1, 0.0, retry_after=120) == 120
    assert policy.delay(1, 0.0, retry_after=10**9) == 3600
    assert retry_after_seconds("30", 0) == 30
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", 1445412470) == pytest.approx(10)
    assert retry_after_seconds("soon", 0) is None


def _job(owner: str) -> Job:
    return Job(
        id=Job.new_id(),
        owner_id=owner,
        request=VideoRequest(prompt="a boat", model="openreel-sketch"),
    )


def test_every_ending_path_writes_one_event_per_endpoint_and_none_twice(tmp_path: Path) -> None:
    db = Database.for_data_dir(tmp_path)
    db.migrate()
    store = JobStore(db)
    hooks = WebhookStore(db)
    alice = Principal(id="usr_alice", name="alice")
    made = {}
    for name, events in (("both", EVENTS), ("failed_only", ["video.failed"])):
        endpoint = hooks.add_endpoint(
            owner_id=alice.id,
            url="https://hooks.example.com/",
            events=events,
            sealed_secret="sealed",
            now=1.0,
            limit=10,
            audit=AuditEntry(action="webhook.created"),
        )
        assert endpoint is not None
        made[name] = endpoint.id
    done, failed, cancelled = _job(alice.id), _job(alice.id), _job(alice.id)
    bobs = _job("usr_bob")
    for job in (done, failed, cancelled, bobs):
        store.create(job)
    store.request_cancel(cancelled.id)
    for job in (done, failed, bobs):
        assert store.claim("w", lease_seconds=60, job_id=job.id) is not None
    finished = {"artifacts": {}, "interpretation": {}, "total_seconds": 1.0, "expires_at": None}
    store.complete(done.id, "w", **finished)  # type: ignore[arg-type]
    store.fail(failed.id, "w", JobError(code="boom", message="it broke", type="server_error"))
    store.complete(bobs.id, "w", **finished)  # type: ignore[arg-type]
    store.cancel_queued()  # a later ending transaction announces nothing twice

    both = {d.video_id: d for d in hooks.deliveries(made["both"])}
    failed_only = {d.video_id: d for d in hooks.deliveries(made["failed_only"])}
    assert {k: d.event_type for k, d in both.items()} == {
        done.id: "video.completed",
        failed.id: "video.failed",
        cancelled.id: "video.failed",
    }
    assert set(failed_only) == {failed.id, cancelled.id}
    for video_id, delivery in failed_only.items():  # one event, two deliveries, two ids
        assert both[video_id].event_id == delivery.event_id
        assert both[video_id].id != delivery.id
        assert both[video_id].payload == delivery.payload
    assert json.loads(both[cancelled.id].payload)["data"]["error"]["code"] == "cancelled"
    assert json.loads(both[failed.id].payload)["data"]["error"]["code"] == "boom"
    assert json.loads(both[done.id].payload)["data"] == {"id": done.id}
    assert all(d.status == "pending" and d.attempts == 0 for d in both.values())
    db.dispose()


def _outbox_with_one_delivery(tmp_path: Path, url: str, box: SecretBox) -> WebhookStore:
    db = Database.for_data_dir(tmp_path)
    db.migrate()
    store, hooks = JobStore(db), WebhookStore(db)
    endpoint = hooks.add_endpoint(
        owner_id="usr_alice",
        url=url,
        events=EVENTS,
        sealed_secret=box.seal(new_secret()),
        now=time.time(),
        limit=10,
        audit=AuditEntry(action="webhook.created"),
    )
    assert endpoint is not None
    job = store.create(_job("usr_alice"))
    store.request_cancel(job.id)
    return hooks


def _dispatcher(
    hooks: WebhookStore, box: SecretBox, max_age: float, clock: Clock | None = None
) -> WebhookDispatcher:
    policy = TargetPolicy(allow_private=True, allow_http=True)
    return WebhookDispatcher(
        hooks,
        WebhookSender(policy, timeout=2),
        box,
        RetryPolicy(
            base_seconds=0.05,
            max_delay_seconds=0.1,
            max_age_seconds=max_age,
            disable_after_seconds=3600,
        ),
        holder="test",
        **({"clock": clock} if clock is not None else {}),
    )


def test_a_delivery_is_given_up_after_the_longest_retry_age(tmp_path: Path) -> None:
    box = SecretBox(Fernet.generate_key())
    with receiving(status=500) as receiver:
        hooks = _outbox_with_one_delivery(tmp_path, receiver.url, box)
        # The delivery ages on a clock that moves 50 ms a round, however long each attempt
        # takes on a busy machine: a slow first attempt must not use up the whole retry age.
        clock = Clock()
        clock.now = time.time()
        dispatcher = _dispatcher(hooks, box, max_age=0.6, clock=clock)
        [endpoint] = hooks.endpoints(None)
        deadline = time.monotonic() + 30
        while hooks.deliveries(endpoint.id)[0].status == "pending":
            assert time.monotonic() < deadline
            dispatcher.run_once()  # not started: attempts run right here
            clock.now += 0.05
        [delivery] = hooks.deliveries(endpoint.id)
        assert delivery.status == "failed"
        assert delivery.next_attempt_at is None
        assert delivery.last_status_code == 500
        assert delivery.attempts == len(receiver.received) >= 2
        assert delivery.attempts == len(delivery.history)
        count = len(receiver.received)
        time.sleep(0.3)
        assert dispatcher.run_once() == 0
        assert len(receiver.received) == count
        assert hooks.endpoints(None)[0].failing_since is not None  # not disabled yet


def test_a_secret_sealed_with_another_key_is_recorded_not_sent(tmp_path: Path) -> None:
    with receiving() as receiver:
        hooks = _outbox_with_one_delivery(tmp_path, receiver.url, SecretBox(Fernet.generate_key()))
        dispatcher = _dispatcher(hooks, SecretBox(Fernet.generate_key()), max_age=60)
        assert dispatcher.run_once() == 1
        [endpoint] = hooks.endpoints(None)
        [delivery] = hooks.deliveries(endpoint.id)
        assert delivery.status == "pending"
        assert delivery.last_error is not None
        assert "cannot open" in delivery.last_error
        assert receiver.received == []


def _self_signed(tmp_path: Path) -> tuple[Path, Path]:
    """A throwaway certificate and key for a TLS listener on loopback."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hooks.example.test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def test_https_connects_to_the_checked_address_naming_the_host_and_verifying_it(
    tmp_path: Path,
) -> None:
    """TLS goes to the address that passed the check, with the host's name as SNI, and the
    certificate is verified: a self-signed one is refused, so nothing is sent."""
    import socket
    import ssl
    import threading

    cert, key = _self_signed(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    names: list[str | None] = []
    context.sni_callback = lambda _sock, name, _ctx: names.append(name)  # type: ignore[assignment,misc,func-returns-value]
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve() -> None:
        conn, _ = listener.accept()
        try:
            with context.wrap_socket(conn, server_side=True) as tls:
                tls.recv(1)
        except (ssl.SSLError, OSError):
            pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    policy = TargetPolicy(allow_private=True, resolve=lambda host, port: ["127.0.0.1"])
    reply = WebhookSender(policy, timeout=5).send(
        f"https://hooks.example.test:{port}/hook", b"{}", {}
    )
    thread.join(5)
    listener.close()
    assert names == ["hooks.example.test"]
    assert reply.status_code is None
    assert reply.error is not None
    assert reply.error.startswith("connection failed")


def test_ended_deliveries_are_pruned_after_keep_days_and_pending_ones_never(
    tmp_path: Path,
) -> None:
    box = SecretBox(Fernet.generate_key())
    with receiving() as receiver:
        hooks = _outbox_with_one_delivery(tmp_path, receiver.url, box)
        [endpoint] = hooks.endpoints(None)
        assert hooks.prune(time.time() + 10) == 0  # still pending: kept whatever its age
        assert _dispatcher(hooks, box, max_age=60).run_once() == 1
        [delivered] = hooks.deliveries(endpoint.id)
        assert delivered.status == "delivered"
        assert hooks.prune(delivered.created_at) == 0  # not older than the cut
        assert hooks.prune(time.time() + 10) == 1
        assert hooks.deliveries(endpoint.id) == []
        with pytest.raises(NotFoundError):
            hooks.delivery(delivered.id)
