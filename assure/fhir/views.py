"""FHIR R4 endpoints under /fhir/r4/ (API.md, "FHIR R4"; docs/fhir.md): read only, JSON only.

Every answer is `application/fhir+json`, errors included (OperationOutcome). A member is
authenticated by the API's Bearer access token (`assure.api.auth`) and reaches only their own
Patient and their beneficiaries', with the Coverage and ExplanationOfBenefit resources that belong
to them; anything else answers 404 exactly like an id that does not exist. Requests count against a
the API's budgets in the shared cache (`assure.api.throttling`), so every web process sees one
count and a member has one budget for both interfaces.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
from collections.abc import Callable
from decimal import Decimal
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from assure.api.auth import member_auth
from assure.api.throttling import AddressThrottle, ApiThrottle, MemberThrottle, throttle_check
from assure.core.exceptions import DomainError, NotFound, Throttled, ValidationFailed
from assure.core.middleware import is_database_outage
from assure.fhir import resources, selectors
from assure.members.models import Member

logger = logging.getLogger("assure.fhir")

FHIR_JSON = "application/fhir+json"
# `_format` values that name JSON (FHIR R4, http.html#mime-type); XML is not served.
JSON_FORMATS = {"json", "application/json", "application/fhir+json", "application/json+fhir"}
COMMON_PARAMS = {"_format"}

PATIENT_PARAM_DOC = (
    "Patient/{id} ou {id} : l'assuré (id de GET me) ou un ayant droit (beneficiary-{id})"
)
SUPPORTED = (
    resources.ResourceSupport(type="Patient", read=True),
    resources.ResourceSupport(
        type="Coverage",
        read=True,
        search=(resources.SearchParam("beneficiary", "reference", PATIENT_PARAM_DOC),),
    ),
    resources.ResourceSupport(
        type="ExplanationOfBenefit",
        read=True,
        search=(resources.SearchParam("patient", "reference", PATIENT_PARAM_DOC),),
    ),
)
# Published with the CapabilityStatement: the day this list of capabilities last changed.
CAPABILITIES_DATE = "2026-11-26"


class Unsupported(ValidationFailed):
    code = "not-supported"


class UnknownInteraction(NotFound):
    """A resource type or an interaction this server does not have (FHIR http.html: 404)."""

    code = "not-supported"


def _links(request: HttpRequest) -> resources.Links:
    return resources.Links(base=request.build_absolute_uri("/fhir/r4/"))


def _json_default(value: object) -> object:
    if isinstance(value, Decimal):
        # A JSON number; FHIR decimals are read by value ("19.5" is 19.50).
        return float(value)
    raise TypeError(type(value).__name__)


def fhir_response(resource: resources.Resource, *, status: int = 200) -> HttpResponse:
    response = HttpResponse(
        json.dumps(resource, ensure_ascii=False, default=_json_default).encode(),
        status=status,
        content_type=FHIR_JSON,
    )
    response["Cache-Control"] = "no-store"
    return response


def outcome_response(*, status: int, code: str, text: str) -> HttpResponse:
    return fhir_response(resources.operation_outcome(code=code, text=text), status=status)


def _outcome_for(exc: DomainError) -> HttpResponse:
    if isinstance(exc, UnknownInteraction):
        return outcome_response(status=404, code="not-supported", text=str(exc.title))
    if isinstance(exc, NotFound):
        return outcome_response(status=404, code="not-found", text=str(exc.title))
    if isinstance(exc, Throttled):
        response = outcome_response(status=429, code="throttled", text=str(exc.title))
        response["Retry-After"] = str(exc.extra.get("retry_after", 60))
        return response
    if isinstance(exc, Unsupported):
        return outcome_response(status=400, code="not-supported", text=str(exc.title))
    if exc.status == 400:
        return outcome_response(status=400, code="invalid", text=str(exc.title))
    return outcome_response(status=exc.status, code="processing", text=str(exc.title))


def _check_params(request: HttpRequest, allowed: set[str]) -> dict[str, str]:
    """The query's parameters, one value each; any other parameter is refused (handling=strict)."""
    params: dict[str, str] = {}
    for name, values in request.GET.lists():
        if name not in allowed | COMMON_PARAMS:
            raise Unsupported(
                _("Le paramètre de recherche « %(name)s » n'est pas pris en charge.")
                % {"name": name}
            )
        if len(values) != 1:
            raise ValidationFailed(
                _("Le paramètre « %(name)s » ne peut être donné qu'une fois.") % {"name": name}
            )
        params[name] = values[0]
    fmt = params.pop("_format", None)
    if fmt is not None and fmt.split(";")[0].strip() not in JSON_FORMATS:
        raise Unsupported(_("Seul le format JSON est servi."))
    return params


# The API's budgets, so that a member has one count whichever interface the app uses: per client
# address before the token is read (inside `member_auth`, and here for the public metadata), then
# per account.
_address_throttle = AddressThrottle()
_member_throttle = MemberThrottle()


def _budget(request: HttpRequest, throttle: ApiThrottle) -> None:
    wait = throttle_check(request, throttle)
    if wait is not None:
        raise Throttled(extra={"retry_after": math.ceil(wait)})


View = Callable[..., resources.Resource]


