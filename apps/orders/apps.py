"""Django registration of the orders context."""

from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "apps.orders"
    label = "orders"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers the schemas of the events this context emits.
        from apps.orders import events  # noqa: F401
        from apps.orders.streams import SOURCE
        from oms.streams.hub import register_source

        register_source(SOURCE)
