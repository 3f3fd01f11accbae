from functools import partial

from django.urls import path

from assure.identity import access_log, views

app_name = "identity"

urlpatterns = [
    path("connexion/", views.login_view, name="login"),
    path("connexion/oublier-mon-numero/", views.forget_nir, name="forget_nir"),
    path("connexion/code-definitif/", views.new_code_view, name="new_code"),
    path("connexion/code-de-securite/", views.security_code_view, name="security_code"),
    path(
        "connexion/code-de-secours/",
        partial(views.security_code_view, recovery=True),
        name="recovery_code",
    ),
    path("deconnexion/", views.logout_view, name="logout"),
    path("creer-mon-compte/", views.signup_view, name="signup"),
    path(
        "creer-mon-compte/demande-envoyee/",
        partial(views.request_sent_view, kind="signup"),
        name="signup_sent",
    ),
    path("code-oublie/", views.forgot_code_view, name="forgot_code"),
    path(
        "code-oublie/demande-envoyee/",
        partial(views.request_sent_view, kind="forgot"),
        name="forgot_code_sent",
    ),
    path("ai-je-un-compte/", views.account_check_view, name="account_check"),
    path(
        "ai-je-un-compte/demande-envoyee/",
        partial(views.request_sent_view, kind="check"),
        name="account_check_sent",
    ),
    path("mon-compte/securite/", views.security_view, name="security"),
    path(
        "mon-compte/securite/sessions/<int:session_id>/fermer/",
        views.session_end_view,
        name="session_end",
    ),
    path("mon-compte/securite/code-secret/", views.change_code_view, name="change_code"),
    path("mon-compte/securite/application/", views.totp_enrol_view, name="totp_enrol"),
    path(
        "mon-compte/securite/application/desactiver/",
        views.totp_disable_view,
        name="totp_disable",
    ),
    path("mon-compte/securite/cloturer/", views.terminate_view, name="terminate"),
    path("mon-compte/acces/", access_log.access_log_view, name="access_log"),
]
