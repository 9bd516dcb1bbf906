from django.db import migrations, models


def rekey(apps, schema_editor):
    """Outlets gain keys without leading articles, and fold() now spells out
    letters such as "ø" and "ł": every stored key is computed again."""
    from stories.text import match_keys, name_key, outlet_match_keys

    def lines(text):
        return [line.strip() for line in text.splitlines() if line.strip()]

    Outlet = apps.get_model("stories", "Outlet")
    for outlet in Outlet.objects.all():
        outlet.match_keys = outlet_match_keys([outlet.name, *lines(outlet.short_forms)])
        outlet.save(update_fields=["match_keys"])
    Entity = apps.get_model("entities", "Entity")
    for entity in Entity.objects.all():
        entity.match_keys = match_keys([entity.name, *lines(entity.aliases)], name_key)
        entity.save(update_fields=["match_keys"])


class Migration(migrations.Migration):
    dependencies = [
        ("stories", "0011_live_topics_by_time"),
        ("entities", "0002_match_keys_without_article"),
    ]

    operations = [
        migrations.AddField(
            model_name="outlet",
            name="needs_review",
            field=models.BooleanField(
                default=False,
                help_text="Added by the importer for a name not in the registry; "
                "an editor should check the name, homepage and country.",
            ),
        ),
        migrations.RunPython(rekey, migrations.RunPython.noop),
    ]
