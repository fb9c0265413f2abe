"""The risk configuration's version: a row that every statement changing limits, kill
switches, leverage or margin rates sets to a new number, in its transaction (statement
triggers; the numbers come from a sequence, so each change, even a second one in the same
transaction, has its own), so a reader that cached the configuration knows, in one
look-up, whether it still holds."""

from django.db import migrations, models

CONFIGURATION_TABLES = ("risk_risklimit", "risk_killswitch", "risk_marginaccount",
                        "risk_instrumentmargin")

BUMP = """
CREATE SEQUENCE risk_config_version_seq;
CREATE FUNCTION risk_bump_config_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO risk_configversion (id, version)
  VALUES (1, nextval('risk_config_version_seq'))
  ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version;
  RETURN NULL;
END $$;
""" + "".join(
    f"CREATE TRIGGER {table}_config_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
    f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION risk_bump_config_version();\n"
    for table in CONFIGURATION_TABLES
) + ("INSERT INTO risk_configversion (id, version) "
     "VALUES (1, nextval('risk_config_version_seq'));")

UNBUMP = "".join(f"DROP TRIGGER {table}_config_version ON {table};\n"
                 for table in CONFIGURATION_TABLES) + \
    "DROP FUNCTION risk_bump_config_version(); DROP SEQUENCE risk_config_version_seq;"


class Migration(migrations.Migration):
    dependencies = [
        ("risk", "0005_override_requests"),
    ]

    operations = [
        migrations.CreateModel(
            name="ConfigVersion",
            fields=[
                ("id", models.SmallIntegerField(primary_key=True, serialize=False)),
                ("version", models.BigIntegerField()),
            ],
        ),
        migrations.RunSQL(BUMP, UNBUMP),
    ]
