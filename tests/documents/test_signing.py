"""The fund's CMS container, assembled from precomputed parts, is the one pyHanko would build."""

from __future__ import annotations

import asyncio
import hashlib

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import load_der_x509_certificate
from pyhanko.sign import signers

from assure.documents.signing import _signer, signing_pair


def _fund_signer():
    key, cert = signing_pair()
    return _signer(str(key), str(cert))


def _without_signature(container) -> dict:
    native = container.native
    for info in native["content"]["signer_infos"]:
        info.pop("signature")
    return native


def test_the_short_path_is_taken_for_the_fund_key():
    assert _fund_signer()._template is not None


def test_container_matches_pyhankos_but_for_the_signature_value():
    signer = _fund_signer()
    for text in (b"one document", b"another"):
        digest = hashlib.sha256(text).digest()
        ours = asyncio.run(signer.async_sign(digest, "sha256", use_pades=True))
        theirs = asyncio.run(
            signers.SimpleSigner.async_sign(signer, digest, "sha256", use_pades=True)
        )
        assert _without_signature(ours) == _without_signature(theirs)
        info = ours["content"]["signer_infos"][0]
        assert [
            a["values"][0].native
            for a in info["signed_attrs"]
            if a["type"].native == "message_digest"
        ] == [digest]
        # The value verifies with the certificate's key over the attributes as a SET.
        public = load_der_x509_certificate(signer.signing_cert.dump()).public_key()
        attributes = info["signed_attrs"].untag().dump(force=True)
        assert attributes[0] == 0x31
        public.verify(info["signature"].native, attributes, ec.ECDSA(hashes.SHA256()))


def test_other_requests_go_to_pyhanko():
    signer = _fund_signer()
    digest = hashlib.sha256(b"x").digest()
    plain = asyncio.run(signer.async_sign(digest, "sha256", use_pades=False))
    types = {a["type"].native for a in plain["content"]["signer_infos"][0]["signed_attrs"]}
    # Outside PAdES pyHanko adds an attribute the short path never writes.
    assert "cms_algorithm_protection" in types


def test_signatures_made_in_several_threads_at_once_all_validate():
    """Each web thread signs in its own event loop, kept between certificates."""
    import io
    import threading

    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature

    from assure.documents.pdf import Page, page_render
    from assure.documents.signing import pdf_sign
    from tests.documents.test_certificates import _trust

    results: dict[tuple[int, int], bytes] = {}

    def sign_three(number: int) -> None:
        for turn in range(3):
            page = Page(
                fund_name="Caisse",
                fund_address=["1 rue de la Santé"],
                title=f"Document {number}-{turn}",
                subtitle="",
                reference="ABCD-EFGH",
                verify_url="https://example.test/verifier/ABCD-EFGH/",
                author="Caisse",
            )
            results[(number, turn)] = pdf_sign(page_render(page), reason="test")

    threads = [threading.Thread(target=sign_three, args=(n,)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    sign_three(3)  # and again in this thread, whose loop is kept from one call to the next
    assert len(results) == 12
    for (number, turn), data in results.items():
        reader = PdfFileReader(io.BytesIO(data))
        status = validate_pdf_signature(reader.embedded_signatures[0], _trust())
        assert status.bottom_line, (number, turn)
        assert f"Document {number}-{turn}".encode() in data


def test_threads_of_a_new_worker_build_the_signer_once_and_safely():
    """A new web worker's threads may issue their first certificates at the same moment: the
    signer's first signature builds asn1crypto's lookup tables, which two threads must not build
    together (seen under load as "invalid literal for int(): 'message_digest'")."""
    import sys
    import threading

    from asn1crypto import cms, core

    from assure.documents.signing import _signer_built

    key, cert = signing_pair()
    built: list[object] = []
    failures: list[BaseException] = []
    start = threading.Barrier(8)

    def first_certificate():
        start.wait()
        try:
            built.append(_signer(str(key), str(cert)))
        except BaseException as error:  # reported by the assertion below
            failures.append(error)

    interval = sys.getswitchinterval()
    _signer_built.cache_clear()
    # As in a process that never signed: asn1crypto builds the table on the class's first use.
    core._SETUP_CLASSES.pop(cms.CMSAttributeType, None)
    cms.CMSAttributeType._reverse_map = None
    sys.setswitchinterval(1e-6)  # threads handed over as often as possible
    try:
        threads = [threading.Thread(target=first_certificate) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    assert not failures
    assert len({id(signer) for signer in built}) == 1
