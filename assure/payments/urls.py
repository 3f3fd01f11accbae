from django.urls import path

from assure.payments import views

app_name = "payments"

urlpatterns = [
    path("", views.home, name="home"),
    path("mes-paiements/", views.statement_list, name="list"),
    path("mes-paiements/<int:statement_id>/", views.statement_detail, name="detail"),
    path("mes-paiements/export.csv", views.statement_export_csv, name="export_csv"),
    path("mes-paiements/export.pdf", views.statement_export_pdf, name="export_pdf"),
    path("mes-indemnites/", views.allowance_list, name="allowances"),
]
