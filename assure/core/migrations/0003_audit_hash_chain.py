import django.utils.timezone
from django.db import migrations, models

from assure.core import audit


def chain_existing(apps, schema_editor):
    """Links the events written before the chain existed, oldest first."""
    AuditEvent = apps.get_model("core", "AuditEvent")
    connection = schema_editor.connection
    if not AuditEvent.objects.exists():
        return
    postgresql = connection.vendor == "postgresql"
    if postgresql:
        # The append-only trigger refuses UPDATE; this one-time linking is the only exception.
        schema_editor.execute(
            "ALTER TABLE core_auditevent DISABLE TRIGGER core_auditevent_no_update_delete"
        )
    prev = audit.GENESIS
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=2000):
        digest = audit.event_digest(event, prev)
        AuditEvent.objects.filter(pk=event.pk).update(prev_hash=prev, hash=digest)
        prev = digest
    if postgresql:
        schema_editor.execute(
            "ALTER TABLE core_auditevent ENABLE TRIGGER core_auditevent_no_update_delete"
        )


class Migration(migrations.Migration):
    dependencies = [("core", "0002_feedrun")]

    operations = [
        migrations.AlterField(
            model_name="auditevent",
            name="at",
            field=models.DateTimeField(db_index=True, default=django.utils.timezone.now),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="prev_hash",
            field=models.CharField(blank=True, default="", max_length=64),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="hash",
            field=models.CharField(blank=True, default="", max_length=64),
        ),
        migrations.RunPython(chain_existing, migrations.RunPython.noop),
    ]
