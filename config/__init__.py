"""Project configuration: settings per environment, URL routing, ASGI/WSGI entry points and
the Celery app."""

from config.celery import app as celery_app

__all__ = ["celery_app"]
