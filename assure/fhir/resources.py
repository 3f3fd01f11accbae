"""FHIR R4 resources built from the register and the statement lines (docs/fhir.md).

Each builder returns a `fhir.resources` model, so that nothing leaves the server that the R4 models
refuse: a missing required element or a wrong type fails here, not in a client. The R4B package is
used for its models: Patient, Coverage, ExplanationOfBenefit, Bundle, CapabilityStatement and
OperationOutcome are the same in R4 (4.0.1) and R4B.

ExplanationOfBenefit follows the shape of the CARIN Blue Button profiles (C4BB) where French data
fits it, without claiming conformance: no `meta.profile` is set (docs/fhir.md lists the deviations).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from fhir.resources.R4B import FHIRAbstractModel
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.coverage import Coverage
from fhir.resources.R4B.explanationofbenefit import ExplanationOfBenefit
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.patient import Patient

from assure.fhir.selectors import patient_id
from assure.members.models import Beneficiary, Member
from assure.payments.models import Statement

FHIR_VERSION = "4.0.1"
CURRENCY = "EUR"

# Code systems of FHIR R4 (terminology.hl7.org) and of the CARIN Blue Button guide.
CLAIM_TYPE = "http://terminology.hl7.org/CodeSystem/claim-type"
ADJUDICATION = "http://terminology.hl7.org/CodeSystem/adjudication"
PAYEE_TYPE = "http://terminology.hl7.org/CodeSystem/payeetype"
PAYMENT_TYPE = "http://terminology.hl7.org/CodeSystem/ex-paymenttype"
SUBSCRIBER_RELATIONSHIP = "http://terminology.hl7.org/CodeSystem/subscriber-relationship"
COVERAGE_CLASS = "http://terminology.hl7.org/CodeSystem/coverage-class"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
C4BB_IDENTIFIER_TYPE = "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBIdentifierType"
C4BB_PAYEE_TYPE = "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBPayeeType"
# This server's own codes: French reimbursement notions that no published system names.
LOCAL_ADJUDICATION = "urn:assure:fhir:adjudication"
LOCAL_ACT_CODE = "urn:assure:fhir:act-code"
LOCAL_EXEMPTION = "urn:assure:fhir:exemption"

# Care categories of the fund's feed → the claim types of FHIR (and C4BB's profiles).
CLAIM_TYPES = {
    "pharmacy": ("pharmacy", "Pharmacy"),
    "dental": ("oral", "Oral"),
    "optical": ("vision", "Vision"),
    "hospital": ("institutional", "Institutional"),
}
PROFESSIONAL = ("professional", "Professional")

OUTCOMES: dict[str, str] = {
    Statement.Status.RECEIVED: "queued",
    Statement.Status.PROCESSING: "queued",
    Statement.Status.PAID: "complete",
    Statement.Status.REJECTED: "error",
}

RELATIONSHIPS: dict[str, str] = {
    Beneficiary.Relation.CHILD: "child",
    Beneficiary.Relation.SPOUSE: "spouse",
    Beneficiary.Relation.OTHER: "other",
}

GENDERS = {"F": "female", "M": "male"}


@dataclass(frozen=True)
class Links:
    """Absolute URLs of this server's resources, built from the request's base URL."""

    base: str  # ends with "/"

    def url(self, reference: str) -> str:
        return f"{self.base}{reference}"


def _date(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


def _money(value: Decimal) -> dict[str, Any]:
    return {"value": value, "currency": CURRENCY}


def _coding(system: str, code: str, display: str | None = None) -> dict[str, Any]:
    coding = {"system": system, "code": code}
    if display:
        coding["display"] = display
    return coding


def _concept(system: str, code: str, display: str | None = None, text: str | None = None) -> dict:
    concept: dict[str, Any] = {"coding": [_coding(system, code, display)]}
    if text:
        concept["text"] = text
    return concept


Resource = dict[str, Any]


def checked(model: type[FHIRAbstractModel], data: Resource) -> Resource:
    """`data` once the R4 model of its type accepts it; ValidationError otherwise.

    The checked dict, not the model, is what is sent: the models' own JSON output is several times
    slower than the standard library's, and the dict holds exactly what was checked.
    """
    model.model_validate(data)
    return data


def _drop_empty(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v not in (None, "", [], {})}


def _short_date(value: dt.date) -> str:
    return formats.date_format(value, "SHORT_DATE_FORMAT")


# --- Patient ------------------------------------------------------------------------------------


def patient_reference(member: Member, beneficiary: Beneficiary | None) -> dict[str, str]:
    person = beneficiary or member
    given = person.given_names.split(" ")[0]
    family = member.family_name if beneficiary is None else beneficiary.birth_name
    return {
        "reference": f"Patient/{patient_id(member, beneficiary)}",
        "display": f"{given} {family}",
    }


def patient_resource(member: Member, beneficiary: Beneficiary | None = None) -> Resource:
    if beneficiary is not None:
        data = {
            "resourceType": "Patient",
            "id": patient_id(member, beneficiary),
            "active": beneficiary.active,
            "name": [
                {
                    "use": "official",
                    "family": beneficiary.birth_name,
                    "given": beneficiary.given_names.split(),
                }
            ],
            "gender": GENDERS.get(beneficiary.sex, "unknown"),
            "birthDate": _date(beneficiary.birth_date),
        }
        return checked(Patient, data)
    names = [{"use": "official", "family": member.family_name, "given": member.given_names.split()}]
    if member.usual_name and member.usual_name != member.birth_name:
        names.append({"use": "maiden", "family": member.birth_name})
    telecom = []
    if member.phone:
        telecom.append({"system": "phone", "value": member.phone, "use": "mobile"})
    if member.email:
        telecom.append({"system": "email", "value": member.email})
    address = _drop_empty(
        {
            "use": "home",
            "type": "postal",
            "line": [line for line in (member.address_line1, member.address_line2) if line],
            "postalCode": member.postal_code,
            "city": member.city,
            "country": member.country,
        }
    )
    data = _drop_empty(
        {
            "resourceType": "Patient",
            "id": patient_id(member, None),
            "active": True,
            "name": names,
            "telecom": telecom,
            "gender": GENDERS.get(member.sex, "unknown"),
            "birthDate": _date(member.birth_date),
            "address": [address],
        }
    )
    return checked(Patient, data)


# --- Coverage -----------------------------------------------------------------------------------


def coverage_id(member: Member, beneficiary: Beneficiary | None, *, complementary: bool) -> str:
    return f"{'amc' if complementary else 'amo'}-{patient_id(member, beneficiary)}"


EXEMPTION_LABELS = {
    "ald": gettext_lazy("Affection de longue durée (ALD)"),
    "maternity": gettext_lazy("Maternité"),
    "css": gettext_lazy("Complémentaire santé solidaire (CSS)"),
    "ame": gettext_lazy("Aide médicale de l'État (AME)"),
}


def _exemption_name(exemption: dict[str, Any]) -> str:
    kind = str(exemption.get("kind"))
    label = str(EXEMPTION_LABELS.get(kind, kind))
    start = exemption.get("start")
    end = exemption.get("end")
    if start and end:
        return _("%(label)s, du %(start)s au %(end)s") % {
            "label": label,
            "start": _short_date(dt.date.fromisoformat(start)),
            "end": _short_date(dt.date.fromisoformat(end)),
        }
    if start:
        return _("%(label)s, depuis le %(start)s") % {
            "label": label,
            "start": _short_date(dt.date.fromisoformat(start)),
        }
    return label


def coverage_resources(
    member: Member, beneficiary: Beneficiary | None, *, today: dt.date
) -> list[Resource]:
    """The compulsory cover (AMO) of the person, then the member's complementary cover if known."""
    covered = beneficiary is None or beneficiary.active
    ended = member.coverage_end is not None and member.coverage_end < today
    relation = "self" if beneficiary is None else RELATIONSHIPS.get(beneficiary.relation, "other")
    subscriber = patient_reference(member, None)
    person = patient_reference(member, beneficiary)
    exemptions = [
        {
            "type": _concept(COVERAGE_CLASS, "subplan", "Subplan", _("Exonération")),
            "value": str(e.get("kind")),
            "name": _exemption_name(e),
        }
        for e in (member.exemptions or [])
        if beneficiary is None and isinstance(e, dict) and e.get("kind")
    ]
    amo = _drop_empty(
        {
            "resourceType": "Coverage",
            "id": coverage_id(member, beneficiary, complementary=False),
            "status": "active" if covered and not ended else "cancelled",
            "type": _concept(
                ACT_CODE, "PUBLICPOL", "public healthcare", _("Assurance maladie obligatoire")
            ),
            "subscriber": subscriber,
            "beneficiary": person,
            "relationship": _concept(SUBSCRIBER_RELATIONSHIP, relation),
            "period": _drop_empty(
                {"start": _date(member.coverage_start), "end": _date(member.coverage_end)}
            ),
            "payor": [{"display": settings.ASSURE_FUND_NAME}],
            "class": exemptions,
            "order": 1,
        }
    )
    found = [checked(Coverage, amo)]
    if beneficiary is None and member.complementary_name:
        amc = _drop_empty(
            {
                "resourceType": "Coverage",
                "id": coverage_id(member, None, complementary=True),
                "status": "active",
                "type": {"text": _("Complémentaire santé")},
                "subscriber": subscriber,
                "subscriberId": member.complementary_contract,
                "beneficiary": person,
                "relationship": _concept(SUBSCRIBER_RELATIONSHIP, "self"),
                "payor": [{"display": member.complementary_name}],
                "order": 2,
            }
        )
        found.append(checked(Coverage, amc))
    return found


