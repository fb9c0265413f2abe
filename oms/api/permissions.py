"""Permissions by OMS role."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from oms.auth.roles import is_ops


class IsOps(BasePermission):
    message = "operators only"

    def has_permission(self, request: Request, view: Any) -> bool:
        return is_ops(request.user)
