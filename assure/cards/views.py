"""Carte européenne: the member's card orders, a new order, one order's progress."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from assure.cards import selectors, services
from assure.cards.forms import CardOrderForm
from assure.core.exceptions import DomainError, NotFound
from assure.identity.decorators import member_login_required
from assure.identity.services import member_actor
from assure.members.models import Member

# The steps shown to the member, in order; a returned card replaces the last two.
STEPS = ["ordered", "in_production", "sent", "delivered"]


def _member(request: HttpRequest) -> Member:
    return request.member  # type: ignore[attr-defined, no-any-return]


@member_login_required
def order_list(request: HttpRequest) -> HttpResponse:
    orders = selectors.card_order_list_for_member(member=_member(request))
    return render(request, "cards/list.html", {"orders": orders})


@member_login_required
def order_new(request: HttpRequest) -> HttpResponse:
    member = _member(request)
    form = CardOrderForm(
        request.POST or None, beneficiaries=selectors.people_for_member(member=member)
    )
    if request.method == "POST" and form.is_valid():
        try:
            order = services.card_order_create(
                actor=member_actor(member),
                member=member,
                person=form.cleaned_data["person"],
                departure_date=form.cleaned_data["departure_date"],
            )
        except DomainError as error:
            form.add_error(None, str(error.title))
        else:
            return redirect("cards:detail", order_id=order.pk)
    return render(request, "cards/new.html", {"form": form})


@member_login_required
def order_detail(request: HttpRequest, order_id: int) -> HttpResponse:
    try:
        order = selectors.card_order_get_for_member(member=_member(request), order_id=order_id)
    except NotFound:
        raise Http404 from None
    reached = STEPS.index(order.status) if order.status in STEPS else -1
    steps = [(step, index <= reached) for index, step in enumerate(STEPS)]
    return render(request, "cards/detail.html", {"order": order, "steps": steps})
