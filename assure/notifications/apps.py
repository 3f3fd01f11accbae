from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "assure.notifications"
    label = "notifications"
