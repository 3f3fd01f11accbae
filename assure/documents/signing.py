"""The fund's PAdES signature on every certificate (pyHanko).

The key and certificate are PEM files named by settings. Outside production, when none is
configured, a self-signed pair is generated once into the data directory: the demo and the tests
then sign exactly as production does, only with a certificate nobody else trusts.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import os
import secrets
import threading
import zlib
from functools import cache
from pathlib import Path
from typing import Any

from asn1crypto import cms
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.writer import BasePdfFileWriter, PdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes

from assure.documents.pdf import LANG, Drawing

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


def _der(tag: int, body: bytes) -> bytes:
    """One DER element: tag, definite length, contents."""
    size = len(body)
    if size < 0x80:
        return bytes((tag, size)) + body
    length = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes((tag, 0x80 | len(length))) + length + body


class _Template:
    """The parts of the fund's CMS container that are the same for every signature.

    Taken from a container pyHanko assembles once; each signature then only encodes its message
    digest attribute and its signature value between them (asn1crypto, pure Python, took most of
    the signing time re-encoding the certificate and attributes every time). Built only if the
    parts put back together give pyHanko's container byte for byte."""

    def __init__(self, reference: cms.ContentInfo) -> None:
        signed_data = reference["content"]
        info = signed_data["signer_infos"][0]
        self.head = reference["content_type"].dump()
        self.signed_data_head = b"".join(
            signed_data[name].dump()
            for name in ("version", "digest_algorithms", "encap_content_info", "certificates")
        )
        self.info_head = b"".join(
            info[name].dump() for name in ("version", "sid", "digest_algorithm")
        )
        self.info_algorithm = info["signature_algorithm"].dump()
        self.attributes = [attribute.dump() for attribute in info["signed_attrs"]]
        self.digest_at = [attribute["type"].native for attribute in info["signed_attrs"]].index(
            "message_digest"
        )
        self.digest_type = info["signed_attrs"][self.digest_at]["type"].dump()

    def signed_attributes(self, digest: bytes) -> bytes:
        """The contents of the signed attributes' SET, in the reference's order."""
        parts = list(self.attributes)
        parts[self.digest_at] = _der(0x30, self.digest_type + _der(0x31, _der(0x04, digest)))
        return b"".join(parts)

    def container(self, attributes: bytes, signature: bytes) -> bytes:
        info = _der(
            0x30,
            self.info_head
            + _der(0xA0, attributes)  # [0] IMPLICIT SET OF Attribute
            + self.info_algorithm
            + _der(0x04, signature),
        )
        signed_data = _der(0x30, self.signed_data_head + _der(0x31, info))
        return _der(0x30, self.head + _der(0xA0, signed_data))


class FundSigner(signers.SimpleSigner):
    """pyHanko's in-memory signer, with the CMS container assembled from precomputed parts.

    Only the case certificates use takes the short path: a PAdES signature with SHA-256, no
    timestamp and no extra signed attribute. The signed attributes are then exactly those pyHanko
    puts (content type, message digest, signing certificate v2), in its order; anything else is
    left to pyHanko unchanged."""

    _template: _Template | None = None
    _key: Any = None

    @classmethod
    def from_simple(cls, simple: signers.SimpleSigner) -> FundSigner:
        signer = cls(
            signing_cert=simple.signing_cert,
            signing_key=simple.signing_key,
            cert_registry=simple.cert_registry,
        )
        signer._key = serialization.load_der_private_key(simple.signing_key.dump(), None)
        reference = asyncio.run(
            signers.SimpleSigner.async_sign(signer, bytes(32), "sha256", use_pades=True)
        )
        template = _Template(reference)
        info = reference["content"]["signer_infos"][0]
        rebuilt = template.container(
            template.signed_attributes(bytes(32)), info["signature"].native
        )
        if rebuilt == reference.dump() and {
            attribute["type"].native for attribute in info["signed_attrs"]
        } == {"content_type", "message_digest", "signing_certificate_v2"}:
            signer._template = template
        return signer

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        # pyHanko's reloads the private key from DER for every signature.
        if isinstance(self._key, ec.EllipticCurvePrivateKey) and digest_algorithm == "sha256":
            return self._key.sign(data, ec.ECDSA(hashes.SHA256()))
        return super().sign_raw(data, digest_algorithm)

    async def async_sign(  # type: ignore[override]
        self,
        data_digest: bytes,
        digest_algorithm: str,
        dry_run: bool = False,
        use_pades: bool = False,
        timestamper=None,
        signed_attr_settings: PdfCMSSignedAttributes | None = None,
        is_pdf_sig: bool = True,
        encap_content_info=None,
    ) -> cms.ContentInfo:
        settings_ = signed_attr_settings or PdfCMSSignedAttributes()
        template = self._template
        if (
            template is None
            or dry_run
            or not use_pades
            or timestamper is not None
            or not is_pdf_sig
            or encap_content_info is not None
            or digest_algorithm.lower() != "sha256"
            or settings_.cades_signed_attrs is not None
            or settings_.adobe_revinfo_attr is not None
        ):
            return await super().async_sign(
                data_digest,
                digest_algorithm,
                dry_run=dry_run,
                use_pades=use_pades,
                timestamper=timestamper,
                signed_attr_settings=signed_attr_settings,
                is_pdf_sig=is_pdf_sig,
                encap_content_info=encap_content_info,
            )
        attributes = template.signed_attributes(data_digest)
        # The signature covers the attributes encoded as a SET (RFC 5652, 5.4).
        signature = self.sign_raw(_der(0x31, attributes), "sha256")
        return cms.ContentInfo.load(template.container(attributes, signature))


