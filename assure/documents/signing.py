"""The fund's PAdES signature on every certificate (pyHanko).

The key and certificate are PEM files named by settings. Outside production, when none is
configured, a self-signed pair is generated once into the data directory: the demo and the tests
then sign exactly as production does, only with a certificate nobody else trusts.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import secrets
from functools import cache
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers

KEY_NAME = "signing-key.pem"
CERT_NAME = "signing-cert.pem"


def _write_once(path: Path, data: bytes) -> None:
    """Written whole under a temporary name then linked: a racing process sees all or nothing."""
    draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    try:
        os.link(draft, path)
    except FileExistsError:
        pass
    finally:
        draft.unlink()


def demo_pair_generate(directory: Path) -> tuple[Path, Path]:
    """A self-signed ECDSA P-256 pair in `directory`, made once; later calls return the same."""
    key_path, cert_path = directory / KEY_NAME, directory / CERT_NAME
    if key_path.exists() and cert_path.exists():
        return key_path, cert_path
    directory.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "FR"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, settings.ASSURE_FUND_NAME[:64]),
            x509.NameAttribute(
                NameOID.COMMON_NAME, f"{settings.ASSURE_FUND_SHORT_NAME[:40]} (démo)"
            ),
        ]
    )
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=3650))
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
        .sign(key, hashes.SHA256())
    )
    # The key first: a process that finds the certificate can rely on the key being there.
    _write_once(
        key_path,
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )
    _write_once(cert_path, cert.public_bytes(serialization.Encoding.PEM))
    return key_path, cert_path


def signing_pair() -> tuple[Path, Path]:
    """The configured key and certificate, or the generated demo pair outside production."""
    key, cert = settings.DOCUMENTS_SIGNING_KEY, settings.DOCUMENTS_SIGNING_CERT
    if key and cert:
        return Path(key), Path(cert)
    if key or cert:
        raise ImproperlyConfigured("ASSURE_SIGNING_KEY and ASSURE_SIGNING_CERT go together.")
    if settings.PRODUCTION:
        raise ImproperlyConfigured(
            "ASSURE_SIGNING_KEY and ASSURE_SIGNING_CERT are required when ASSURE_ENV=production."
        )
    return demo_pair_generate(Path(settings.DOCUMENTS_SIGNING_DIR))


@cache
def _signer(key_path: str, cert_path: str) -> signers.SimpleSigner:
    signer = signers.SimpleSigner.load(key_path, cert_path)
    if signer is None:
        raise ImproperlyConfigured("The signing key or certificate cannot be read.")
    return signer


def signing_certificate_pem() -> bytes:
    """The certificate that signs, for a verifier to trust (and for the tests)."""
    return signing_pair()[1].read_bytes()


def pdf_sign(data: bytes, *, reason: str) -> bytes:
    """`data` with an invisible PAdES baseline signature of the fund appended."""
    key_path, cert_path = signing_pair()
    signer = _signer(str(key_path), str(cert_path))
    writer = IncrementalPdfFileWriter(io.BytesIO(data))
    meta = signers.PdfSignatureMetadata(
        field_name="Signature",
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        reason=reason,
        location=settings.ASSURE_FUND_NAME[:100],
        name=settings.ASSURE_FUND_NAME[:100],
    )
    out = signers.sign_pdf(writer, meta, signer=signer, bytes_reserved=_reserve(signer))
    return out.getvalue()


@cache
def _reserve_for(certificates: tuple[bytes, ...]) -> int:
    # pyHanko wants an even count (the container is written as hex); whole KiB keeps it so.
    needed = 2048 + sum(len(der) for der in certificates)
    return -(-needed // 1024) * 1024


def _reserve(signer: signers.SimpleSigner) -> int:
    """Room for the signature container: the certificates it carries plus the signed attributes
    and the signature value (well under 2 KiB). Given, rather than estimated, because pyHanko
    estimates by signing a dummy document first, which doubled the cost of every certificate."""
    certificates = [signer.signing_cert, *signer.cert_registry]
    return _reserve_for(tuple(c.dump() for c in certificates if c is not None))
