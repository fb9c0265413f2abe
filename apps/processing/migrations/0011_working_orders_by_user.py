"""The working orders by user and symbol: each batch reads its users' working orders of the
symbols other processors hold (`apps.processing.selectors.working_orders_read`), which
without an index read the whole table, however few users the batch had. The table holds
only live orders, so building the index is quick."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("processing", "0010_unique_without_pattern_indexes"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="workingorder",
            index=models.Index(fields=["user_id", "symbol"], name="working_user_symbol"),
        ),
    ]
