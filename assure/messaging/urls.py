from django.urls import path

from assure.messaging import views

app_name = "messaging"

urlpatterns = [
    path("ma-messagerie/", views.thread_list, name="list"),
    path("ma-messagerie/nouveau/", views.thread_new, name="new"),
    path("ma-messagerie/<int:thread_id>/", views.thread_detail, name="thread"),
    path("ma-messagerie/<int:thread_id>/cloturer/", views.thread_close, name="close"),
    path(
        "ma-messagerie/pieces-jointes/<int:attachment_id>/",
        views.attachment_download,
        name="attachment",
    ),
]
