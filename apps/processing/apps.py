"""Django registration of the processing context."""

from django.apps import AppConfig


class ProcessingConfig(AppConfig):
    name = "apps.processing"
    label = "processing"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers the schemas of the events this context emits.
        from apps.processing import events  # noqa: F401
        from apps.processing.breaks import register_metrics
        from apps.processing.services import order_context, register_executors
        from apps.risk.services import use_order_context

        # Approved four-eyes ledger adjustments are posted by this context.
        register_executors()
        # Risk's what-if (`POST /api/risk/validate`) reads funds and working orders here.
        use_order_context(order_context)
        # Open reconciliation breaks on every role's /metrics, read at each scrape.
        register_metrics()
