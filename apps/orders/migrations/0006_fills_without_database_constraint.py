"""The fills' order without a foreign-key constraint in the database, as the ledger's
postings (`apps.processing.models.LedgerPosting`; reconciliation's `references` check
finds a fill whose order is missing)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0005_order_refused_request"),
    ]

    operations = [
        migrations.AlterField(
            model_name="fill",
            name="order",
            field=models.ForeignKey(db_constraint=False, db_index=False,
                                    on_delete=django.db.models.deletion.PROTECT,
                                    related_name="fills", to="orders.order"),
        ),
    ]
