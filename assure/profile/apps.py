from django.apps import AppConfig


class ProfileConfig(AppConfig):
    name = "assure.profile"
    label = "profile"