# --- ExplanationOfBenefit -----------------------------------------------------------------------


# The displays of http://terminology.hl7.org/CodeSystem/adjudication; French goes in the text.
ADJUDICATION_DISPLAYS = {
    "submitted": "Submitted Amount",
    "eligible": "Eligible Amount",
    "eligpercent": "Eligible %",
    "benefit": "Benefit Amount",
    "deductible": "Deductible",
}


def _category(code: str, text: str, *, system: str = ADJUDICATION) -> dict[str, Any]:
    if system == ADJUDICATION:
        return _concept(system, code, ADJUDICATION_DISPLAYS[code], text)
    return _concept(system, code, text, text)


def _adjudication(code: str, text: str, amount: Decimal, *, system: str = ADJUDICATION) -> dict:
    return {"category": _category(code, text, system=system), "amount": _money(amount)}


def _status_text(statement: Statement) -> str:
    text = str(Statement.Status(statement.status).label)
    if statement.status == Statement.Status.REJECTED and statement.rejection_reason:
        return f"{text} : {statement.rejection_reason}"
    return text


def explanation_of_benefit_data(statement: Statement, *, member: Member) -> dict[str, Any]:
    """One statement line as an ExplanationOfBenefit, as a dict ready for the R4 models."""
    beneficiary = statement.beneficiary
    claim_type = CLAIM_TYPES.get(statement.category, PROFESSIONAL)
    withheld = statement.flat_fee + statement.deductible
    adjudication = [
        _adjudication("submitted", _("Montant facturé"), statement.amount_charged),
        _adjudication("eligible", _("Base de remboursement"), statement.base_amount),
        {
            "category": _category("eligpercent", _("Taux de remboursement")),
            "value": Decimal(statement.rate),
        },
        _adjudication("benefit", _("Montant remboursé"), statement.reimbursed),
        _adjudication("deductible", _("Participations retenues"), withheld),
        _adjudication(
            "flat-fee",
            _("Participation forfaitaire"),
            statement.flat_fee,
            system=LOCAL_ADJUDICATION,
        ),
        _adjudication(
            "deductible",
            _("Franchise médicale"),
            statement.deductible,
            system=LOCAL_ADJUDICATION,
        ),
    ]
    total = [
        _adjudication("submitted", _("Montant facturé"), statement.amount_charged),
        _adjudication("eligible", _("Base de remboursement"), statement.base_amount),
        _adjudication("benefit", _("Montant remboursé"), statement.reimbursed),
        _adjudication("deductible", _("Participations retenues"), withheld),
    ]
    to_member = statement.paid_to == Statement.PaidTo.MEMBER
    provider = statement.provider or _("Professionnel de santé non précisé")
    payee = {
        "type": {
            "coding": [
                _coding(PAYEE_TYPE, "subscriber" if to_member else "provider"),
                _coding(C4BB_PAYEE_TYPE, "subscriber" if to_member else "other"),
            ],
            "text": str(Statement.PaidTo(statement.paid_to).label),
        },
        "party": patient_reference(member, None) if to_member else {"display": provider},
    }
    payment: dict[str, Any] | None = None
    if statement.status == Statement.Status.PAID:
        payment = _drop_empty(
            {
                "type": _concept(PAYMENT_TYPE, "complete", "Complete"),
                "date": _date(statement.paid_on),
                "amount": _money(statement.reimbursed),
                "identifier": (
                    {"value": statement.payment_reference} if statement.payment_reference else None
                ),
            }
        )
    notes = []
    if statement.complementary_forwarded:
        notes.append(
            {"number": 1, "type": "display", "text": _("Transmis à votre complémentaire santé.")}
        )
    category_label = str(statement.get_category_display())  # type: ignore[attr-defined]
    return _drop_empty(
        {
            "resourceType": "ExplanationOfBenefit",
            "id": str(statement.pk),
            "identifier": [
                {
                    "type": _concept(
                        C4BB_IDENTIFIER_TYPE,
                        "uc",
                        "Unique Claim ID",
                        _("Numéro de la ligne de décompte"),
                    ),
                    "value": statement.external_id,
                }
            ],
            "status": "active",
            "type": _concept(CLAIM_TYPE, claim_type[0], claim_type[1], category_label),
            "use": "claim",
            "patient": patient_reference(member, beneficiary),
            "billablePeriod": {
                "start": _date(statement.care_date),
                "end": _date(statement.care_date),
            },
            "created": _date(statement.care_date),
            "insurer": {"display": settings.ASSURE_FUND_NAME},
            "provider": {"display": provider},
            "payee": payee,
            "outcome": OUTCOMES.get(statement.status, "queued"),
            "disposition": _status_text(statement),
            "insurance": [
                {
                    "focal": True,
                    "coverage": {
                        "reference": "Coverage/"
                        + coverage_id(member, beneficiary, complementary=False)
                    },
                }
            ],
            "item": [
                {
                    "sequence": 1,
                    "productOrService": {
                        "coding": [_coding(LOCAL_ACT_CODE, statement.act_code, statement.label)],
                        "text": statement.label,
                    },
                    "servicedDate": _date(statement.care_date),
                    "adjudication": adjudication,
                }
            ],
            "total": total,
            "payment": payment,
            "processNote": notes,
        }
    )


