from django.db import migrations


def rekey(apps, schema_editor):
    from stories.text import match_keys, name_key

    Entity = apps.get_model("entities", "Entity")
    for entity in Entity.objects.all():
        aliases = [a.strip() for a in entity.aliases.splitlines() if a.strip()]
        entity.match_keys = match_keys([entity.name, *aliases], name_key)
        entity.save(update_fields=["match_keys"])


class Migration(migrations.Migration):
    dependencies = [("entities", "0001_initial")]

    operations = [migrations.RunPython(rekey, migrations.RunPython.noop)]
