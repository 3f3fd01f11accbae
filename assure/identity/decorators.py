"""`member_login_required`: the guard other apps put on member pages."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.cache import never_cache


def member_login_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Sends anonymous visitors to the login page, and back here afterwards; never cached."""

    @wraps(view)
    @never_cache
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if getattr(request, "member_account", None) is None:
            login_url = reverse("identity:login")
            return redirect(f"{login_url}?{urlencode({'suite': request.get_full_path()})}")
        return view(request, *args, **kwargs)

    return wrapper
