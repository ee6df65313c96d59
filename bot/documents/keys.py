"""The signing key: a PKCS#12 file from settings in production; `dariger keys dev` makes a
self-signed DEVELOPMENT root and signing certificate for the demo and tests."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

DEV_P12 = "dev-signing.p12"
DEV_ROOT = "dev-root.pem"
DEV_PASSWORD = b"dariger-dev"


@dataclass(frozen=True)
class DevKey:
    p12_path: Path
    root_path: Path
    password: bytes


def _name(common: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "KZ"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Dariger DEVELOPMENT"),
            x509.NameAttribute(NameOID.COMMON_NAME, common),
        ]
    )


def make_dev_key(out_dir: Path, *, now: dt.datetime | None = None) -> DevKey:
    """A self-signed DEVELOPMENT root and a signing certificate under it, as PKCS#12 + PEM."""
    now = now or dt.datetime.now(dt.UTC)
    out_dir.mkdir(parents=True, exist_ok=True)
    root_key = ec.generate_private_key(ec.SECP256R1())
    root_name = _name("Dariger DEVELOPMENT root (not for production)")
    start, end = now - dt.timedelta(days=1), now + dt.timedelta(days=3650)
    root = (
        x509.CertificateBuilder()
        .subject_name(root_name)
        .issuer_name(root_name)
        .public_key(root_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(root_key.public_key()), critical=False
        )
        .sign(root_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("Dariger DEVELOPMENT document signing"))
        .issuer_name(root_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
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
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()),
            critical=False,
        )
        .sign(root_key, hashes.SHA256())
    )
    p12 = pkcs12.serialize_key_and_certificates(
        b"dariger-dev-signing",
        key,
        cert,
        [root],
        serialization.BestAvailableEncryption(DEV_PASSWORD),
    )
    p12_path, root_path = out_dir / DEV_P12, out_dir / DEV_ROOT
    p12_path.write_bytes(p12)
    p12_path.chmod(0o600)
    root_path.write_bytes(root.public_bytes(serialization.Encoding.PEM))
    return DevKey(p12_path=p12_path, root_path=root_path, password=DEV_PASSWORD)


def ensure_dev_key(out_dir: Path) -> DevKey:
    """The development key in `out_dir`, made on first use (demo, `make run`)."""
    p12_path, root_path = out_dir / DEV_P12, out_dir / DEV_ROOT
    if p12_path.exists() and root_path.exists():
        return DevKey(p12_path=p12_path, root_path=root_path, password=DEV_PASSWORD)
    return make_dev_key(out_dir)
