"""Certificates per second through the API against a bare ReportLab page of the same layout.

    nice python bench/certificates.py [--count 40] [--rounds 3]

In a throw-away data directory (SQLite, or DATABASE_URL when it names an assure_bench* database):
one member with two beneficiaries and an API token; then, in alternating rounds so that both halves
share the same machine load:

- API: `POST /api/v1/certificates` (an entitlement certificate naming both beneficiaries) then
  `GET /api/v1/certificates/{id}/pdf`, read to the end, through Django's whole stack in process
  (middleware, Bearer token, validation, drawing, PAdES signature with pyHanko, file and row
  written, audit event);
- bare: `page_render` of the same page (same layout, same text, same QR code), nothing else.

The process is prepared as assure's gunicorn prepares its workers: views imported, templates
compiled, translations read, then what is loaded frozen out of the garbage collector's sight
(assure/ops/warm.py, assure/ops/gunicorn_conf.py).

Prints certificates/s, bare pages/s and their ratio (issue 5's goal: ≥ 0.5, signing included),
plus the time of the signed file alone (pyHanko writing the drawing and signing it, as the service
does) and of a signature appended to ReportLab's file. Nothing is asserted: record the figures in
docs/performance.md with the machine they ran on.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _setup() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("ASSURE_DATA_DIR", tempfile.mkdtemp(prefix="assure-bench-cert-"))
    os.environ.setdefault("ASSURE_ENV", "development")
    # The API's throttles still count every request (their cost is part of the measure), with
    # limits no benchmark run reaches.
    os.environ.setdefault("ASSURE_API_RATE_ADDRESS", "1000000/60")
    os.environ.setdefault("ASSURE_API_RATE_MEMBER", "1000000/60")
    os.environ["DJANGO_SETTINGS_MODULE"] = "assure.settings"
    url = os.environ.get("DATABASE_URL", "")
    if url and not url.rsplit("/", 1)[-1].startswith("assure_bench"):
        sys.exit("DATABASE_URL must name a throw-away database called assure_bench*")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    if not url:
        call_command("createcachetable", verbosity=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=40, help="certificates per round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    _setup()

    from django.test import Client
    from django.utils import timezone

    from assure.documents import content
    from assure.documents.pdf import page_draw, page_render, page_subject
    from assure.documents.references import reference_display, reference_new
    from assure.documents.services import verify_url
    from assure.documents.signing import drawing_sign, pdf_sign
    from assure.identity.models import Account
    from assure.identity.services import app_tokens_issue
    from assure.members.models import Beneficiary, Member
    from assure.members.nir import with_key

    # A new member each run: on PostgreSQL the throw-away database may hold an earlier run's
    # (its audit trail is append-only, so nothing there is deleted).
    run = next(
        n
        for n in range(1000)
        if not Member.objects.filter(nir=with_key(f"2850575056{n:03d}")).exists()
        and not Member.objects.filter(external_id=f"BENCH-{n}").exists()
    )
    member = Member.objects.create(
        external_id=f"BENCH-{run}",
        nir=with_key(f"2850575056{run:03d}"),
        birth_name="N'DIAYE",
        given_names="Zoé Anne",
        sex="F",
        birth_date=dt.date(1985, 5, 14),
        address_line1="12 rue des Lilas",
        postal_code="75014",
        city="PARIS",
        coverage_start=dt.date(2010, 1, 1),
        complementary_name="Mutuelle des Volcans",
    )
    children = [
        Beneficiary.objects.create(
            member=member,
            external_id=f"{member.external_id}-B{i}",
            birth_name="N'DIAYE",
            given_names=name,
            sex="F",
            birth_date=dt.date(2015 + i, 3, 2),
            relation="child",
        )
        for i, name in enumerate(["Léa", "Aminata"])
    ]
    # An unusable hash: the benchmark signs in with a token, never with a code.
    account = Account.objects.create(member=member, secret_code_hash="!", must_change_code=False)  # noqa: S106
    token = app_tokens_issue(account=account, device_label="bench").access_token
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_HOST="127.0.0.1")
    body = json.dumps({"kind": "entitlement", "beneficiaries": [c.pk for c in children]})

    def api_round(n: int) -> float:
        start = time.perf_counter()
        for _ in range(n):
            created = client.post("/api/v1/certificates", body, content_type="application/json")
            if created.status_code != 201:
                sys.exit(f"POST answered {created.status_code}: {created.content[:200]!r}")
            pdf = client.get(created.json()["pdf_url"])
            size = sum(len(chunk) for chunk in pdf.streaming_content)
            if pdf.status_code != 200 or size < 1000:
                sys.exit(f"download answered {pdf.status_code}, {size} bytes")
        return n / (time.perf_counter() - start)

    today = timezone.localdate()

    def the_page():
        reference = reference_new()
        stamp = content.Stamp(
            reference=reference_display(reference),
            verify_url=verify_url(reference),
            issued_on=today,
        )
        return content.entitlement_page(
            member=member,
            beneficiaries=children,
            show_exemptions=False,
            valid_until=today + dt.timedelta(days=365),
            stamp=stamp,
        )

    def bare_round(n: int) -> float:
        start = time.perf_counter()
        for _ in range(n):
            page_render(the_page())
        return n / (time.perf_counter() - start)

    sample_page = the_page()
    sample = page_render(sample_page)
    drawing = page_draw(sample_page)
    if drawing is None:
        sys.exit("the entitlement page cannot be written from its drawing alone")
    file_times = []  # pyHanko writing the file from the drawing and signing it (the service's way)
    sign_times = []  # the signature appended to ReportLab's file (the fallback)
    pyhanko_times = []
    for _ in range(10):
        start = time.perf_counter()
        drawing_sign(
            drawing,
            title=sample_page.title,
            author=sample_page.author,
            subject=page_subject(sample_page),
            reason="bench",
        )
        file_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        pdf_sign(sample, reason="bench")
        sign_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        _pyhanko_sign(sample)
        pyhanko_times.append(time.perf_counter() - start)

    # As assure's gunicorn does before it forks a worker (assure/ops/gunicorn_conf.py). Both
    # halves of the measure run in this one process, so both run with it.
    from assure.ops import gunicorn_conf

    gunicorn_conf.when_ready(None)
    gunicorn_conf.pre_fork(None, None)

    api_round(3)  # warm-up: imports, first queries, signer loaded
    bare_round(3)
    rows = []
    for round_no in range(1, args.rounds + 1):
        api = api_round(args.count)
        bare = bare_round(args.count)
        rows.append((api, bare))
        print(
            f"round {round_no}: {api:7.1f} certificates/s  {bare:7.1f} bare pages/s  "
            f"ratio {api / bare:.2f}"
        )
    api_all = statistics.median(r[0] for r in rows)
    bare_all = statistics.median(r[1] for r in rows)
    print()
    print(
        "| certificates/s (API + download) | bare ReportLab pages/s | ratio "
        "| signed file from the drawing |"
    )
    print("|---|---|---|---|")
    print(
        f"| {api_all:.1f} | {bare_all:.1f} | {api_all / bare_all:.2f} "
        f"| {statistics.median(file_times) * 1000:.1f} ms |"
    )
    print(
        f"(medians of {args.rounds} rounds of {args.count}; load average {os.getloadavg()[0]:.1f})"
    )
    print(
        f"signature appended to ReportLab's file (pages that need more than their drawing): "
        f"{statistics.median(sign_times) * 1000:.1f} ms; with pyHanko assembling the whole CMS "
        f"container (as before the fund's signer): {statistics.median(pyhanko_times) * 1000:.1f} ms"
    )


def _pyhanko_sign(data: bytes) -> bytes:
    """The same signature with pyHanko's own signer, for comparison in the same run."""
    import io

    from django.conf import settings
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    from assure.documents.signing import _reserve, _signer, signing_pair

    key, cert = signing_pair()
    fund = _signer(str(key), str(cert))
    plain = signers.SimpleSigner(
        signing_cert=fund.signing_cert,
        signing_key=fund.signing_key,
        cert_registry=fund.cert_registry,
    )
    meta = signers.PdfSignatureMetadata(
        field_name="Signature",
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        reason="bench",
        location=settings.ASSURE_FUND_NAME[:100],
        name=settings.ASSURE_FUND_NAME[:100],
    )
    writer = IncrementalPdfFileWriter(io.BytesIO(data))
    return signers.sign_pdf(writer, meta, signer=plain, bytes_reserved=_reserve(plain)).getvalue()


if __name__ == "__main__":
    main()