# Held while the signer is first built. Its reference signature is the process's first use of
# asn1crypto's lazily built tables, which are not safe to build from two threads at once: two
# threads of a new web worker issuing its first certificates together failed with "invalid
# literal for int(): 'message_digest'" (seen under load, docs/performance.md).
_signer_lock = threading.Lock()


def _signer(key_path: str, cert_path: str) -> FundSigner:
    with _signer_lock:
        return _signer_built(key_path, cert_path)


@cache
def _signer_built(key_path: str, cert_path: str) -> FundSigner:
    signer = signers.SimpleSigner.load(key_path, cert_path)
    if signer is None:
        raise ImproperlyConfigured("The signing key or certificate cannot be read.")
    return FundSigner.from_simple(signer)


def signer_warm() -> None:
    """Builds the fund's signer now (gunicorn's master, before forking the workers), so that each
    worker starts with it; nothing when no signing pair is configured (the first certificate
    then says so, as before)."""
    try:
        key_path, cert_path = signing_pair()
    except ImproperlyConfigured:
        return
    _signer(str(key_path), str(cert_path))


def signing_certificate_pem() -> bytes:
    """The certificate that signs, for a verifier to trust (and for the tests)."""
    return signing_pair()[1].read_bytes()


def pdf_sign(data: bytes, *, reason: str) -> bytes:
    """`data` with an invisible PAdES baseline signature of the fund appended."""
    return _sign(IncrementalPdfFileWriter(io.BytesIO(data)), reason=reason)


# The information dictionary's entries pyHanko fills from the document's metadata (drawing_sign).
_INFO = tuple(
    generic.pdf_name(key)
    for key in ("/Title", "/Author", "/Subject", "/Creator", "/CreationDate", "/ModDate")
)


def drawing_sign(drawing: Drawing, *, title: str, author: str, subject: str, reason: str) -> bytes:
    """A one-page file holding `drawing`, written by pyHanko with the fund's invisible PAdES
    baseline signature in the same write.

    The same document as `pdf_sign(page_render(page))` gives, without ReportLab writing a file
    for pyHanko to read back in Python (drawing and signing 8.4 → 7.0 ms, docs/performance.md).
    The page has ReportLab's drawing operators, its standard fonts and its page size; the title,
    author and subject go to both the information dictionary and the XMP metadata."""
    writer = PdfFileWriter()
    font_resources = generic.DictionaryObject()
    for resource, font_name in sorted(drawing.fonts.items()):
        font_resources[generic.NameObject(resource)] = writer.add_object(
            generic.DictionaryObject(
                {
                    generic.pdf_name("/Type"): generic.pdf_name("/Font"),
                    generic.pdf_name("/Subtype"): generic.pdf_name("/Type1"),
                    generic.pdf_name("/BaseFont"): generic.NameObject(f"/{font_name}"),
                    generic.pdf_name("/Encoding"): generic.pdf_name("/WinAnsiEncoding"),
                }
            )
        )
    content = generic.StreamObject(
        {generic.pdf_name("/Filter"): generic.pdf_name("/FlateDecode")},
        encoded_data=zlib.compress(drawing.content),
    )
    writer.insert_page(
        generic.DictionaryObject(
            {
                generic.pdf_name("/Type"): generic.pdf_name("/Page"),
                generic.pdf_name("/MediaBox"): generic.ArrayObject(
                    [
                        generic.NumberObject(0),
                        generic.NumberObject(0),
                        generic.FloatObject(drawing.width),
                        generic.FloatObject(drawing.height),
                    ]
                ),
                generic.pdf_name("/Resources"): generic.DictionaryObject(
                    {generic.pdf_name("/Font"): font_resources}
                ),
                generic.pdf_name("/Contents"): writer.add_object(content),
            }
        )
    )
    writer.root[generic.pdf_name("/Lang")] = generic.pdf_string(LANG)
    meta = writer.document_meta
    meta.title, meta.author, meta.subject, meta.creator = title, author, subject, author
    meta.created = "now"
    # The signature makes the file PDF 2.0, whose metadata is the XMP stream; viewers still show
    # the information dictionary's title. pyHanko fills the entries a document has there from the
    # same metadata, so both say the same.
    writer.set_info(generic.DictionaryObject({key: generic.TextStringObject() for key in _INFO}))
    return _sign(writer, reason=reason)


def _sign(writer: BasePdfFileWriter, *, reason: str) -> bytes:
    key_path, cert_path = signing_pair()
    signer = _signer(str(key_path), str(cert_path))
    meta = signers.PdfSignatureMetadata(
        field_name="Signature",
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        reason=reason,
        location=settings.ASSURE_FUND_NAME[:100],
        name=settings.ASSURE_FUND_NAME[:100],
    )
    signing = signers.PdfSigner(meta, signer).async_sign_pdf(
        writer, bytes_reserved=_reserve(signer)
    )
    return bytes(_event_loop().run_until_complete(signing).getvalue())


_thread_state = threading.local()


def _event_loop() -> asyncio.AbstractEventLoop:
    """This thread's event loop for pyHanko's signing, made once.

    pyHanko signs in a coroutine; its synchronous `sign_pdf` runs each one in a new event loop
    (`asyncio.run`), whose set-up and shutdown cost about a tenth of a signature. A web worker's
    thread signs one certificate at a time, so it can keep one loop for all of them.
    """
    loop = getattr(_thread_state, "loop", None)
    if loop is None or loop.is_closed():
        loop = _thread_state.loop = asyncio.new_event_loop()
    return loop


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