def explanation_of_benefit_resource(statement: Statement, *, member: Member) -> Resource:
    return checked(ExplanationOfBenefit, explanation_of_benefit_data(statement, member=member))


# --- Bundle, CapabilityStatement, OperationOutcome ----------------------------------------------


def searchset(
    *,
    links: Links,
    self_url: str,
    total: int,
    resources: Iterable[Resource],
    next_url: str | None = None,
    previous_url: str | None = None,
) -> Resource:
    """A searchset Bundle; its entries are validated with the Bundle, each by its own model."""
    link = [{"relation": "self", "url": self_url}]
    if next_url:
        link.append({"relation": "next", "url": next_url})
    if previous_url:
        link.append({"relation": "previous", "url": previous_url})
    entries = [
        {
            "fullUrl": links.url(f"{resource['resourceType']}/{resource['id']}"),
            "resource": resource,
            "search": {"mode": "match"},
        }
        for resource in resources
    ]
    data = _drop_empty(
        {
            "resourceType": "Bundle",
            "type": "searchset",
            "total": total,
            "link": link,
            "entry": entries,
        }
    )
    data["total"] = total  # zero is a total too
    return checked(Bundle, data)


@dataclass(frozen=True)
class SearchParam:
    name: str
    type: str
    documentation: str


@dataclass(frozen=True)
class ResourceSupport:
    """What the server does with one resource type: read, and search with these parameters."""

    type: str
    read: bool
    search: tuple[SearchParam, ...] = ()

    @property
    def interactions(self) -> list[str]:
        return (["read"] if self.read else []) + (["search-type"] if self.search else [])


