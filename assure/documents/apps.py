from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "assure.documents"
    label = "documents"
