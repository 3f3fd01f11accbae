from django.apps import AppConfig


class OpsConfig(AppConfig):
    """The command line: serve, worker, import, exports, demo data. Glue over the domain apps."""

    name = "assure.ops"
    label = "ops"

    def ready(self) -> None:
        from assure.ops import metrics

        metrics.instrument()
