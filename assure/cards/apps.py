from django.apps import AppConfig


class CardsConfig(AppConfig):
    name = "assure.cards"
    label = "cards"
