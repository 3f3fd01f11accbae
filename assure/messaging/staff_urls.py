"""Advisor pages, mounted at /backoffice/messagerie/ by the back office's URLs."""

from django.urls import path

from assure.messaging import staff_views

app_name = "messaging"

urlpatterns = [
    path("", staff_views.inbox, name="inbox"),
    path("<int:thread_id>/", staff_views.thread_view, name="thread"),
    path(
        "pieces-jointes/<int:attachment_id>/",
        staff_views.attachment_download,
        name="attachment",
    ),
    path("chiffres/", staff_views.figures, name="figures"),
    path("modeles/", staff_views.template_list, name="templates"),
    path("modeles/nouveau/", staff_views.template_edit, name="template_new"),
    path("modeles/<int:template_id>/", staff_views.template_edit, name="template_edit"),
]
