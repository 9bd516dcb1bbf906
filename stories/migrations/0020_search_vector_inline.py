"""Search vectors are kept in the revision's row instead of the TOAST table.

A live revision's vector is about 4 kB and pglz cannot shrink it, so with
the default EXTENDED storage every vector lay out of line: a search read
each of its 200 candidates' vectors from TOAST twice (to match, then to
rank), about 1,800 buffers; finding and ranking them took 1.35 ms of
PostgreSQL at 100,000 stories, 0.4 ms with the vectors in their rows.
Stored MAIN, a vector stays in its row (out of line only if the row could
not fit a page), so the scan that finds a candidate already holds it. Only
live revisions keep a vector, so only their rows grow (one a page).
"""

from django.db import migrations

TABLE = "stories_storyrevision"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"ALTER TABLE {TABLE} ALTER search_vector SET STORAGE MAIN")
    # Storage applies to values written from now on, and an UPDATE to the
    # same column keeps its TOAST pointer: concatenating an empty vector
    # writes an equal, new value, which the row then keeps.
    schema_editor.execute(
        f"UPDATE {TABLE} SET search_vector = search_vector || ''::tsvector "
        "WHERE search_vector IS NOT NULL"
    )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"ALTER TABLE {TABLE} ALTER search_vector SET STORAGE EXTENDED"
    )


class Migration(migrations.Migration):
    dependencies = [("stories", "0018_live_topic_version")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
