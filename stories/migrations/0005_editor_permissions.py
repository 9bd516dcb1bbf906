from django.contrib.auth.management import create_permissions
from django.db import migrations


def grant(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    editors = Group.objects.get(name="Editors")
    for codename in ("edit_any_story", "delete_outlet"):
        editors.permissions.add(
            Permission.objects.get(content_type__app_label="stories", codename=codename)
        )


class Migration(migrations.Migration):
    dependencies = [("stories", "0004_workflow_revisions_previews")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
