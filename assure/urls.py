from django.conf import settings
from django.urls import include, path

from assure.api.api import api
from assure.core import views as core_views

urlpatterns = [
    path("healthz", core_views.healthz, name="healthz"),
    path("readyz", core_views.readyz, name="readyz"),
    path("", include("assure.ops.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", api.urls),
    path("fhir/r4/", include("assure.fhir.urls")),
    path("", include("assure.notifications.urls")),
    path("", include("assure.identity.urls")),
    path("", include("assure.franceconnect.urls")),
    path("", include("assure.payments.urls")),
    path("", include("assure.cards.urls")),
    path("", include("assure.messaging.urls")),
    path("", include("assure.profile.urls")),
    path("", include("assure.documents.urls")),
    path("backoffice/", include("assure.backoffice.urls")),
    path("", include("assure.core.urls")),
]

handler404 = "assure.core.views.not_found"
handler500 = "assure.core.views.server_error"

if settings.DEBUG:  # pragma: no cover - development only
    pass
