"""Admin roles as Django groups: policy editor, store manager, auditor.

Give a staff user one of these groups instead of superuser status. The admin shows each
role only what it may see and change (tests/dutyfree/test_roles.py):

- policy editor: drafts, edits and publishes policies and their categories, and programmes
  (add/change/view); sees bans. Deleting drafts stays with superusers.
- store manager: stores, terminals and products (add/change/view; terminals are still created
  with ``manage.py create_terminal``, which shows the key once); sees sales and returns.
- auditor: sees everything an administrator works with, changes nothing: policies,
  categories, programmes, bans, shoppers, sales, returns, stores, terminals, products, and the
  change history of policies and categories.

Permissions are created here first (post_migrate only creates them after all migrations, and a
fresh database runs this one before). Re-running adds what is missing and keeps what an
administrator added; rolling back deletes the three groups.
"""

from django.db import migrations

ROLES = {
    "policy editor": {
        "quotas": {
            "policy": ("add", "change", "view"),
            "category": ("add", "change", "view"),
            "programme": ("add", "change", "view"),
            "ban": ("view",),
        },
    },
    "store manager": {
        "shops": {
            "store": ("add", "change", "view"),
            "terminal": ("add", "change", "view"),
            "product": ("add", "change", "view"),
            "sale": ("view",),
            "saleline": ("view",),
            "return": ("view",),
            "returnline": ("view",),
        },
    },
    "auditor": {
        "quotas": {
            "policy": ("view",),
            "category": ("view",),
            "programme": ("view",),
            "ban": ("view",),
            "shopper": ("view",),
            "historicalpolicy": ("view",),
            "historicalcategory": ("view",),
        },
        "shops": {
            "store": ("view",),
            "terminal": ("view",),
            "product": ("view",),
            "sale": ("view",),
            "saleline": ("view",),
            "return": ("view",),
            "returnline": ("view",),
        },
    },
}


def create_roles(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    db = schema_editor.connection.alias
    for label in ("quotas", "shops"):
        app_config = apps.get_app_config(label)
        # The historical app registry has no models module; create_permissions skips such apps.
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0, using=db)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, grants in ROLES.items():
        group, _ = Group.objects.using(db).get_or_create(name=name)
        wanted = [
            (app_label, f"{action}_{model}")
            for app_label, models in grants.items()
            for model, actions in models.items()
            for action in actions
        ]
        permissions = [
            Permission.objects.using(db).get(content_type__app_label=app_label, codename=codename)
            for app_label, codename in wanted
        ]
        group.permissions.add(*permissions)


def delete_roles(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Group.objects.using(schema_editor.connection.alias).filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("quotas", "0005_ban"),
        ("shops", "0003_rollups"),
    ]

    operations = [migrations.RunPython(create_roles, delete_roles)]
