"""Search reads live revisions only: only they keep a search vector, and the
GIN index and a newest-first index cover only those rows, so their size
follows the stories readers can see, not every revision ever saved. Archive
pages read stories by first publication, newest first, off an index; the
most active topics are counted from an index of recent topic rows alone."""

from django.db import migrations, models

TABLE = "stories_storyrevision"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"UPDATE {TABLE} SET search_vector = NULL WHERE search_vector IS NOT NULL "
        "AND id NOT IN (SELECT live_revision_id FROM stories_story "
        "WHERE live_revision_id IS NOT NULL)"
    )
    schema_editor.execute("DROP INDEX IF EXISTS stories_revision_search_gin")
    schema_editor.execute(
        f"CREATE INDEX stories_revision_search_gin ON {TABLE} "
        "USING GIN (search_vector) WHERE search_vector IS NOT NULL"
    )
    schema_editor.execute(
        f"CREATE INDEX stories_revision_search_newest ON {TABLE} "
        "(created_at DESC, id DESC) WHERE search_vector IS NOT NULL"
    )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX IF EXISTS stories_revision_search_newest")
    schema_editor.execute("DROP INDEX IF EXISTS stories_revision_search_gin")
    schema_editor.execute(
        f"CREATE INDEX stories_revision_search_gin ON {TABLE} "
        "USING GIN (search_vector)"
    )


class Migration(migrations.Migration):
    dependencies = [("stories", "0016_update_lines")]

    operations = [
        migrations.RunPython(forwards, backwards),
        migrations.AddIndex(
            model_name="story",
            index=models.Index(
                fields=["-first_published_at", "-id"],
                name="stories_sto_first_p_6cd39d_idx",
            ),
        ),
        migrations.RemoveIndex(
            model_name="livetopic",
            name="stories_liv_last_pu_14fb9e_idx",
        ),
        migrations.AddIndex(
            model_name="livetopic",
            index=models.Index(
                condition=models.Q(("key__startswith", "entity:")),
                fields=["-last_published_at", "key"],
                name="stories_live_topic_recent",
            ),
        ),
    ]
