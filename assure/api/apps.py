from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "assure.api"
    label = "api"
