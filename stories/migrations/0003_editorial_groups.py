from django.contrib.auth.management import create_permissions
from django.db import migrations

JOURNALIST_PERMISSIONS = [
    ("stories", "add_story"), ("stories", "change_story"), ("stories", "view_story"),
    ("stories", "add_faq"), ("stories", "change_faq"), ("stories", "view_faq"),
    ("stories", "view_outlet"),
    ("entities", "add_entity"), ("entities", "change_entity"), ("entities", "view_entity"),
    ("taggit", "add_tag"), ("taggit", "view_tag"),
]
EDITOR_PERMISSIONS = JOURNALIST_PERMISSIONS + [
    ("stories", "publish_story"), ("stories", "delete_story"),
    ("stories", "add_outlet"), ("stories", "change_outlet"),
    ("stories", "delete_faq"), ("entities", "delete_entity"),
    ("taggit", "change_tag"), ("taggit", "delete_tag"),
]


def create_groups(apps, schema_editor):
    # Permissions are normally created after all migrations run; make sure
    # they exist now so the groups can be given them.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, wanted in [
        ("Journalists", JOURNALIST_PERMISSIONS),
        ("Editors", EDITOR_PERMISSIONS),
    ]:
        group, _ = Group.objects.get_or_create(name=name)
        for app_label, codename in wanted:
            group.permissions.add(
                Permission.objects.get(
                    content_type__app_label=app_label, codename=codename
                )
            )


class Migration(migrations.Migration):
    dependencies = [
        ("stories", "0002_outlet_registry"),
        ("entities", "0001_initial"),
        ("taggit", "0006_rename_taggeditem_content_type_object_id_taggit_tagg_content_8fc721_idx"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_groups, migrations.RunPython.noop)]
