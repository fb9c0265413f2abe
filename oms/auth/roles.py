"""The roles of the OMS. A `trader` sees and acts on its own orders; `ops` sees everything
and may cancel any order, fund accounts and override risk. Roles are Django groups."""

from __future__ import annotations

from enum import StrEnum

from django.contrib.auth.models import AbstractUser, AnonymousUser, Group


class Role(StrEnum):
    TRADER = "trader"
    OPS = "ops"


def assign_role(user: AbstractUser, role: Role) -> None:
    """Make `role` the user's only OMS role."""
    groups = user.groups
    groups.remove(*Group.objects.filter(name__in=[r.value for r in Role]).exclude(name=role))
    group, _ = Group.objects.get_or_create(name=role.value)
    groups.add(group)


def is_ops(user: AbstractUser | AnonymousUser) -> bool:
    if not user.is_authenticated:
        return False
    if getattr(user, "is_superuser", False):
        return True
    return bool(user.groups.filter(name=Role.OPS.value).exists())
