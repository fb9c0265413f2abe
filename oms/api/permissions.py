"""Permissions by OMS role (`oms.auth.roles`) and by the scopes of the credential a request
carries, decided here once so that views only name a class.

- `RoleBasedAccess`, the default of every endpoint that names none: any authenticated user,
  an auditor only for reads (auditors change nothing).
- `IsOps`, for operator endpoints: operators (`ops`, `admin`) for everything, auditors for
  reads (they audit what operators do), nobody else.

Both also hold an API-key request to its key's scopes: `read` allows safe methods only;
`trade` also allows writes on the routes named in `settings.API_KEY_TRADE_ROUTES` (order
entry), never elsewhere, so a leaked trading key can neither move money nor mint keys.
Tokens, bearer JWTs and sessions carry the user's full rights. Each refusal names its
reason in the error body (`code`)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from django.conf import settings
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from oms.auth.roles import is_auditor, is_ops, is_read_only


class Scope(StrEnum):
    READ = "read"
    TRADE = "trade"


def credential_allows(request: Request) -> bool:
    """Whether the request's credential is scoped for this method on this route. A limited
    credential (an API key) leaves a `scopes` frozenset of `Scope` in `request.auth`; the
    others carry the user's full rights. Looked up as an attribute: an `isinstance` check
    against a runtime-checkable protocol cost 6 us on every request."""
    scopes: frozenset[Scope] | None = getattr(request.auth, "scopes", None)
    if scopes is None:
        return True
    if request.method in SAFE_METHODS:
        return bool(scopes & {Scope.READ, Scope.TRADE})
    route = request.resolver_match.url_name if request.resolver_match else None
    return Scope.TRADE in scopes and route in settings.API_KEY_TRADE_ROUTES


class RoleBasedAccess(BasePermission):
    """Authenticated; auditors read only; API keys within their scopes."""

    message = "not allowed"
    code: str | None = None

    def refuse(self, message: str, code: str | None = None) -> bool:
        # DRF instantiates permissions per request, so the reason may live on the instance.
        self.message, self.code = message, code
        return False

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False  # DRF answers 401
        if not credential_allows(request):
            return self.refuse("this API key's scopes do not allow this request",
                               "scope_insufficient")
        if request.method not in SAFE_METHODS and is_read_only(user):
            return self.refuse("auditors may read but not change anything", "read_only_role")
        return True


class IsOps(RoleBasedAccess):
    """Operators (`ops`, `admin`); auditors may read."""

    message = "operators only"

    def has_permission(self, request: Request, view: Any) -> bool:
        if not super().has_permission(request, view):
            return False
        user = request.user
        if is_ops(user) or (request.method in SAFE_METHODS and is_auditor(user)):
            return True
        return self.refuse("operators only")
