"""Roles as Django groups: what each one is to the permission helpers, one role per user,
and a superuser counts as admin."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser

from oms.auth.roles import (
    Role,
    assign_role,
    has_role,
    is_auditor,
    is_ops,
    is_read_only,
    roles_of,
    sees_everything,
)

pytestmark = pytest.mark.django_db

# role: is_ops, is_auditor, is_read_only, sees_everything
EXPECTED = {
    Role.TRADER: (False, False, False, False),
    Role.OPS: (True, False, False, True),
    Role.ADMIN: (True, False, False, True),
    Role.AUDITOR: (False, True, True, True),
}


@pytest.mark.parametrize("role", list(Role))
def test_what_each_role_may(role: Role) -> None:
    user = get_user_model().objects.create(username=f"u-{role}")
    assign_role(user, role)
    user = get_user_model().objects.get(pk=user.pk)
    assert roles_of(user) == {role}
    assert has_role(user, role)
    assert (is_ops(user), is_auditor(user), is_read_only(user),
            sees_everything(user)) == EXPECTED[role]


def test_assigning_a_role_replaces_the_previous_one() -> None:
    user = get_user_model().objects.create(username="changing")
    assign_role(user, Role.AUDITOR)
    assert is_auditor(user)
    assign_role(user, Role.OPS)  # the remembered roles are forgotten
    assert roles_of(user) == {Role.OPS}
    assert not is_read_only(user)


def test_a_superuser_is_admin_and_an_anonymous_user_nothing() -> None:
    root = get_user_model().objects.create_superuser("root", password="x" * 20)
    assert roles_of(root) == {Role.ADMIN}
    assert is_ops(root)
    assert roles_of(AnonymousUser()) == set()
    assert not has_role(AnonymousUser(), *Role)
