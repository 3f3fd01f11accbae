from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "assure.messaging"
    label = "messaging"
