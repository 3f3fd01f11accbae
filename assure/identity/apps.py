from django.apps import AppConfig


class IdentityConfig(AppConfig):
    name = "assure.identity"
    label = "identity"
