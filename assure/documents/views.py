"""Mes attestations (the member's pages) and the public verification page `/verifier/<ref>/`."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from assure.core.exceptions import DomainError, NotFound
from assure.core.fixed_urls import reverse_with_id
from assure.documents import forms, selectors, services
from assure.documents.models import Certificate
from assure.identity.decorators import member_login_required
from assure.identity.services import member_actor
from assure.identity.throttling import client_address, request_allowed
from assure.members.models import Member

# The address of each kind's page, in French as the rest of the site's paths.
KIND_SLUGS = {
    "droits": Certificate.Kind.ENTITLEMENT,
    "indemnites": Certificate.Kind.ALLOWANCE,
    "releve-fiscal": Certificate.Kind.TAX,
    "certificat-provisoire": Certificate.Kind.EHIC_PROVISIONAL,
}


def _member(request: HttpRequest) -> Member:
    return request.member  # type: ignore[attr-defined, no-any-return]


@dataclass(frozen=True)
class _Listed:
    """One issued certificate as the list shows it (written here once instead of through the
    template's tags and filters for each of up to fifty certificates)."""

    kind: str
    beneficiary: str
    revoked: bool
    issued_on: str
    dates: str
    reference: str
    url: str


def _listed_all(certificates: list[Certificate]) -> list[_Listed]:
    # Looked up once for the page, not once for each certificate.
    issued_text = _("Délivrée le %(day)s")
    valid_text = _("valable jusqu'au %(day)s")
    kinds = {value: str(label) for value, label in Certificate.Kind.choices}
    listed = []
    for certificate in certificates:
        issued_on = f"{timezone.localtime(certificate.issued_at):%d/%m/%Y}"
        dates = issued_text % {"day": issued_on}
        if certificate.valid_until:
            dates += ", " + valid_text % {"day": f"{certificate.valid_until:%d/%m/%Y}"}
        beneficiary = certificate.beneficiary
        listed.append(
            _Listed(
                kind=kinds.get(certificate.kind, certificate.kind),
                beneficiary=beneficiary.given_names if beneficiary else "",
                revoked=certificate.revoked_at is not None,
                issued_on=issued_on,
                dates=dates,
                reference=certificate.display_reference,
                url=reverse_with_id("documents:download", certificate.pk),
            )
        )
    return listed


@member_login_required
def certificate_list(request: HttpRequest) -> HttpResponse:
    page = selectors.certificate_list_for_member(member=_member(request), limit=50)
    return render(
        request,
        "documents/list.html",
        {"certificates": _listed_all(page.items), "kinds": KIND_SLUGS},
    )


def _form(kind: str, request: HttpRequest, beneficiaries: list) -> forms.forms.Form:
    data = request.POST if request.method == "POST" else None
    if kind == Certificate.Kind.ENTITLEMENT:
        return forms.EntitlementForm(data, beneficiaries=beneficiaries)
    if kind == Certificate.Kind.ALLOWANCE:
        return forms.AllowanceForm(data)
    if kind == Certificate.Kind.TAX:
        return forms.TaxForm(data)
    initial = {"person": request.GET.get("personne", forms.SELF)}
    return forms.ProvisionalForm(data, beneficiaries=beneficiaries, initial=initial)


def _request(kind: str, data: dict) -> services.CertificateRequest:
    return services.CertificateRequest(
        kind=kind,
        beneficiaries=[int(pk) for pk in data.get("beneficiaries", [])],
        exemptions=bool(data.get("exemptions")),
        start=data.get("start"),
        end=data.get("end"),
        year=data.get("year"),
        person=data.get("person", services.SELF),
    )


@member_login_required
def certificate_new(request: HttpRequest, kind: str) -> HttpResponse:
    if kind not in KIND_SLUGS:
        raise Http404
    member = _member(request)
    certificate_kind = KIND_SLUGS[kind]
    beneficiaries = selectors.beneficiaries_for_member(member=member)
    form = _form(certificate_kind, request, beneficiaries)
    if request.method == "POST" and form.is_valid():
        try:
            certificate = services.certificate_issue(
                actor=member_actor(member),
                member=member,
                request=_request(certificate_kind, form.cleaned_data),
            )
        except DomainError as error:
            form.add_error(None, str(error.title))
        else:
            messages.success(
                request,
                _("Votre attestation est prête : %(kind)s, référence %(reference)s.")
                % {
                    "kind": certificate.get_kind_display(),
                    "reference": certificate.display_reference,
                },
            )
            return redirect("documents:list")
    return render(
        request,
        "documents/new.html",
        {"form": form, "kind": certificate_kind, "label": Certificate.Kind(certificate_kind).label},
    )


@member_login_required
def certificate_download(request: HttpRequest, certificate_id: int) -> HttpResponse:
    try:
        certificate = selectors.certificate_get_for_member(
            member=_member(request), certificate_id=certificate_id
        )
    except NotFound:
        raise Http404 from None
    return FileResponse(  # type: ignore[return-value]  # a streaming HttpResponseBase
        certificate.pdf.open("rb"),
        as_attachment=True,
        filename=certificate.filename,
        content_type="application/pdf",
    )


def verification_allowed(request: HttpRequest) -> bool:
    return request_allowed(
        "verify",
        client_address(request),
        limit=settings.DOCUMENTS_VERIFY_PER_ADDRESS,
        window_seconds=settings.DOCUMENTS_VERIFY_WINDOW_SECONDS,
    )


@require_GET
def verify_form(request: HttpRequest) -> HttpResponse:
    """For a reference read on paper: typed here, then checked on the page of that reference."""
    form = forms.ReferenceForm(request.GET or None)
    if request.GET and form.is_valid():
        typed = form.cleaned_data["reference"].strip().replace(" ", "-").replace("/", "-")
        return redirect("documents:verify", reference=typed or "-")
    return render(request, "documents/verify_form.html", {"form": form})


@require_GET
@never_cache
def verify(request: HttpRequest, reference: str) -> HttpResponse:
    """Public: what the certificate says about itself, or one and the same "not valid" page."""
    if not verification_allowed(request):
        response = render(request, "documents/verify_throttled.html", status=429)
        response["Retry-After"] = str(settings.DOCUMENTS_VERIFY_WINDOW_SECONDS)
        return response
    result = selectors.certificate_verify(reference)
    response = render(
        request,
        "documents/verify.html",
        {
            "result": result,
            "kind_label": Certificate.Kind(result.kind).label if result else "",
        },
    )
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response
