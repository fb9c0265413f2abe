"""ASGI entry point of the `web` and `ws` roles (daphne): HTTP goes to Django, WebSocket
connections to the Channels routes of the apps, behind the accounts context's
authentication (`apps.accounts.websocket`: the origin policy, where no `Origin` means no
cookies and a foreign `Origin` 403, then the session, then a `?ticket=`). HTTP bodies
are counted as they arrive (`oms.api.body_limit`), so a chunked one cannot pass the limit.

The garbage collector is tuned for a process that lives long and holds many connections
(`oms.gc_tuning`): a ws process queues a message per connection for a few milliseconds,
and with the default threshold full collections of every connection's objects were a fifth
of its CPU and the worst of its delays under `make bench-ws`."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402 - needs Django set up first
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from apps.accounts.websocket import OriginPolicy, StreamTicketAuth  # noqa: E402
from config.routing import websocket_urlpatterns  # noqa: E402
from oms.api.body_limit import AsgiBodyLimit  # noqa: E402
from oms.gc_tuning import settle_heap  # noqa: E402

application = ProtocolTypeRouter({
    "http": AsgiBodyLimit(django_asgi_app),
    "websocket": OriginPolicy(AuthMiddlewareStack(StreamTicketAuth(
        URLRouter(websocket_urlpatterns)))),
})

settle_heap()
