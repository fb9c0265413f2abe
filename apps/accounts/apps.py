"""Django registration of the accounts context: API keys and the ways to authenticate.

Logging out ends the user's private streams (`services.end_streams_of`). Django announces a
logout only through its `user_logged_out` signal, sent by every logout path (the admin's,
the browsable API's, any view calling `logout`), so this is the one place to hear it."""

from typing import Any

from django.apps import AppConfig
from django.contrib.auth.signals import user_logged_out


def _end_streams_on_logout(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    from apps.accounts import services

    if user is not None:
        services.end_streams_of(user_id=user.pk)


class AccountsConfig(AppConfig):
    name = "apps.accounts"
    label = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Teaches the OpenAPI generator the API-key scheme.
        from apps.accounts.api import schema  # noqa: F401

        user_logged_out.connect(_end_streams_on_logout, dispatch_uid="accounts.end_streams")
