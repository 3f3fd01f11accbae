from django.core.management import call_command
from django.db import migrations


def create_cache_tables(apps, schema_editor):
    # With Redis, throttling counters fall back to a database cache while Redis is unreachable
    # (settings CACHES["fallback"]); installations migrated before it existed lack its table.
    # createcachetable skips the tables that exist.
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("core", "0003_audit_hash_chain")]

    operations = [migrations.RunPython(create_cache_tables, migrations.RunPython.noop)]