def capability_statement(
    *, links: Links, supported: Iterable[ResourceSupport], published: dt.date
) -> Resource:
    resources = [
        _drop_empty(
            {
                "type": support.type,
                "interaction": [{"code": code} for code in support.interactions],
                "searchParam": [
                    {"name": p.name, "type": p.type, "documentation": p.documentation}
                    for p in support.search
                ],
            }
        )
        for support in supported
    ]
    data = {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": published.isoformat(),
        "publisher": settings.ASSURE_FUND_NAME,
        "kind": "instance",
        "software": {"name": "assure"},
        "implementation": {
            "description": _("Accès FHIR R4 en lecture au compte de l'assuré"),
            "url": links.base,
        },
        "fhirVersion": FHIR_VERSION,
        "format": ["json"],
        "rest": [
            {
                "mode": "server",
                "documentation": _(
                    "Lecture seule. Jeton Bearer de l'API (Authorization: Bearer <jeton "
                    "d'accès>) ; chaque assuré n'accède qu'à ses propres données et à celles de "
                    "ses ayants droit."
                ),
                "security": {
                    "cors": False,
                    "description": _("Jeton d'accès Bearer de l'API de l'assuré."),
                },
                "resource": resources,
            }
        ],
    }
    return checked(CapabilityStatement, data)


def operation_outcome(*, code: str, text: str, severity: str = "error") -> Resource:
    return checked(
        OperationOutcome,
        {
            "resourceType": "OperationOutcome",
            "issue": [{"severity": severity, "code": code, "details": {"text": text}}],
        },
    )
