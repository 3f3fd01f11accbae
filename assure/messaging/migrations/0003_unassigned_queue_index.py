"""The advisors' default queue in its order: a partial index of the unassigned waiting threads.

On PostgreSQL the index is built CONCURRENTLY: the threads table of a fund holds years of
conversations, and a plain CREATE INDEX would hold members' new messages back for as long as it
reads them all. A concurrent build cannot run in a transaction, hence `atomic = False`.
"""

from django.conf import settings
from django.db import migrations, models


def _concurrently(schema_editor) -> dict:
    return {"concurrently": True} if schema_editor.connection.vendor == "postgresql" else {}


class AddIndexWithoutBlockingWrites(migrations.AddIndex):
    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        model = to_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            schema_editor.add_index(model, self.index, **_concurrently(schema_editor))

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        model = from_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            schema_editor.remove_index(model, self.index, **_concurrently(schema_editor))


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("members", "0002_profilechange"),
        ("messaging", "0002_default_subjects"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        AddIndexWithoutBlockingWrites(
            model_name="thread",
            index=models.Index(
                condition=models.Q(("assigned_to__isnull", True), ("status", "waiting_advisor")),
                fields=["answer_expected_by", "waiting_since", "id"],
                name="messaging_thread_unassigned",
            ),
        ),
    ]
