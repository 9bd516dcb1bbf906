from django.db import migrations


def load_registry(apps, schema_editor):
    from stories.registry import load_outlet_registry

    load_outlet_registry(apps.get_model("stories", "Outlet"))


class Migration(migrations.Migration):
    dependencies = [("stories", "0001_initial")]

    operations = [migrations.RunPython(load_registry, migrations.RunPython.noop)]
