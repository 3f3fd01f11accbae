"""/fhir/r4/: the FHIR R4 read endpoints (docs/fhir.md). Anything else under it is an
OperationOutcome too, never the site's HTML page."""

from django.urls import path, re_path

from assure.fhir import views

app_name = "fhir"

urlpatterns = [
    path("metadata", views.metadata, name="metadata"),
    path("Patient/<str:patient_id>", views.patient_read, name="patient"),
    path("Coverage", views.coverage_search, name="coverage-search"),
    path("Coverage/<str:coverage_id>", views.coverage_read, name="coverage"),
    path("ExplanationOfBenefit", views.explanation_of_benefit_search, name="eob-search"),
    path("ExplanationOfBenefit/<str:eob_id>", views.explanation_of_benefit_read, name="eob"),
    re_path(r"^(?P<rest>.*)$", views.unknown, name="unknown"),
]
