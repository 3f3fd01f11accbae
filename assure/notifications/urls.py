from django.urls import path

from assure.notifications import views

app_name = "notifications"

urlpatterns = [
    path("dev/outbox/", views.outbox_index, name="outbox_index"),
    path("dev/outbox/email/<int:message_id>/", views.outbox_email, name="outbox_email"),
    path(
        "dev/outbox/letter/<int:message_id>.pdf",
        views.outbox_letter_pdf,
        name="outbox_letter_pdf",
    ),
]
