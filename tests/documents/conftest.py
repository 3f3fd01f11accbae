"""Fixtures of the documents tests: a member on 26 November 2026, and PDF helpers."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
import time_machine
from pypdf import PdfReader

from assure.core.services import Actor
from assure.documents.services import CertificateRequest, certificate_issue
from assure.members.models import Member
from tests.members.factories import BeneficiaryFactory, MemberFactory

TODAY = dt.datetime(2026, 11, 26, 10, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def member(db) -> Member:
    member = MemberFactory(
        given_names="Zoé Anne",
        birth_name="N'DIAYE",
        birth_date=dt.date(1985, 5, 14),
        exemptions=[{"kind": "ald", "start": "2019-04-01", "end": None}],
        complementary_name="Mutuelle des Volcans",
    )
    BeneficiaryFactory(member=member, given_names="Léa", birth_date=dt.date(2015, 3, 2))
    return member


def actor_for(member: Member) -> Actor:
    return Actor(kind="member", id=str(member.pk), display="test")


def issue(member: Member, kind: str, **fields):
    return certificate_issue(
        actor=actor_for(member), member=member, request=CertificateRequest(kind=kind, **fields)
    )


def pdf_bytes(certificate) -> bytes:
    with certificate.pdf.open("rb") as handle:
        return handle.read()


def page_shape(response, path: str) -> bytes:
    """A page with what legitimately varies taken out: the path the language switcher sends
    back to, and the per-response mask of the CSRF token."""
    body = response.content.replace(path.encode(), b"PATH")
    return re.sub(rb'name="csrfmiddlewaretoken" value="[^"]+"', b"CSRF", body)


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 1
    return " ".join(reader.pages[0].extract_text().split())
