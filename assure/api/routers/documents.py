"""certificates and their public verification (API.md, "Member": certificates, verify)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.conf import settings
from django.http import FileResponse, HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.responses import Status
from pydantic import BaseModel

from assure.api.auth import member_auth
from assure.api.routers.auth import ProblemOut
from assure.core.exceptions import Throttled
from assure.core.fixed_urls import reverse_with_id
from assure.documents import selectors, services
from assure.documents.models import Certificate
from assure.documents.views import verification_allowed
from assure.identity.services import member_actor
from assure.members.models import Member

router = Router(tags=["certificates"])

KindName = Literal["entitlement", "allowance", "tax", "ehic_provisional"]


class CertificateIn(Schema):
    kind: KindName
    beneficiaries: list[int] = Field(default_factory=list, max_length=20)
    exemptions: bool = Field(
        False, description="Show exemptions such as ALD on an entitlement certificate."
    )
    from_: dt.date | None = Field(None, alias="from")
    to: dt.date | None = None
    year: int | None = Field(None, ge=2000, le=2100)
    person: int | Literal["self"] = "self"


# Answers built here from keyword arguments: plain pydantic models, as in the payments router.
class CertificateOut(BaseModel):
    id: int
    reference: str
    kind: KindName
    issued_at: dt.datetime
    valid_until: dt.date | None
    pdf_url: str


class CertificateListOut(BaseModel):
    items: list[CertificateOut]
    next: str | None


class CertificateListIn(Schema):
    limit: int = Field(selectors.DEFAULT_LIMIT, ge=1, le=selectors.MAX_LIMIT)
    cursor: str | None = None


class VerifyOut(Schema):
    valid: bool
    kind: KindName | None
    issued_at: dt.datetime | None
    valid_until: dt.date | None
    holder: str | None = Field(None, description="Initials and birth year only, e.g. 'Z. N. 1985'.")


def _member(request: HttpRequest) -> Member:
    return request.member  # type: ignore[attr-defined, no-any-return]


def certificate_out(certificate: Certificate) -> CertificateOut:
    return CertificateOut(
        id=certificate.pk,
        reference=certificate.display_reference,
        kind=certificate.kind,  # type: ignore[arg-type]
        issued_at=certificate.issued_at,
        valid_until=certificate.valid_until,
        pdf_url=reverse_with_id("api-v1:certificates_pdf", certificate.pk),
    )


@router.get(
    "certificates",
    auth=member_auth,
    response={200: CertificateListOut, 401: ProblemOut, 404: ProblemOut},
    operation_id="certificates_list",
    summary="The certificates issued to the member, newest first",
)
def certificates_list(request: HttpRequest, query: Query[CertificateListIn]) -> CertificateListOut:
    page = selectors.certificate_list_for_member(
        member=_member(request), cursor=query.cursor, limit=query.limit
    )
    return CertificateListOut(items=[certificate_out(c) for c in page.items], next=page.next_cursor)


@router.post(
    "certificates",
    auth=member_auth,
    response={201: CertificateOut, 400: ProblemOut, 401: ProblemOut, 409: ProblemOut},
    operation_id="certificates_create",
    summary="Issue a signed certificate",
)
def certificates_create(request: HttpRequest, body: CertificateIn) -> Status:
    member = _member(request)
    certificate = services.certificate_issue(
        actor=member_actor(member),
        member=member,
        request=services.CertificateRequest(
            kind=body.kind,
            beneficiaries=body.beneficiaries,
            exemptions=body.exemptions,
            start=body.from_,
            end=body.to,
            year=body.year,
            person=str(body.person),
        ),
    )
    return Status(201, certificate_out(certificate))


@router.get(
    "certificates/{certificate_id}/pdf",
    auth=member_auth,
    response={200: None, 401: ProblemOut, 404: ProblemOut},
    operation_id="certificates_pdf",
    summary="The certificate's signed PDF, as an attachment",
    openapi_extra={
        "responses": {
            200: {
                "description": "The signed PDF",
                "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    },
)
def certificates_pdf(request: HttpRequest, certificate_id: int) -> FileResponse:
    certificate = selectors.certificate_get_for_member(
        member=_member(request), certificate_id=certificate_id
    )
    return FileResponse(
        certificate.pdf.open("rb"),
        as_attachment=True,
        filename=certificate.filename,
        content_type="application/pdf",
    )


@router.get(
    "verify/{reference}",
    auth=None,
    response={200: VerifyOut, 429: ProblemOut},
    operation_id="verify_get",
    summary="Public: is this certificate valid? The same 'not valid' answer for every other case",
)
def verify_get(request: HttpRequest, reference: str) -> VerifyOut:
    if not verification_allowed(request):
        raise Throttled(extra={"retry_after": settings.DOCUMENTS_VERIFY_WINDOW_SECONDS})
    result = selectors.certificate_verify(reference)
    if result is None:
        return VerifyOut(valid=False, kind=None, issued_at=None, valid_until=None, holder=None)
    return VerifyOut(
        valid=True,
        kind=result.kind,  # type: ignore[arg-type]
        issued_at=result.issued_at,
        valid_until=result.valid_until,
        holder=result.holder,
    )
