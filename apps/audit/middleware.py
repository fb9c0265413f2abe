"""Records every unsafe request (anything but GET, HEAD, OPTIONS) made by an operator
(`ops`, `admin`, a superuser or staff) in the audit log, after the response, with its
status: API writes (limits, kill switches, deposits, cancelling others' orders...) and
admin changes and actions alike, refused ones included. Requests on
`settings.AUDIT_ALWAYS_ROUTES` (minting and revoking API keys) are recorded whoever makes
them.

The user is judged after the view has run: DRF authenticates tokens, JWTs and API keys in
the view and leaves the user on the request then. A JSON body is read before the view (DRF
then parses the copy Django keeps), because a parser consumes the stream; it is parsed
after the view, and only for a request that is audited (a trader's order is not: parsing
each order twice was CPU for nothing)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from rest_framework.permissions import SAFE_METHODS

from apps.audit import services
from oms.api.client_address import client_address
from oms.auth.roles import is_ops

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def is_audited(request: HttpRequest) -> bool:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return False
    match = request.resolver_match
    route = match.view_name if match else None
    return is_ops(user) or bool(user.is_staff) or route in settings.AUDIT_ALWAYS_ROUTES


def _is_json(request: HttpRequest) -> bool:
    return (request.content_type or "").endswith("json")


def _json_body(request: HttpRequest) -> Any:
    if not _is_json(request) or not request.body:
        return None
    try:
        return json.loads(request.body)
    except ValueError:
        return {"unparsed": request.body[:1000].decode(errors="replace")}


def _form_body(request: HttpRequest) -> dict[str, Any] | None:
    if request.content_type not in FORM_TYPES:
        return None
    return {name: values[0] if len(values) == 1 else values
            for name, values in request.POST.lists()}


def describe(request: HttpRequest, payload: Any) -> tuple[str, str]:
    """The action (method and route name, plus the admin action's name) and its target (the
    ids in the URL, plus the objects an admin action was applied to)."""
    match = request.resolver_match
    route = match.view_name if match else request.path
    action = f"{request.method} {route}"
    targets = [f"{name}={value}" for name, value in (match.kwargs.items() if match else ())]
    if isinstance(payload, dict) and payload.get("action"):
        action += f" action={payload['action']}"
        selected = payload.get("_selected_action", [])
        targets.append("selected=" + ",".join([selected] if isinstance(selected, str)
                                               else selected))
    return action, " ".join(targets)


class PrivilegedRequestAuditMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if request.method in SAFE_METHODS:
            return self.get_response(request)
        if _is_json(request):
            request.body  # noqa: B018 - kept by Django for the audit, DRF parses the copy
        response = self.get_response(request)
        if is_audited(request):
            json_payload = _json_body(request)
            payload = services.redact(json_payload if json_payload is not None
                                      else _form_body(request))
            action, target = describe(request, payload)
            services.record(
                kind=services.Kind.REQUEST, actor=request.user, action=action, target=target,
                method=request.method or "", path=request.path,
                status_code=response.status_code, payload=payload,
                client_ip=client_address(request.META) or None)
        return response
