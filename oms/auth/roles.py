"""The roles of the OMS, held as Django groups so operators manage them in the admin.

- `trader` sees and acts on its own orders, balances, positions and API keys.
- `ops` sees everything and may cancel any order, fund accounts and override risk.
- `admin` may do all `ops` may (and, in the Django admin, manage users and keys); a
  superuser counts as `admin`.
- `auditor` may read everything and change nothing: the separation of duties an audit
  needs.

A user's roles are read once per user object and remembered on it: the order entry hot
path reuses user objects through the token cache (D6), so a permission check must not cost a
query each time. A role change reaches a cached user within the token cache's lifetime."""

from __future__ import annotations

from enum import StrEnum

from django.contrib.auth.models import AbstractUser, AnonymousUser, Group

_CACHE_ATTRIBUTE = "_oms_roles"


class Role(StrEnum):
    TRADER = "trader"
    OPS = "ops"
    ADMIN = "admin"
    AUDITOR = "auditor"


User = AbstractUser | AnonymousUser

OPERATORS = frozenset({Role.OPS, Role.ADMIN})
READERS_OF_EVERYTHING = frozenset({Role.OPS, Role.ADMIN, Role.AUDITOR})


def assign_role(user: AbstractUser, role: Role) -> None:
    """Make `role` the user's only OMS role."""
    groups = user.groups
    groups.remove(*Group.objects.filter(name__in=[r.value for r in Role]).exclude(name=role))
    group, _ = Group.objects.get_or_create(name=role.value)
    groups.add(group)
    user.__dict__.pop(_CACHE_ATTRIBUTE, None)


def roles_of(user: User) -> frozenset[Role]:
    """The OMS roles of `user` (none for an anonymous one); a superuser is also `admin`."""
    if not user.is_authenticated:
        return frozenset()
    cached: frozenset[Role] | None = user.__dict__.get(_CACHE_ATTRIBUTE)
    if cached is None:
        names = user.groups.filter(name__in=[r.value for r in Role]).values_list("name",
                                                                                flat=True)
        cached = frozenset(Role(name) for name in names)
        if getattr(user, "is_superuser", False):
            cached |= {Role.ADMIN}
        user.__dict__[_CACHE_ATTRIBUTE] = cached
    return cached


def has_role(user: User, *roles: Role) -> bool:
    """Whether `user` holds any of `roles`."""
    return not roles_of(user).isdisjoint(roles)


def is_ops(user: User) -> bool:
    """May act as an operator: `ops` or `admin` (a superuser is `admin`)."""
    return has_role(user, *OPERATORS)


def is_auditor(user: User) -> bool:
    return has_role(user, Role.AUDITOR)


def is_read_only(user: User) -> bool:
    """An auditor who is not also an operator: reads everything, writes nothing."""
    return is_auditor(user) and not is_ops(user)


def sees_everything(user: User) -> bool:
    """May read every account's orders, positions and limits: operators and auditors."""
    return has_role(user, *READERS_OF_EVERYTHING)
