"""The immediate-pickup kinds (即购即提) in the roles of 0004_roles, which predate them.

Policy editors edit every other rule of a draft, so they edit its kinds too (add, change, view:
deleting stays with superusers, as for categories); without the permissions the draft's page
hid the kinds from them. Auditors see the kinds and their history, as they see the categories.

Permissions are created first, as 0004_roles does. Rolling back takes these permissions out of
the two groups again.
"""

from django.db import migrations

GRANTS = {
    "policy editor": (
        "add_immediatepickupkind",
        "change_immediatepickupkind",
        "view_immediatepickupkind",
    ),
    "auditor": ("view_immediatepickupkind", "view_historicalimmediatepickupkind"),
}


def _permissions(apps, db, codenames):
    Permission = apps.get_model("auth", "Permission")
    return [
        Permission.objects.using(db).get(content_type__app_label="quotas", codename=codename)
        for codename in codenames
    ]


def grant(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    db = schema_editor.connection.alias
    app_config = apps.get_app_config("quotas")
    # The historical app registry has no models module; create_permissions skips such apps.
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0, using=db)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    for name, codenames in GRANTS.items():
        group, _ = Group.objects.using(db).get_or_create(name=name)
        group.permissions.add(*_permissions(apps, db, codenames))


def take_back(apps, schema_editor):
    db = schema_editor.connection.alias
    Group = apps.get_model("auth", "Group")
    for group in Group.objects.using(db).filter(name__in=GRANTS):
        group.permissions.remove(*_permissions(apps, db, GRANTS[group.name]))


class Migration(migrations.Migration):
    dependencies = [
        ("shops", "0014_store_short_names"),
        ("quotas", "0015_db_defaults"),
    ]

    operations = [migrations.RunPython(grant, take_back)]
