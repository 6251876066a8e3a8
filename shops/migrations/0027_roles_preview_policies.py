"""Policy editors ask for and read policy previews; auditors read them. Permissions are created
first, as 0004_roles does; rolling back takes them out of the two groups again. (An operator's
people never hold them, whatever their group: shops.operators.backends.)"""

from django.db import migrations

GRANTS = {
    "policy editor": ("add_policypreview", "view_policypreview"),
    "auditor": ("view_policypreview",),
}


def _permissions(apps, db, name):
    Permission = apps.get_model("auth", "Permission")
    return list(
        Permission.objects.using(db).filter(
            content_type__app_label="shops", codename__in=GRANTS[name]
        )
    )


def grant(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    db = schema_editor.connection.alias
    app_config = apps.get_app_config("shops")
    # The historical app registry has no models module; create_permissions skips such apps.
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0, using=db)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    for name in GRANTS:
        group, _ = Group.objects.using(db).get_or_create(name=name)
        group.permissions.add(*_permissions(apps, db, name))


def take_back(apps, schema_editor):
    db = schema_editor.connection.alias
    Group = apps.get_model("auth", "Group")
    for group in Group.objects.using(db).filter(name__in=GRANTS):
        group.permissions.remove(*_permissions(apps, db, group.name))


class Migration(migrations.Migration):
    dependencies = [("shops", "0026_policy_previews")]

    operations = [migrations.RunPython(grant, take_back)]
