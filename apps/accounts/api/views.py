"""The accounts API: bearer JWTs (obtain, refresh with rotation, revoke), the owner's API
keys (list, create, revoke) and tickets for the private WebSocket. Views parse, call
`apps.accounts.services` or `selectors`, and render."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import redis
from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.views import (
    TokenBlacklistView,
    TokenObtainPairView,
    TokenRefreshView,
)

from apps.accounts import selectors, services
from apps.accounts.api.serializers import (
    ApiKeySerializer,
    CreateApiKeySerializer,
    IssuedApiKeySerializer,
    StreamTicketSerializer,
)
from oms.api.errors import ServiceUnavailable
from oms.api.idempotency import idempotent
from oms.api.permissions import Scope
from oms.api.throttling import (
    LOGIN_SCOPE,
    ApiUserThrottle,
    ClientIpRateThrottle,
    UserRateThrottle,
)


class LoginThrottle(ClientIpRateThrottle):
    """Password guessing: attempts per client address, shared with the login forms
    (`OMS_RATE_LIMITS["auth-ip"]`)."""

    scope = LOGIN_SCOPE


class ApiKeyCreationThrottle(UserRateThrottle):
    """Minting credentials: keys created per user (`OMS_RATE_LIMITS["api-keys-user"]`)."""

    scope = "api-keys-user"


@extend_schema(summary="Obtain an access JWT (5 min) and a refresh JWT (1 day)")
class ObtainTokenView(TokenObtainPairView):
    throttle_classes = [LoginThrottle]


@extend_schema(summary="A new access JWT and a new refresh JWT; the old refresh is revoked")
class RefreshTokenView(TokenRefreshView):
    pass


@extend_schema(summary="Revoke a refresh JWT (its access JWTs expire within minutes); the "
                       "user's private streams close")
class RevokeTokenView(TokenBlacklistView):
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        response = super().post(request, *args, **kwargs)  # refuses an invalid token
        # Valid, as the blacklisting just checked: only its claims are read here.
        revoked = RefreshToken(request.data["refresh"], verify=False)
        services.end_streams_of(user_id=int(revoked[jwt_settings.USER_ID_CLAIM]))
        return response


class StreamTicketView(APIView):
    """`POST /api/ws-ticket`: a single-use ticket for `/ws/orders?ticket=`, valid 30 s. Any
    authenticated user, with any API-key scope (it opens a stream of their own events and
    changes nothing)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={201: StreamTicketSerializer},
                   summary="A ticket that opens your private stream once, within 30 s")
    def post(self, request: Request) -> Response:
        try:
            issued = services.issue_stream_ticket(user_id=request.user.pk)
        except redis.RedisError as exc:
            raise ServiceUnavailable("cannot issue a stream ticket now; retry later",
                                     code="redis_unavailable", retry_after=1) from exc
        return Response(StreamTicketSerializer(issued).data, status=status.HTTP_201_CREATED)


class ApiKeyViewSet(viewsets.ViewSet):
    """Your API keys. The secret is in the answer to the create, once, and never again."""

    lookup_value_regex = "[^/]+"

    def get_throttles(self) -> list[BaseThrottle]:
        if self.action == "create":
            return [ApiUserThrottle(), ApiKeyCreationThrottle()]
        return [ApiUserThrottle()]

    @extend_schema(responses=ApiKeySerializer(many=True))
    def list(self, request: Request) -> Response:
        keys = selectors.api_keys_of(user_id=request.user.pk)
        return Response(ApiKeySerializer(keys, many=True).data)

    @extend_schema(request=CreateApiKeySerializer, responses={201: IssuedApiKeySerializer})
    @idempotent
    def create(self, request: Request) -> Response:
        serializer = CreateApiKeySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        issued = services.create_api_key(user_id=request.user.pk, name=data["name"],
                                         scopes=[Scope(scope) for scope in data["scopes"]])
        return Response(IssuedApiKeySerializer({**asdict(issued.key),
                                                "secret": issued.secret}).data,
                        status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: ApiKeySerializer})
    @action(detail=True, methods=["post"])
    @idempotent
    def revoke(self, request: Request, pk: str) -> Response:
        key = services.revoke_api_key(key_id=pk, user_id=request.user.pk)
        if key is None:
            raise NotFound("no such API key")
        return Response(ApiKeySerializer(key).data)
