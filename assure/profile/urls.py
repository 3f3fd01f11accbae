from django.urls import path

from assure.profile import views

app_name = "profile"

urlpatterns = [
    path("mon-profil/", views.overview, name="overview"),
    path("mon-profil/adresse/", views.address, name="address"),
    path("mon-profil/telephone/", views.phone, name="phone"),
    path("mon-profil/courriel/", views.email, name="email"),
    path("mon-profil/courriel/envoye/", views.email_sent, name="email_sent"),
    path("mon-profil/courriel/confirmer/<str:token>/", views.email_confirm, name="email_confirm"),
    path("mon-profil/compte-bancaire/", views.bank_account, name="bank_account"),
    path(
        "mon-profil/compte-bancaire/confirmation/",
        views.bank_account_confirm,
        name="bank_account_confirm",
    ),
    path("mon-profil/historique/", views.history, name="history"),
]
