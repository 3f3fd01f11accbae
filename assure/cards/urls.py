from django.urls import path

from assure.cards import views

app_name = "cards"

urlpatterns = [
    path("carte-europeenne/", views.order_list, name="list"),
    path("carte-europeenne/commander/", views.order_new, name="new"),
    path("carte-europeenne/<int:order_id>/", views.order_detail, name="detail"),
]
