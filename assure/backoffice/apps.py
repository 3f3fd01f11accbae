from django.apps import AppConfig


class BackofficeConfig(AppConfig):
    name = "assure.backoffice"
    label = "backoffice"
