"""Tests for openreel.media.certs: the instance CA and signer, and operator-supplied chains."""

from __future__ import annotations

import datetime as dt
import stat
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from numpy.typing import NDArray

from openreel.errors import ConfigurationError
from openreel.media.c2pa import ProvenanceClaim, sign_mp4, verify_mp4
from openreel.media.certs import (
    CA_CERT_FILE,
    CA_KEY_FILE,
    SIGNER_CHAIN_FILE,
    SIGNER_KEY_FILE,
    SigningIdentity,
    ensure_instance_identity,
    load_identity,
)
from openreel.media.encode import encode_video

MakeFrames = Callable[[int, int, int], list[NDArray[np.uint8]]]
Key = ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey

NOW = dt.datetime.now(dt.UTC)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _key_pem(key: Key) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Operator Ltd"),
        ]
    )


def _sign_with(key: Key) -> hashes.SHA256 | None:
    return None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256()


def _ca(
    name: str, key: Key, issuer: tuple[x509.Certificate, Key] | None = None
) -> x509.Certificate:
    issuer_name = issuer[0].subject if issuer else _name(name)
    issuer_key = issuer[1] if issuer else key
    return (
        x509.CertificateBuilder()
        .subject_name(_name(name))
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - dt.timedelta(days=1))
        .not_valid_after(NOW + dt.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,
        )
        .sign(issuer_key, _sign_with(issuer_key))
    )


@dataclass
class Operator:
    """An operator's PKI: root -> intermediate -> signer, written as chain and key files."""

    root: x509.Certificate
    chain: Path
    key: Path


def _operator(
    folder: Path,
    *,
    eku: x509.ObjectIdentifier | None = ExtendedKeyUsageOID.EMAIL_PROTECTION,
    aki: bool = True,
    self_signed: bool = False,
    expired: bool = False,
    ed: bool = False,
    order: str = "leaf-first",
) -> Operator:
    root_key = ec.generate_private_key(ec.SECP256R1())
    root = _ca("Operator Root", root_key)
    mid_key = ec.generate_private_key(ec.SECP256R1())
    mid = _ca("Operator Intermediate", mid_key, (root, root_key))
    leaf_key: Key = (
        ed25519.Ed25519PrivateKey.generate() if ed else ec.generate_private_key(ec.SECP256R1())
    )
    signing_key: Key = leaf_key if self_signed else mid_key
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name("Operator Signer"))
        .issuer_name(_name("Operator Signer") if self_signed else mid.subject)
        .public_key(leaf_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - dt.timedelta(days=10))
        .not_valid_after(NOW - dt.timedelta(days=1) if expired else NOW + dt.timedelta(days=90))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    )
    if eku is not None:
        builder = builder.add_extension(x509.ExtendedKeyUsage([eku]), critical=False)
    if aki:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(signing_key.public_key()),
            critical=False,
        )
    leaf = builder.sign(signing_key, _sign_with(signing_key))
    certs = [leaf, mid, root] if order == "leaf-first" else [leaf, root, mid]
    if self_signed:
        certs = [leaf]
    chain = folder / "operator-chain.pem"
    chain.write_bytes(b"".join(_pem(cert) for cert in certs))
    key = folder / "operator.key"
    key.write_bytes(_key_pem(leaf_key))
    return Operator(root=root, chain=chain, key=key)


# --- ensure_instance_identity ----------------------------------------------------------------


def test_ensure_instance_identity_creates_owner_only_files(tmp_path: Path) -> None:
    folder = tmp_path / "identity"
    identity = ensure_instance_identity(folder, organization="Example Studio")

    assert _mode(folder) == 0o700
    assert _mode(folder / CA_KEY_FILE) == 0o600
    assert _mode(folder / SIGNER_KEY_FILE) == 0o600
    for name in (CA_CERT_FILE, SIGNER_CHAIN_FILE):
        assert _mode(folder / name) & 0o022 == 0  # nobody but the owner may change a cert
    assert sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")) == sorted(
        [CA_CERT_FILE, CA_KEY_FILE, SIGNER_CHAIN_FILE, SIGNER_KEY_FILE]
    )
    assert identity.chain_path == folder / SIGNER_CHAIN_FILE
    assert identity.key_path == folder / SIGNER_KEY_FILE
    assert identity.key_pem == (folder / SIGNER_KEY_FILE).read_bytes()
    assert identity.anchor_pem == (folder / CA_CERT_FILE).read_bytes()
    assert identity.algorithm == "es256"
    assert identity.common_name == "Example Studio signer"
    assert identity.organization == "Example Studio"


def test_instance_signer_meets_the_c2pa_certificate_rules(tmp_path: Path) -> None:
    identity = ensure_instance_identity(tmp_path)
    leaf, ca = x509.load_pem_x509_certificates(identity.chain_pem)
    assert ca == x509.load_pem_x509_certificate(identity.anchor_pem)

    leaf.verify_directly_issued_by(ca)
    assert leaf.issuer != leaf.subject
    assert isinstance(leaf.public_key(), ec.EllipticCurvePublicKey)
    ext = leaf.extensions
    assert ext.get_extension_for_class(x509.BasicConstraints).value.ca is False
    assert ext.get_extension_for_class(x509.KeyUsage).value.digital_signature
    assert (
        ExtendedKeyUsageOID.EMAIL_PROTECTION
        in ext.get_extension_for_class(x509.ExtendedKeyUsage).value
    )
    aki = ext.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    ski = ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert aki.key_identifier == ski.digest
    assert ext.get_extension_for_class(x509.SubjectKeyIdentifier)
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True
    now = dt.datetime.now(dt.UTC)
    assert leaf.not_valid_before_utc < now
    assert leaf.not_valid_after_utc > now + dt.timedelta(days=5 * 365)
    assert ca.not_valid_after_utc >= leaf.not_valid_after_utc
    assert identity.not_after == leaf.not_valid_after_utc


