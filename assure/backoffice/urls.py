from django.urls import include, path

app_name = "backoffice"

urlpatterns: list = [
    path("messagerie/", include("assure.messaging.staff_urls")),
]
