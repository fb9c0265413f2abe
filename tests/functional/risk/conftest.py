"""The traders, operator and instruments of the orders' functional tests."""

from tests.functional.orders.conftest import (  # noqa: F401 - fixtures
    alice,
    bob,
    clean_caches,
    instruments,
    ops,
)
