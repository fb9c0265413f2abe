"""Safe limits on a fresh install: a global price band (10 % of the reference price), a
maximum order notional and velocity limits, so a fat finger or a runaway program is
refused before an operator has set anything. Written only where no global limits exist
yet: an operator's settings are never overwritten. Operators change them in the admin
(Risk limits) or with `PUT /api/risk/limits`; the values are literal here so the
migration stays what it was when applied."""

from decimal import Decimal

from django.db import migrations

DEFAULTS = {
    "price_band": Decimal("0.1"),
    "max_order_notional": Decimal("1000000"),
    "max_orders_per_second": 50,
    "max_orders_per_minute": 1200,
}


def install_defaults(apps, schema_editor):  # type: ignore[no-untyped-def]
    RiskLimit = apps.get_model("risk", "RiskLimit")
    if not RiskLimit.objects.filter(user__isnull=True, symbol="").exists():
        RiskLimit.objects.create(user=None, symbol="", **DEFAULTS)


class Migration(migrations.Migration):

    dependencies = [
        ("risk", "0003_margin"),
    ]

    operations = [
        migrations.RunPython(install_defaults, migrations.RunPython.noop),
    ]
