"""Django registration of the accounts context: API keys and the ways to authenticate."""

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "apps.accounts"
    label = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Teaches the OpenAPI generator the API-key scheme.
        from apps.accounts.api import schema  # noqa: F401