def test_ensure_instance_identity_reuses_the_existing_identity(tmp_path: Path) -> None:
    first = ensure_instance_identity(tmp_path, organization="First")
    before = {p.name: (p.stat().st_ino, p.read_bytes()) for p in tmp_path.iterdir()}

    second = ensure_instance_identity(tmp_path, organization="Second")

    assert second == first
    assert second.organization == "First"
    assert {p.name: (p.stat().st_ino, p.read_bytes()) for p in tmp_path.iterdir()} == before


def test_ensure_instance_identity_from_many_threads_makes_one(tmp_path: Path) -> None:
    results: list[SigningIdentity] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            results.append(ensure_instance_identity(tmp_path))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len({identity.chain_pem for identity in results}) == 1
    assert not [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_ensure_instance_identity_never_overwrites_leftovers(tmp_path: Path) -> None:
    (tmp_path / CA_KEY_FILE).write_bytes(b"precious")

    with pytest.raises(ConfigurationError, match="incomplete"):
        ensure_instance_identity(tmp_path)

    assert (tmp_path / CA_KEY_FILE).read_bytes() == b"precious"
    assert not (tmp_path / SIGNER_CHAIN_FILE).exists()


def test_ensure_instance_identity_reports_a_broken_key(tmp_path: Path) -> None:
    ensure_instance_identity(tmp_path)
    (tmp_path / SIGNER_KEY_FILE).write_bytes(b"not a key")

    with pytest.raises(ConfigurationError, match="private key"):
        ensure_instance_identity(tmp_path)


@pytest.mark.parametrize("organization", ["", "   ", "x" * 57])
def test_ensure_instance_identity_rejects_unusable_organizations(
    tmp_path: Path, organization: str
) -> None:
    with pytest.raises(ConfigurationError, match="organization"):
        ensure_instance_identity(tmp_path / "id", organization=organization)
    assert not (tmp_path / "id").exists()


def test_ensure_instance_identity_reports_an_unusable_folder(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ConfigurationError, match="folder"):
        ensure_instance_identity(blocker / "id")


def test_signing_identity_repr_hides_the_key(tmp_path: Path) -> None:
    identity = ensure_instance_identity(tmp_path)
    assert b"PRIVATE KEY" in identity.key_pem
    assert "PRIVATE" not in repr(identity)
    assert "OpenReel instance signer" in repr(identity)


# --- load_identity ---------------------------------------------------------------------------


def test_load_identity_reads_an_operator_chain(tmp_path: Path) -> None:
    operator = _operator(tmp_path)

    identity = load_identity(operator.chain, operator.key)

    assert identity.algorithm == "es256"
    assert identity.common_name == "Operator Signer"
    assert identity.organization == "Operator Ltd"
    assert identity.anchor_pem == _pem(operator.root)
    assert identity.chain_pem == operator.chain.read_bytes()
    assert identity.chain_path == operator.chain


def test_operator_chain_signs_a_video_trusted_under_its_root(
    tmp_path: Path, make_frames: MakeFrames
) -> None:
    operator = _operator(tmp_path, ed=True)
    identity = load_identity(operator.chain, operator.key)
    assert identity.algorithm == "ed25519"
    video = tmp_path / "clip.mp4"
    encode_video(make_frames(4, 64, 64), video, width=64, height=64, fps=24)
    claim = ProvenanceClaim(
        title="clip.mp4",
        digital_source_type="trainedAlgorithmicMedia",
        model="m",
        backend="b",
        seed=1,
    )

    sign_mp4(video, claim, identity)

    verdict = verify_mp4(video, trust_anchors=[_pem(operator.root)])
    assert verdict.status == "Trusted"
    assert verdict.signer_common_name == "Operator Signer"
    assert verdict.signer_organization == "Operator Ltd"


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"self_signed": True}, "self-signed"),
        ({"aki": False}, "AuthorityKeyIdentifier"),
        ({"eku": ExtendedKeyUsageOID.CODE_SIGNING}, "extended key usage"),
        ({"eku": None}, "extended key usage"),
        ({"expired": True}, "expired"),
        ({"order": "mixed"}, "in order"),
    ],
)
def test_load_identity_refuses_certificates_c2pa_would_refuse(
    tmp_path: Path, kwargs: dict[str, Any], reason: str
) -> None:
    operator = _operator(tmp_path, **kwargs)
    with pytest.raises(ConfigurationError, match=reason):
        load_identity(operator.chain, operator.key)


def test_load_identity_refuses_a_key_of_another_certificate(tmp_path: Path) -> None:
    operator = _operator(tmp_path)
    other = tmp_path / "other.key"
    other.write_bytes(_key_pem(ec.generate_private_key(ec.SECP256R1())))
    with pytest.raises(ConfigurationError, match="does not belong"):
        load_identity(operator.chain, other)


def test_load_identity_reports_unreadable_and_malformed_files(tmp_path: Path) -> None:
    operator = _operator(tmp_path)
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("hello")
    with pytest.raises(ConfigurationError, match="cannot read"):
        load_identity(tmp_path / "missing.pem", operator.key)
    with pytest.raises(ConfigurationError, match="certificate chain"):
        load_identity(garbage, operator.key)
    with pytest.raises(ConfigurationError, match="private key"):
        load_identity(operator.chain, garbage)
