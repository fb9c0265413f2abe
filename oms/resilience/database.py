"""The trial a consumer makes, when the `postgres` breaker allows one, to learn whether
PostgreSQL answers again before it resumes its work."""

from __future__ import annotations

from django.db import DatabaseError, connection

from oms.observability.health import check_postgres
from oms.resilience.breakers import POSTGRES, BreakerOpen, breaker


def database_answers() -> bool:
    """`SELECT 1` through the `postgres` breaker: True closes it. False while it is open,
    or when the database still does not answer (the breaker then stays open longer).
    A connection the outage broke is dropped first, since a long-running role has no
    request boundary at which Django would do it."""
    connection.close_if_unusable_or_obsolete()
    try:
        breaker(POSTGRES).call(check_postgres, failures=(DatabaseError,))
    except (BreakerOpen, DatabaseError):
        return False
    return True
