from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "assure.payments"
    label = "payments"
