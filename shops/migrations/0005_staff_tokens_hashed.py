"""Staff API tokens move from DRF's authtoken (the key stored in clear) to django-rest-knox
(a SHA-512 digest and the first 15 characters). Every existing token keeps working — its
digest is computed here — and now expires STAFF_TOKEN_DAYS from this migration; the
clear-text rows are deleted. DRF's token admin used the key as the object's id and name, so
the admin history (django_admin_log) of those tokens is redacted too: the entries stay, the
key goes. (PostgreSQL keeps deleted row versions until VACUUM; run it after migrating.)
Going back leaves the knox tokens alone: the keys cannot be recovered from their digests, and
nobody needs them in clear again.
"""

from django.conf import settings
from django.db import migrations
from django.utils import timezone


def hash_existing_tokens(apps, schema_editor):
    from knox.crypto import hash_token
    from knox.settings import CONSTANTS

    db = schema_editor.connection.alias
    Token = apps.get_model("authtoken", "Token")
    AuthToken = apps.get_model("knox", "AuthToken")
    expiry = timezone.now() + settings.REST_KNOX["TOKEN_TTL"]
    for token in Token.objects.using(db).all():
        AuthToken.objects.using(db).create(
            digest=hash_token(token.key),
            token_key=token.key[: CONSTANTS.TOKEN_KEY_LENGTH],
            user_id=token.user_id,
            expiry=expiry,
        )
    Token.objects.using(db).all().delete()
    ContentType = apps.get_model("contenttypes", "ContentType")
    LogEntry = apps.get_model("admin", "LogEntry")
    kinds = ContentType.objects.using(db).filter(app_label="authtoken")
    LogEntry.objects.using(db).filter(content_type__in=kinds).update(
        object_id="", object_repr="staff token (key redacted)"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("shops", "0004_roles"),
        ("authtoken", "0004_alter_tokenproxy_options"),
        ("knox", "0009_extend_authtoken_field"),
        ("admin", "0003_logentry_add_action_flag_choices"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(hash_existing_tokens, migrations.RunPython.noop)]
