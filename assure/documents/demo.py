"""Demo step: the signing pair, and a certificate and a card on its way for the demo member."""

from __future__ import annotations

from django.conf import settings

from assure.cards.models import CardOrder
from assure.cards.services import card_order_create, card_order_status_change
from assure.core.services import Actor
from assure.documents.models import Certificate
from assure.documents.services import CertificateRequest, certificate_issue
from assure.documents.signing import signing_pair
from assure.identity.models import Account
from assure.members.models import Member


def _demo_member() -> Member | None:
    account = Account.objects.select_related("member").order_by("id").first()
    return account.member if account is not None else None


def demo_documents(load: bool) -> list[str]:
    """Makes sure certificates can be signed, then gives the demo member something to see."""
    _key, cert = signing_pair()
    configured = bool(settings.DOCUMENTS_SIGNING_CERT)
    lines = [
        f"Certificates: signed with {'the configured' if configured else 'a self-signed demo'} "
        f"certificate ({cert})."
    ]
    member = _demo_member()
    if not load or member is None:
        return lines
    actor = Actor.system("demo-data")
    if not Certificate.objects.filter(member=member).exists():
        certificate_issue(
            actor=actor, member=member, request=CertificateRequest(kind="entitlement")
        )
    if not CardOrder.objects.filter(member=member).exists():
        order = card_order_create(actor=actor, member=member, person="self")
        for status in (CardOrder.Status.IN_PRODUCTION, CardOrder.Status.SENT):
            card_order_status_change(actor=actor, order_id=order.pk, status=status)
    lines.append(
        "Certificates: an entitlement certificate and a card on its way for the demo member."
    )
    return lines
