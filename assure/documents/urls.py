from django.urls import path

from assure.documents import views

app_name = "documents"

urlpatterns = [
    path("mes-attestations/", views.certificate_list, name="list"),
    path("mes-attestations/nouvelle/<slug:kind>/", views.certificate_new, name="new"),
    path(
        "mes-attestations/<int:certificate_id>/telecharger/",
        views.certificate_download,
        name="download",
    ),
    path("verifier/", views.verify_form, name="verify_form"),
    path("verifier/<str:reference>/", views.verify, name="verify"),
]
