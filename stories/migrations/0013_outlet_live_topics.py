from django.db import migrations

OUTLET_PREFIX = "outlet:"


def index_cited_outlets(apps, schema_editor):
    """Outlet rows for stories already published, so their outlets get pages
    (mirrors services.index_live_topics, which the migration cannot import).
    Revisions written before snapshots carried outlet ids name the outlet by
    slug; an outlet renamed since then is not found and gets no row."""
    Outlet = apps.get_model("stories", "Outlet")
    Story = apps.get_model("stories", "Story")
    LiveTopic = apps.get_model("stories", "LiveTopic")
    LiveTopic.objects.filter(key__startswith=OUTLET_PREFIX).delete()
    ids_by_slug = dict(Outlet.objects.values_list("slug", "pk"))
    # Story.objects.published(), which historical models do not have.
    published = Story.objects.filter(
        status="published", live_revision__isnull=False, public_slug__isnull=False
    ).select_related("live_revision")
    batch = []
    for story in published.iterator(chunk_size=500):
        sources = story.live_revision.content.get("source_summaries", [])
        ids = [
            s["outlet"].get("id") or ids_by_slug.get(s["outlet"]["slug"])
            for s in sources
        ]
        batch.extend(
            LiveTopic(
                story=story,
                key=f"{OUTLET_PREFIX}{outlet_id}",
                last_published_at=story.last_published_at,
            )
            for outlet_id in dict.fromkeys(ids)
            if outlet_id is not None
        )
        if len(batch) >= 5000:
            LiveTopic.objects.bulk_create(batch)
            batch = []
    LiveTopic.objects.bulk_create(batch)


def forget_cited_outlets(apps, schema_editor):
    LiveTopic = apps.get_model("stories", "LiveTopic")
    LiveTopic.objects.filter(key__startswith=OUTLET_PREFIX).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("stories", "0012_outlet_review_and_keys"),
    ]

    operations = [
        migrations.RunPython(index_cited_outlets, forget_cited_outlets),
    ]
