"""The ledger transactions' `reference` and the outbox's `event_id` unique by a named
constraint, without the LIKE-pattern index Django gave them (see `apps.processing.models`).

In the database this only drops the pattern indexes and renames the unique constraints
that exist, whatever they were called: no index is built again, so the migration takes no
longer on a ledger of millions of rows than on an empty one."""

from django.db import migrations, models

# (table, column, the constraint's new name, Django's pattern index on the column)
UNIQUE_COLUMNS = [
    ("processing_ledgertransaction", "reference", "ledger_transaction_reference_unique",
     "processing_ledgertransaction_reference_fda4d859_like"),
    ("processing_outboxevent", "event_id", "outbox_event_id_unique",
     "processing_outboxevent_event_id_f8939e0f_like"),
]

RENAME_UNIQUE = """
DO $$
DECLARE found text;
BEGIN
    SELECT c.conname INTO STRICT found FROM pg_constraint c
    JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY(c.conkey)
    WHERE c.conrelid = '{table}'::regclass AND c.contype = 'u'
      AND cardinality(c.conkey) = 1 AND a.attname = '{column}';
    EXECUTE format('ALTER TABLE {table} RENAME CONSTRAINT %I TO %I', found, '{to}');
END $$;
"""


def _forward(table: str, column: str, name: str, pattern_index: str) -> str:
    return (f"DROP INDEX IF EXISTS {pattern_index};"
            + RENAME_UNIQUE.format(table=table, column=column, to=name))


def _backward(table: str, column: str, name: str, pattern_index: str) -> str:
    return (RENAME_UNIQUE.format(table=table, column=column, to=f"{table}_{column}_key")
            + f"CREATE INDEX {pattern_index} ON {table} ({column} varchar_pattern_ops);")


class Migration(migrations.Migration):

    dependencies = [
        ('processing', '0009_reconciliation_breaks'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(_forward(*columns), _backward(*columns))
                for columns in UNIQUE_COLUMNS
            ],
            state_operations=[
                migrations.AlterField(
                    model_name='ledgertransaction',
                    name='reference',
                    field=models.CharField(max_length=160),
                ),
                migrations.AlterField(
                    model_name='outboxevent',
                    name='event_id',
                    field=models.CharField(max_length=64),
                ),
                migrations.AddConstraint(
                    model_name='ledgertransaction',
                    constraint=models.UniqueConstraint(
                        fields=('reference',), name='ledger_transaction_reference_unique'),
                ),
                migrations.AddConstraint(
                    model_name='outboxevent',
                    constraint=models.UniqueConstraint(
                        fields=('event_id',), name='outbox_event_id_unique'),
                ),
            ],
        ),
    ]
