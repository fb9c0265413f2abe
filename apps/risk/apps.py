"""Django registration of the risk context."""

from django.apps import AppConfig


class RiskConfig(AppConfig):
    name = "apps.risk"
    label = "risk"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers the schemas of the events this context emits.
        from apps.risk import events  # noqa: F401
