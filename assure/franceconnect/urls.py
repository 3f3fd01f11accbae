from django.urls import path

from assure.franceconnect import views

app_name = "franceconnect"

urlpatterns = [
    path("franceconnect/connexion/", views.login_start, name="login"),
    path("franceconnect/retour/", views.callback, name="callback"),
    path("franceconnect/rattacher/", views.link_proof, name="link_proof"),
    path("franceconnect/code-secret/", views.secret_code_offer, name="secret_code"),
    path("franceconnect/deconnexion/", views.logout, name="logout"),
    path("franceconnect/deconnexion/retour/", views.logout_return, name="logout_return"),
    path("mon-compte/securite/franceconnect/", views.links, name="links"),
    path(
        "mon-compte/securite/franceconnect/<int:link_id>/supprimer/",
        views.link_remove,
        name="link_remove",
    ),
]
