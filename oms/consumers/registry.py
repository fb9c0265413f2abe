"""The registry of consumers: each installed app's `consumers.py` registers its specs when
imported, and the first look-up imports them all (Django's `autodiscover_modules`, as the
admin finds `admin.py`)."""

from __future__ import annotations

from django.utils.module_loading import autodiscover_modules

from oms.consumers.spec import ConsumerSpec

_specs: dict[str, ConsumerSpec] = {}
_discovered = False


class UnknownConsumer(LookupError):
    def __init__(self, name: str) -> None:
        known = ", ".join(sorted(_specs)) or "none"
        super().__init__(f"no consumer named {name!r} is registered (registered: {known})")


def register(spec: ConsumerSpec) -> ConsumerSpec:
    """Add a consumer; a second one of the same name is refused, since the command and
    every deployment address consumers by name."""
    if spec.name in _specs:
        raise ValueError(f"a consumer named {spec.name!r} is already registered")
    _specs[spec.name] = spec
    return spec


def registry() -> dict[str, ConsumerSpec]:
    """Every registered consumer by name, sorted, once the apps' `consumers.py` are loaded."""
    global _discovered
    if not _discovered:
        autodiscover_modules("consumers")
        _discovered = True
    return dict(sorted(_specs.items()))


def consumer_named(name: str) -> ConsumerSpec:
    spec = registry().get(name)
    if spec is None:
        raise UnknownConsumer(name)
    return spec