def fhir_view(*, authenticated: bool = True) -> Callable[[View], Callable[..., HttpResponse]]:
    """GET only; authentication, budget, and every failure as an OperationOutcome."""

    def decorate(view: View) -> Callable[..., HttpResponse]:
        @csrf_exempt
        @wraps(view)
        def wrapper(request: HttpRequest, **kwargs: Any) -> HttpResponse:
            if request.method not in {"GET", "HEAD"}:
                response = outcome_response(
                    status=405,
                    code="not-supported",
                    text=_("Ce serveur FHIR est en lecture seule."),
                )
                response["Allow"] = "GET, HEAD"
                return response
            try:
                if authenticated:
                    account = member_auth(request)
                    if account is None:
                        response = outcome_response(
                            status=401, code="login", text=_("Vous devez être connecté.")
                        )
                        response["WWW-Authenticate"] = 'Bearer realm="fhir"'
                        return response
                    member: Member = request.member  # type: ignore[attr-defined]
                    _budget(request, _member_throttle)
                    return fhir_response(view(request, member, **kwargs))
                _budget(request, _address_throttle)
                return fhir_response(view(request, **kwargs))
            except DomainError as exc:
                return _outcome_for(exc)
            except Exception as exc:
                if is_database_outage(exc):
                    raise
                logger.exception("FHIR request failed: %s %s", request.method, request.path)
                return outcome_response(
                    status=500,
                    code="exception",
                    text=_("Une erreur inattendue est survenue. Réessayez plus tard."),
                )

        return wrapper

    return decorate


def _reference_id(value: str, resource_type: str) -> str:
    """`Patient/12` or `12` → "12"; the search answers 404 for an id that is not the member's."""
    return value.removeprefix(f"{resource_type}/")


# --- Endpoints ----------------------------------------------------------------------------------


@fhir_view(authenticated=False)
def metadata(request: HttpRequest) -> resources.Resource:
    _check_params(request, set())
    return resources.capability_statement(
        links=_links(request),
        supported=SUPPORTED,
        published=dt.date.fromisoformat(CAPABILITIES_DATE),
    )


@fhir_view()
def patient_read(request: HttpRequest, member: Member, patient_id: str) -> resources.Resource:
    _check_params(request, set())
    subject = selectors.subject_get_for_member(member=member, patient=patient_id)
    return resources.patient_resource(subject.member, subject.beneficiary)


def _coverages(subject: selectors.Subject) -> list[resources.Resource]:
    return resources.coverage_resources(
        subject.member, subject.beneficiary, today=timezone.localdate()
    )


@fhir_view()
def coverage_read(request: HttpRequest, member: Member, coverage_id: str) -> resources.Resource:
    _check_params(request, set())
    kind, _sep, patient = coverage_id.partition("-")
    if kind not in {"amo", "amc"}:
        raise NotFound()
    subject = selectors.subject_get_for_member(member=member, patient=patient)
    for coverage in _coverages(subject):
        if coverage["id"] == coverage_id:
            return coverage
    raise NotFound()


def _required(params: dict[str, str], name: str) -> str:
    value = params.get(name, "").strip()
    if not value:
        raise ValidationFailed(
            _("Le paramètre de recherche « %(name)s » est obligatoire.") % {"name": name}
        )
    return value


@fhir_view()
def coverage_search(request: HttpRequest, member: Member) -> resources.Resource:
    params = _check_params(request, {"beneficiary"})
    patient = _reference_id(_required(params, "beneficiary"), "Patient")
    subject = selectors.subject_get_for_member(member=member, patient=patient)
    found = _coverages(subject)
    links = _links(request)
    query = urlencode({"beneficiary": f"Patient/{subject.patient_id}"})
    return resources.searchset(
        links=links,
        self_url=links.url(f"Coverage?{query}"),
        total=len(found),
        resources=found,
    )


@fhir_view()
def explanation_of_benefit_read(
    request: HttpRequest, member: Member, eob_id: str
) -> resources.Resource:
    _check_params(request, set())
    statement = selectors.statement_get_for_member(member=member, statement_id=eob_id)
    return resources.explanation_of_benefit_resource(statement, member=member)


def _count(params: dict[str, str]) -> int:
    raw = params.get("_count")
    if raw is None:
        return selectors.DEFAULT_COUNT
    if not (raw.isascii() and raw.isdigit()) or int(raw) < 1:
        raise ValidationFailed(
            _("_count doit être un nombre entier entre 1 et %(max)s.")
            % {"max": selectors.MAX_COUNT}
        )
    # A server may return fewer than asked (FHIR search, "_count"); the links say how many.
    return min(int(raw), selectors.MAX_COUNT)


@fhir_view()
def explanation_of_benefit_search(request: HttpRequest, member: Member) -> resources.Resource:
    params = _check_params(request, {"patient", "_count", "_cursor"})
    patient = _reference_id(_required(params, "patient"), "Patient")
    count = _count(params)
    subject = selectors.subject_get_for_member(member=member, patient=patient)
    page = selectors.statement_page_for_subject(
        subject=subject, count=count, cursor=params.get("_cursor") or None
    )
    beneficiaries = {}
    if subject.beneficiary is not None:
        beneficiaries[subject.beneficiary.pk] = subject.beneficiary
    for statement in page.items:
        if statement.beneficiary_id is not None:
            statement.beneficiary = beneficiaries[statement.beneficiary_id]
        else:
            statement.beneficiary = None
    links = _links(request)

    def url(cursor: str | None) -> str:
        query = {"patient": subject.patient_id, "_count": str(count)}
        if cursor:
            query["_cursor"] = cursor
        return links.url(f"ExplanationOfBenefit?{urlencode(query)}")

    return resources.searchset(
        links=links,
        self_url=url(params.get("_cursor") or None),
        total=page.total,
        resources=[resources.explanation_of_benefit_data(s, member=member) for s in page.items],
        next_url=url(page.next_cursor) if page.next_cursor else None,
        previous_url=url(page.previous_cursor) if page.previous_cursor else None,
    )


@fhir_view(authenticated=False)
def unknown(request: HttpRequest, rest: str = "") -> resources.Resource:
    raise UnknownInteraction(_("Ce type de ressource ou cette opération n'est pas pris en charge."))
