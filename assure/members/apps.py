from django.apps import AppConfig


class MembersConfig(AppConfig):
    name = "assure.members"
    label = "members"
