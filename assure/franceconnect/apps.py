from django.apps import AppConfig


class FranceConnectConfig(AppConfig):
    name = "assure.franceconnect"
    label = "franceconnect"
    verbose_name = "FranceConnect"
