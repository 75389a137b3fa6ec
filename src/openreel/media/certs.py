"""The X.509 identity an instance signs its videos with: created on first use, or supplied.

C2PA needs a signing certificate even on a laptop with no network. An instance therefore makes
its own small PKI the first time it signs: a root CA and an ES256 end-entity certificate
issued by it. The CA certificate is what a verifier puts on its trust list to see ``Trusted``
instead of ``Valid``. An operator with a certificate from a CA on the C2PA trust list loads
that chain and key instead (:func:`load_identity`).

The certificate rules below were found by experiment against c2pa-rs 0.91.3 (the library
inside c2pa-python 0.38.1). The signer must be

- issued by a CA: a self-signed leaf is refused ("the certificate is invalid");
- carrying an AuthorityKeyIdentifier: without it the same refusal;
- an end entity (``CA:false``) with ``digitalSignature`` key usage;
- marked for emailProtection or timeStamping: documentSigning and the C2PA claimSigning
  EKU make signing abort in this build's default settings, codeSigning or no EKU are refused;
- inside its validity period when verified: no timestamp authority is reachable offline, so
  a video's signature reads ``Invalid`` (``signingCredential.expired``) once the leaf has
  expired. That is why the instance leaf is long-lived.

Files are written once and never overwritten: each is written to a hidden temporary sibling
and hard-linked onto its name, which fails if the name exists; keys are 0600. The chain is
written last, so its presence means the identity is complete.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from openreel.errors import ConfigurationError
from openreel.media.partial import partial_path

__all__ = [
    "ACCEPTED_EKUS",
    "CA_CERT_FILE",
    "CA_KEY_FILE",
    "CA_VALIDITY",
    "SIGNER_CHAIN_FILE",
    "SIGNER_KEY_FILE",
    "SIGNER_VALIDITY",
    "SigningIdentity",
    "ensure_instance_identity",
    "load_identity",
]

CA_CERT_FILE: Final = "ca.pem"
"""The instance root certificate: hand it to verifiers as a trust anchor."""
CA_KEY_FILE: Final = "ca.key"
"""The instance root key, kept so a new signer can later be issued under the same anchor."""
SIGNER_KEY_FILE: Final = "signer.key"
"""The signing key (PKCS#8 PEM, unencrypted: the file mode is what protects it)."""
SIGNER_CHAIN_FILE: Final = "signer.pem"
"""The signing certificate followed by the CA certificate; written last of the four."""

_FILES: Final = (CA_KEY_FILE, CA_CERT_FILE, SIGNER_KEY_FILE, SIGNER_CHAIN_FILE)
"""Creation order: the chain comes last and marks a complete identity."""
_LOCK_FILE: Final = ".identity.lock"
_KEY_MODE: Final = 0o600
_CERT_MODE: Final = 0o644
_FOLDER_MODE: Final = 0o700

CA_VALIDITY: Final = dt.timedelta(days=20 * 365)
"""Lifetime of an instance CA: it is the anchor every verifier keeps, so it should outlive
any signer issued under it."""
SIGNER_VALIDITY: Final = dt.timedelta(days=10 * 365)
"""Lifetime of an instance signing certificate. Offline there is no timestamp authority, so a
video stops verifying when this expires; a short life would silently break old videos."""
_BACKDATE: Final = dt.timedelta(minutes=5)
"""Certificates start a little in the past so a verifier whose clock lags still accepts them."""

ACCEPTED_EKUS: Final = frozenset(
    {ExtendedKeyUsageOID.EMAIL_PROTECTION, ExtendedKeyUsageOID.TIME_STAMPING}
)
"""Extended key usages c2pa-rs 0.91.3 accepts for a signer with its default settings."""

_MAX_ORGANIZATION: Final = 56
"""X.509 caps a common name at 64 characters; the CA's is the organization + " root CA"."""


@dataclass(frozen=True)
class SigningIdentity:
    """A signing certificate chain and its private key, ready for a C2PA signer.

    Attributes:
        chain_pem: PEM certificates, the signer first, then each issuer in order.
        key_pem: The signer's private key as PEM; kept out of ``repr`` so it never reaches a
            log line by accident.
        anchor_pem: The last certificate of the chain (the instance CA for a generated
            identity): what a verifier adds to its trust anchors.
        algorithm: The C2PA signing algorithm the key calls for: ``es256``, ``es384``,
            ``es512``, ``ps256`` or ``ed25519``.
        common_name: The signer certificate's common name.
        organization: The signer certificate's organization, when it names one.
        not_after: When the signer certificate expires (UTC).
        chain_path: The file the chain was read from.
        key_path: The file the key was read from.
    """

    chain_pem: bytes = field(repr=False)
    key_pem: bytes = field(repr=False)
    anchor_pem: bytes = field(repr=False)
    algorithm: str
    common_name: str
    organization: str | None
    not_after: dt.datetime
    chain_path: Path | None = None
    key_path: Path | None = None


def ensure_instance_identity(
    folder: Path, *, organization: str = "OpenReel instance"
) -> SigningIdentity:
    """Returns the instance's signing identity, creating a CA and a signer on first use.

    Safe to call from several processes at once: creation holds a lock file in ``folder``
    (on POSIX), and files are never overwritten, so an existing identity always wins.

    Args:
        folder: Where the identity lives; created (mode 0700) when missing.
        organization: The organization named in new certificates; ignored when an identity
            already exists.

    Returns:
        The identity; its ``anchor_pem`` is the instance CA certificate.

    Raises:
        ConfigurationError: The folder cannot be used, the organization name does not fit in a
            certificate, the existing files are unreadable or do not form a usable identity
            (an expired signer included), or an interrupted creation left some files behind.
    """
    folder = Path(folder)
    if not isinstance(organization, str) or not 0 < len(organization.strip()) <= _MAX_ORGANIZATION:
        raise ConfigurationError(
            f"signing organization must be 1 to {_MAX_ORGANIZATION} characters; "
            f"got {organization!r}"
        )
    try:
        folder.mkdir(mode=_FOLDER_MODE, parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigurationError(
            f"cannot create the signing identity folder '{folder}': {exc.strerror or exc}"
        ) from exc
    chain, key = folder / SIGNER_CHAIN_FILE, folder / SIGNER_KEY_FILE
    with _creation_lock(folder):
        if chain.exists():
            return load_identity(chain, key)
        leftovers = [name for name in _FILES if (folder / name).exists()]
        if leftovers:
            raise ConfigurationError(
                f"the signing identity in '{folder}' is incomplete ({', '.join(leftovers)} "
                f"present, {SIGNER_CHAIN_FILE} missing): an earlier creation was interrupted. "
                "Nothing was signed with it; remove those files to create a new identity."
            )
        for name, data, mode in _issue(organization.strip()):
            _write_new(folder / name, data, mode)
        _sync_folder(folder)
    return load_identity(chain, key)


def load_identity(chain: Path, key: Path) -> SigningIdentity:
    """Reads and checks a certificate chain and its private key.

    The checks are the rules c2pa-rs enforces (see the module docstring), run here so that a
    wrong certificate fails when the server starts, with a reason, rather than on the first
    video.

    Args:
        chain: PEM certificates, the signer first, then its issuers in order.
        key: The signer's private key, PEM, unencrypted.

    Returns:
        The identity.

    Raises:
        ConfigurationError: A file is unreadable or malformed, the key does not belong to the
            certificate, the chain is out of order, or the signer breaks one of the rules.
    """
    chain, key = Path(chain), Path(key)
    chain_pem, key_pem = _read(chain, "certificate chain"), _read(key, "signing key")
    try:
        certificates = x509.load_pem_x509_certificates(chain_pem)
    except ValueError as exc:
        raise ConfigurationError(f"'{chain}' is not a PEM certificate chain: {exc}") from exc
    try:
        private_key = serialization.load_pem_private_key(key_pem, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise ConfigurationError(f"'{key}' is not an unencrypted PEM private key: {exc}") from exc
    leaf = certificates[0]
    algorithm = _algorithm(private_key, key)
    if _spki(private_key.public_key()) != _spki(leaf.public_key()):
        raise ConfigurationError(f"the key in '{key}' does not belong to the first certificate")
    _check_order(certificates, chain)
    _check_signer(leaf, chain)
    return SigningIdentity(
        chain_pem=chain_pem,
        key_pem=key_pem,
        anchor_pem=certificates[-1].public_bytes(serialization.Encoding.PEM),
        algorithm=algorithm,
        common_name=_name(leaf.subject, NameOID.COMMON_NAME) or "",
        organization=_name(leaf.subject, NameOID.ORGANIZATION_NAME),
        not_after=leaf.not_valid_after_utc,
        chain_path=chain,
        key_path=key,
    )


# --- checks ----------------------------------------------------------------------------------


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ConfigurationError(f"cannot read the {what} '{path}': {exc.strerror or exc}") from exc


_PublicKey = ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey | rsa.RSAPublicKey


def _spki(public_key: object) -> bytes:
    if not isinstance(public_key, _PublicKey):
        return b""
    return public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _algorithm(private_key: object, path: Path) -> str:
    if isinstance(private_key, ec.EllipticCurvePrivateKey):
        by_curve = {"secp256r1": "es256", "secp384r1": "es384", "secp521r1": "es512"}
        if private_key.curve.name in by_curve:
            return by_curve[private_key.curve.name]
        raise ConfigurationError(
            f"the key in '{path}' uses curve {private_key.curve.name}; C2PA signs with "
            "P-256, P-384 or P-521"
        )
    if isinstance(private_key, ed25519.Ed25519PrivateKey):
        return "ed25519"
    if isinstance(private_key, rsa.RSAPrivateKey):
        return "ps256"
    raise ConfigurationError(
        f"the key in '{path}' is of a kind C2PA cannot sign with; use EC P-256, Ed25519 or RSA"
    )


def _check_order(certificates: list[x509.Certificate], path: Path) -> None:
    for index, (cert, issuer) in enumerate(itertools.pairwise(certificates)):
        try:
            cert.verify_directly_issued_by(issuer)
        except (ValueError, TypeError, InvalidSignature) as exc:
            raise ConfigurationError(
                f"certificate {index + 1} in '{path}' is not issued by certificate {index + 2}: "
                "the chain must list the signer first, then each issuer in order"
            ) from exc


def _check_signer(leaf: x509.Certificate, path: Path) -> None:
    def refuse(rule: str) -> ConfigurationError:
        return ConfigurationError(f"the signing certificate in '{path}' {rule}")

    now = dt.datetime.now(dt.UTC)
    if leaf.not_valid_after_utc <= now:
        raise refuse(f"expired on {leaf.not_valid_after_utc:%Y-%m-%d %H:%M} UTC")
    if leaf.not_valid_before_utc > now:
        raise refuse(f"is not valid before {leaf.not_valid_before_utc:%Y-%m-%d %H:%M} UTC")
    if leaf.issuer == leaf.subject:
        raise refuse("is self-signed; C2PA needs one issued by a CA")
    extensions = leaf.extensions
    with contextlib.suppress(x509.ExtensionNotFound):
        if extensions.get_extension_for_class(x509.BasicConstraints).value.ca:
            raise refuse("is a CA certificate; C2PA needs an end-entity certificate")
    try:
        extensions.get_extension_for_class(x509.AuthorityKeyIdentifier)
    except x509.ExtensionNotFound:
        raise refuse("has no AuthorityKeyIdentifier, which C2PA requires") from None
    try:
        usages = set(extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)
    except x509.ExtensionNotFound:
        usages = set()
    if not usages & ACCEPTED_EKUS:
        raise refuse(
            "lacks an extended key usage this C2PA library accepts "
            "(emailProtection 1.3.6.1.5.5.7.3.4 or timeStamping 1.3.6.1.5.5.7.3.8)"
        )


def _name(name: x509.Name, oid: x509.ObjectIdentifier) -> str | None:
    values = name.get_attributes_for_oid(oid)
    if not values:
        return None
    value = values[0].value
    return value if isinstance(value, str) else value.decode("utf-8", "replace")


# --- creation --------------------------------------------------------------------------------


def _issue(organization: str) -> list[tuple[str, bytes, int]]:
    """Makes the CA and the signer; returns (file name, contents, mode) in creation order."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    signer_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _subject(f"{organization} root CA", organization)
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _BACKDATE)
        .not_valid_after(now + CA_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(signer=False), critical=True)
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    signer = (
        x509.CertificateBuilder()
        .subject_name(_subject(f"{organization} signer", organization))
        .issuer_name(ca_name)
        .public_key(signer_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _BACKDATE)
        .not_valid_after(now + SIGNER_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(signer=True), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(signer_key.public_key()), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    ca_pem = ca.public_bytes(serialization.Encoding.PEM)
    return [
        (CA_KEY_FILE, _key_pem(ca_key), _KEY_MODE),
        (CA_CERT_FILE, ca_pem, _CERT_MODE),
        (SIGNER_KEY_FILE, _key_pem(signer_key), _KEY_MODE),
        (SIGNER_CHAIN_FILE, signer.public_bytes(serialization.Encoding.PEM) + ca_pem, _CERT_MODE),
    ]


def _subject(common_name: str, organization: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
        ]
    )


def _key_usage(*, signer: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=signer,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=not signer,
        crl_sign=not signer,
        encipher_only=False,
        decipher_only=False,
    )


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _write_new(path: Path, data: bytes, mode: int) -> None:
    """Writes ``path`` whole or not at all, and never over an existing file."""
    temp = partial_path(path)
    try:
        descriptor = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        try:
            os.fchmod(descriptor, mode)  # the umask may have narrowed it; never widened
            os.write(descriptor, data)
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
        os.link(temp, path)
    except FileExistsError as exc:
        raise ConfigurationError(
            f"'{path}' appeared while the signing identity was being created; not overwritten"
        ) from exc
    except OSError as exc:
        raise ConfigurationError(f"cannot write '{path}': {exc.strerror or exc}") from exc
    finally:
        with contextlib.suppress(OSError):
            temp.unlink(missing_ok=True)


def _sync_folder(folder: Path) -> None:
    if sys.platform == "win32":
        return
    with contextlib.suppress(OSError):
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


@contextlib.contextmanager
def _creation_lock(folder: Path) -> Iterator[None]:
    """Serialises creation between processes; without it two could each write half a set."""
    if sys.platform == "win32":  # no flock; the no-overwrite links still keep files whole
        yield
        return
    import fcntl

    try:
        descriptor = os.open(folder / _LOCK_FILE, os.O_RDWR | os.O_CREAT, _KEY_MODE)
    except OSError as exc:
        raise ConfigurationError(
            f"cannot lock the signing identity folder '{folder}': {exc.strerror or exc}"
        ) from exc
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)
