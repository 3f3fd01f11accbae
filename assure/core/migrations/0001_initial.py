from django.core.management import call_command
from django.db import migrations, models


def create_cache_table(apps, schema_editor):
    # The embedded default keeps cache and throttling counters in the database (shared by all
    # processes); createcachetable does nothing when the cache is Redis.
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


APPEND_ONLY_SQL = """
CREATE OR REPLACE FUNCTION core_auditevent_append_only() RETURNS trigger AS $$
BEGIN
    -- Django's test runner empties every table with TRUNCATE between transactional tests; a
    -- connection lets it through only by asking (tests/settings.py), which assure never does.
    IF TG_OP = 'TRUNCATE' AND current_setting('assure.audit_truncate', true) = 'allow' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'core_auditevent is append-only: % refused', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER core_auditevent_no_update_delete
    BEFORE UPDATE OR DELETE ON core_auditevent
    FOR EACH ROW EXECUTE FUNCTION core_auditevent_append_only();
CREATE TRIGGER core_auditevent_no_truncate
    BEFORE TRUNCATE ON core_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION core_auditevent_append_only();
"""

DROP_APPEND_ONLY_SQL = """
DROP TRIGGER IF EXISTS core_auditevent_no_truncate ON core_auditevent;
DROP TRIGGER IF EXISTS core_auditevent_no_update_delete ON core_auditevent;
DROP FUNCTION IF EXISTS core_auditevent_append_only();
"""


def add_append_only_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        # No parameters: psycopg would otherwise read the % of RAISE's format as a placeholder.
        schema_editor.execute(APPEND_ONLY_SQL, params=None)


def drop_append_only_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_APPEND_ONLY_SQL, params=None)


class Migration(migrations.Migration):
    initial = True

    dependencies = []

    operations = [
        migrations.CreateModel(
            name="AuditEvent",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("at", models.DateTimeField(auto_now_add=True, db_index=True)),
                ("actor_kind", models.CharField(choices=[("member", "Member"), ("staff", "Staff"), ("system", "System"), ("feed", "Feed")], max_length=10)),
                ("actor_id", models.CharField(blank=True, default="", max_length=64)),
                ("actor_display", models.CharField(blank=True, default="", max_length=150)),
                ("action", models.CharField(db_index=True, max_length=64)),
                ("member_id", models.BigIntegerField(blank=True, db_index=True, null=True)),
                ("object_type", models.CharField(blank=True, default="", max_length=64)),
                ("object_id", models.CharField(blank=True, default="", max_length=64)),
                ("reason", models.CharField(blank=True, default="", max_length=200)),
                ("data", models.JSONField(blank=True, default=dict)),
            ],
            options={
                "ordering": ["-at", "-id"],
                "indexes": [models.Index(fields=["member_id", "-at"], name="core_audite_member__idx")],
            },
        ),
        migrations.RunPython(add_append_only_trigger, drop_append_only_trigger),
        migrations.RunPython(create_cache_table, migrations.RunPython.noop),
    ]
