"""A request's objects freed as it ends, not by the garbage collector.

Django and DRF leave each request's objects in reference cycles: the auth middleware's
lazy user and `auser` hold the request that holds them, the messages storage holds the
request that holds it, a DRF view holds its own bound handlers (`self.post = self.create`),
its request's parser context holds that request, and its response's renderer context holds
that response. Refcounting then frees none of the request: the environ, headers, session,
parsers and renderers, about 70 container objects an order, wait for a collection. In a
web worker a collection stops every request thread, and under load they came once a second
and took 30-120 ms: the worst of order entry's latency.

Here the back references are weak, or dropped once the response is closed (after its body
went out), so the request's objects go as soon as the server lets go of them."""

from __future__ import annotations

import weakref
from collections.abc import Callable
from functools import partial
from typing import Any

from django.contrib.auth import middleware as auth_middleware
from django.contrib.messages.storage.session import SessionStorage
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse
from django.utils.functional import SimpleLazyObject


def _request_of(ref: weakref.ref[HttpRequest]) -> HttpRequest:
    request = ref()
    if request is None:
        raise RuntimeError("the request has ended")
    return request


def _user(ref: weakref.ref[HttpRequest]) -> Any:
    return auth_middleware.get_user(_request_of(ref))


async def _auser(ref: weakref.ref[HttpRequest]) -> Any:
    return await auth_middleware.auser(_request_of(ref))


class AuthenticationMiddleware(auth_middleware.AuthenticationMiddleware):
    """Django's (`request.user`, `request.auser`), holding the request weakly."""

    def process_request(self, request: HttpRequest) -> None:
        if not hasattr(request, "session"):
            raise ImproperlyConfigured("the authentication middleware requires the session "
                                       "middleware before it")
        ref = weakref.ref(request)
        request.user = SimpleLazyObject(partial(_user, ref))  # type: ignore[assignment]  # lazy, as Django's
        request.auser = partial(_auser, ref)


class WeakRequestSessionStorage(SessionStorage):
    """The admin's messages in its session (`MESSAGE_STORAGE`), holding the request weakly:
    the storage lives on the request and is used only while the request is."""

    @property
    def request(self) -> HttpRequest:
        return _request_of(self._request)

    @request.setter
    def request(self, request: HttpRequest) -> None:
        self._request = weakref.ref(request)


class ReleaseViewCycles:
    """Once a DRF response is closed, drop the view's and the contexts' back references
    (the view's handlers and state, the parser context's request, the renderer context's
    response): what a client or a test reads of the response stays."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        context = getattr(response, "renderer_context", None)
        if context:
            response._resource_closers.append(  # type: ignore[attr-defined]  # Django's
                partial(_release, context))
        return response


def _release(context: dict[str, Any]) -> None:
    context.pop("response", None)
    view = context.get("view")
    if view is not None:
        vars(view).clear()
    parser_context = getattr(context.get("request"), "parser_context", None)
    if parser_context:
        parser_context.pop("request", None)
