from django.urls import include, path

from assure.backoffice import views

app_name = "backoffice"

urlpatterns: list = [
    path("messagerie/", include("assure.messaging.staff_urls")),
    path("", views.home, name="home"),
    path("connexion/", views.signin, name="signin"),
    path("connexion/code/", views.signin_code, name="signin_code"),
    path("deconnexion/", views.signout, name="signout"),
    path("inscription/<str:token>/", views.enrol, name="enrol"),
    path("membres/", views.member_search, name="search"),
    path("membres/<int:member_id>/", views.member_view, name="member"),
    path("membres/<int:member_id>/verification/", views.identity_check, name="check"),
    path("membres/<int:member_id>/code/", views.send_code, name="send_code"),
    path("membres/<int:member_id>/debloquer/", views.unlock, name="unlock"),
    path("membres/<int:member_id>/cloturer/", views.terminate, name="terminate"),
    path("cartes/", views.cards, name="cards"),
    path("tableau-de-bord/", views.dashboard, name="dashboard"),
    path("journal/", views.audit, name="audit"),
    path("personnel/", views.staff, name="staff"),
    path("personnel/<int:user_id>/desactiver/", views.staff_deactivate, name="staff_deactivate"),
    path("personnel/<int:user_id>/lien/", views.staff_new_link, name="staff_new_link"),
]
