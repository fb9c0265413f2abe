"""ASGI entry point of the `web` and `ws` roles (daphne): HTTP goes to Django, WebSocket
connections to the Channels routes of the apps, behind the accounts context's
authentication (`apps.accounts.websocket`: the origin policy, where no `Origin` means no
cookies and a foreign `Origin` 403, then the session, then a `?ticket=`). HTTP bodies
are counted as they arrive (`oms.api.body_limit`), so a chunked one cannot pass the limit.

The garbage collector is tuned for a process that lives long and holds many connections.
Everything imported so far (Django, the apps: ~150,000 objects) is frozen out of its reach
(`gc.freeze`), and a collection waits for 50,000 more container objects than were freed
instead of 700. A ws process queues a message per connection for a few milliseconds: with
the default threshold, those queued messages were collected and promoted over and over, and
a full collection (~70-135 ms, walking every connection's objects) ran about every 0.7 s,
a fifth of the process's CPU and the worst of its delays under `make bench-ws`."""

import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402 - needs Django set up first
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from apps.accounts.websocket import OriginPolicy, StreamTicketAuth  # noqa: E402
from config.routing import websocket_urlpatterns  # noqa: E402
from oms.api.body_limit import AsgiBodyLimit  # noqa: E402

application = ProtocolTypeRouter({
    "http": AsgiBodyLimit(django_asgi_app),
    "websocket": OriginPolicy(AuthMiddlewareStack(StreamTicketAuth(
        URLRouter(websocket_urlpatterns)))),
})

gc.freeze()
gc.set_threshold(50_000, 20, 20)
