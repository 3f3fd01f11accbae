"""The demo outbox viewer: what the portal would have e-mailed or posted, at /dev/outbox/.

Only in demo mode (settings.DEMO): anywhere else the pages answer 404 as if they did not exist.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

from django.conf import settings
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from assure.core.exceptions import NotFound
from assure.notifications import selectors
from assure.notifications.files import outbox_dir
from assure.notifications.models import OutboxMessage


def demo_only(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not settings.DEMO:
            raise Http404()
        try:
            return view(request, *args, **kwargs)
        except NotFound as exc:
            raise Http404() from exc

    return wrapper


@require_GET
@never_cache
@demo_only
def outbox_index(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "notifications/outbox_index.html",
        {
            "emails": selectors.outbox_list_recent(channel=OutboxMessage.Channel.EMAIL),
            "letters": selectors.outbox_list_recent(channel=OutboxMessage.Channel.LETTER),
            "backlog": selectors.outbox_backlog(),
        },
    )


@require_GET
@never_cache
@demo_only
def outbox_email(request: HttpRequest, message_id: int) -> HttpResponse:
    message = selectors.outbox_get(message_id=message_id, channel=OutboxMessage.Channel.EMAIL)
    paragraphs = [p.strip("\n") for p in message.body.split("\n\n") if p.strip()]
    return render(
        request,
        "notifications/outbox_email.html",
        {"message": message, "paragraphs": paragraphs},
    )


@require_GET
@never_cache
@demo_only
def outbox_letter_pdf(request: HttpRequest, message_id: int) -> HttpResponseBase:
    message = selectors.outbox_get(message_id=message_id, channel=OutboxMessage.Channel.LETTER)
    if not message.artefact:
        raise Http404()
    root = outbox_dir().resolve()
    path = (root / message.artefact).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        raise Http404()
    return FileResponse(
        Path(path).open("rb"),
        as_attachment=True,
        filename=f"courrier-{message.reference}.pdf",
        content_type="application/pdf",
    )
