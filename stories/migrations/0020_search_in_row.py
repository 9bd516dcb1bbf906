"""Search reads a live revision's row alone: its vector and the text its
snippet is cut from are kept in the row instead of the TOAST table.

A live revision's vector is about 4 kB and pglz cannot shrink it, so with
the default EXTENDED storage every vector lay out of line: a search read
each of its 200 candidates' vectors from TOAST twice (to match, then to
rank), about 1,800 buffers; finding and ranking them took 1.35 ms of
PostgreSQL at 100,000 stories, 0.4 ms with the vectors in their rows.
Stored MAIN, a vector stays in its row (out of line only if the row could
not fit a page), so the scan that finds a candidate already holds it. Only
live revisions keep a vector, so only their rows grow (one a page).

A row that large makes PostgreSQL move every other EXTENDED value of it
out of line, however short: the headline and summary every listing's cards
read would each cost a TOAST lookup. They and the note are MAIN too, so
they stay in the row as before; the content and body stay in TOAST.

The snippet was cut from the summary and the body's first 1,000
characters, read from the body in TOAST for each of 20 results (0.4 ms):
search_snippet keeps that text for live revisions, generated from the
columns, so every writer of a revision (publication, the archive
generator, this migration) fills it, and MAIN keeps it in the row.
"""

import django.db.models.functions.text
from django.db import migrations, models

TABLE = "stories_storyrevision"
IN_ROW = ("search_vector", "search_headline", "search_summary", "note", "search_snippet")


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in IN_ROW:
        schema_editor.execute(f"ALTER TABLE {TABLE} ALTER {column} SET STORAGE MAIN")
    # Storage applies to values written from now on, and an UPDATE keeps a
    # value's TOAST pointer: concatenating an empty value writes an equal,
    # new one, which the row then keeps (and search_snippet is generated
    # again).
    schema_editor.execute(
        f"UPDATE {TABLE} SET search_vector = search_vector || ''::tsvector, "
        "search_headline = search_headline || '', "
        "search_summary = search_summary || '', note = note || '' "
        "WHERE search_vector IS NOT NULL"
    )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in IN_ROW:
        schema_editor.execute(
            f"ALTER TABLE {TABLE} ALTER {column} SET STORAGE EXTENDED"
        )


class Migration(migrations.Migration):
    dependencies = [("stories", "0019_published_newest_index")]

    operations = [
        migrations.AddField(
            model_name="storyrevision",
            name="search_snippet",
            field=models.GeneratedField(
                db_persist=True,
                expression=models.Case(
                    models.When(
                        search_vector__isnull=False,
                        then=django.db.models.functions.text.Concat(
                            "search_summary",
                            models.Value(" "),
                            django.db.models.functions.text.Left("search_body", 1000),
                            output_field=models.TextField(),
                        ),
                    ),
                    default=None,
                ),
                output_field=models.TextField(null=True),
            ),
        ),
        migrations.RunPython(forwards, backwards, elidable=False),
    ]
