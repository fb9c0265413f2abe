"""Django registration of the marketdata context."""

from django.apps import AppConfig


class MarketDataConfig(AppConfig):
    name = "apps.marketdata"
    label = "marketdata"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers the schemas of the events this context emits.
        from apps.marketdata import events  # noqa: F401
        from apps.marketdata.streams import SOURCE
        from oms.streams.hub import register_source

        register_source(SOURCE)
