from django.apps import AppConfig


class FhirConfig(AppConfig):
    name = "assure.fhir"
    label = "fhir"
