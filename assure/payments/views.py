"""The member's pages about money: Accueil, Mes paiements (and a line's detail, its exports), Mes
indemnités journalières. Each reads through a selector scoped to the signed-in member."""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.utils import timezone

from assure.core.exceptions import NotFound
from assure.core.views import home as public_home
from assure.identity.decorators import member_login_required
from assure.members.models import Member
from assure.payments import charts, exports, selectors
from assure.payments.forms import StatementFilterForm


def _member(request: HttpRequest) -> Member:
    return request.member  # type: ignore[attr-defined, no-any-return]


def home(request: HttpRequest) -> HttpResponse:
    """`/`: the member's Accueil once signed in; the public landing page for anyone else."""
    if getattr(request, "member", None) is None:
        return public_home(request)
    return _member_home(request)


@member_login_required
def _member_home(request: HttpRequest) -> HttpResponse:
    member = _member(request)
    today = timezone.localdate()
    bars = selectors.monthly_reimbursed_for_member(member=member, today=today)
    return render(
        request,
        "payments/home.html",
        {
            "member": member,
            "latest": selectors.statement_latest_paid_for_member(member=member),
            "pending": selectors.statement_pending_for_member(member=member),
            "next_allowance": selectors.next_allowance_for_member(member=member),
            "totals": selectors.deductible_totals_for_member(member=member, year=today.year),
            "chart": charts.monthly_chart(bars),
        },
    )


def _without(query: QueryDict, *names: str) -> str:
    copy = query.copy()
    for name in names:
        copy.pop(name, None)
    return copy.urlencode()


@member_login_required
def statement_list(request: HttpRequest) -> HttpResponse:
    member = _member(request)
    form = StatementFilterForm(request.GET or None, member=member)
    filters = form.filters() if request.GET else selectors.StatementFilters()
    try:
        page = selectors.statement_list_for_member(
            member=member,
            filters=filters,
            cursor=request.GET.get("apres") or None,
            beneficiaries=form.beneficiaries,
        )
    except selectors.InvalidCursor:
        raise Http404 from None
    return render(
        request,
        "payments/list.html",
        {
            "form": form,
            "groups": selectors.statement_groups(member=member, items=page.items),
            "next_cursor": page.next_cursor,
            "query_without_cursor": _without(request.GET, "apres"),
            "first_page": not request.GET.get("apres"),
            "history_start": selectors.history_start(),
            "history_months": settings.PAYMENTS_HISTORY_MONTHS,
        },
    )


@member_login_required
def statement_detail(request: HttpRequest, statement_id: int) -> HttpResponse:
    member = _member(request)
    try:
        line = selectors.statement_get_for_member(member=member, statement_id=statement_id)
    except NotFound:
        # The same page as for any unknown address: nothing tells "not yours" from "missing".
        raise Http404 from None
    return render(request, "payments/detail.html", {"line": line, "member": member})


def _export_filters(request: HttpRequest) -> selectors.StatementFilters:
    member = _member(request)
    form = StatementFilterForm(request.GET or None, member=member)
    return form.filters() if request.GET else selectors.StatementFilters()


@member_login_required
def statement_export_csv(request: HttpRequest) -> HttpResponse:
    member = _member(request)
    filters = _export_filters(request)
    lines = selectors.statement_export_for_member(member=member, filters=filters)
    response = HttpResponse(
        exports.statements_csv(member=member, lines=lines), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = 'attachment; filename="mes-paiements.csv"'
    return response


@member_login_required
def statement_export_pdf(request: HttpRequest) -> HttpResponse:
    member = _member(request)
    filters = _export_filters(request)
    lines = selectors.statement_export_for_member(member=member, filters=filters)
    pdf = exports.statements_pdf(
        member=member, lines=lines, filters=filters, fund_name=settings.ASSURE_FUND_NAME
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = 'attachment; filename="mes-paiements.pdf"'
    return response


@member_login_required
def allowance_list(request: HttpRequest) -> HttpResponse:
    member = _member(request)
    return render(
        request,
        "payments/allowances.html",
        {"leaves": selectors.sick_leave_list_for_member(member=member)},
    )
