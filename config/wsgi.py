"""WSGI entry point of the `web` role (gunicorn with gthread workers, config/gunicorn.py):
the REST API, the browsable API, the admin and the UI. Django's sync views run on the
worker's own threads, with no event loop and no thread hop per request, which is why the
role is served this way (README, "Numbers"). Chunked bodies are counted as they arrive
(`oms.api.body_limit`), so one cannot pass the limit. WebSockets are the `ws` role's
(config/asgi.py under daphne)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from oms.api.body_limit import WsgiBodyLimit

application = WsgiBodyLimit(get_wsgi_application())
