"""The postings' transaction and account without a foreign-key constraint in the database:
checking them cost PostgreSQL a query per posting, a third of its time per batch (see
`apps.processing.models.LedgerPosting`; reconciliation's `references` check finds an
orphan). Dropping a constraint takes no time on a table of any size."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("processing", "0011_working_orders_by_user"),
    ]

    operations = [
        migrations.AlterField(
            model_name="ledgerposting",
            name="account",
            field=models.ForeignKey(db_constraint=False, db_index=False,
                                    on_delete=django.db.models.deletion.PROTECT,
                                    related_name="postings", to="processing.ledgeraccount"),
        ),
        migrations.AlterField(
            model_name="ledgerposting",
            name="transaction",
            field=models.ForeignKey(db_constraint=False,
                                    on_delete=django.db.models.deletion.PROTECT,
                                    related_name="postings", to="processing.ledgertransaction"),
        ),
    ]
