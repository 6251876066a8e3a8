"""Staff API tokens (django-rest-knox): stored as digests, shown once, expiring, revocable;
tokens issued before the move to knox keep working and leave no clear copy behind."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.authtoken.models import Token

URL = "/api/v1/stats/sales"
PERIOD = {"start": "2026-03-01", "end": "2026-03-31"}

pytestmark = pytest.mark.django_db


def issue(username: str = "analyst", *args: str) -> tuple[str, str]:
    out = io.StringIO()
    call_command("create_staff_token", username, *args, stdout=out)
    text = out.getvalue().strip()
    return text.splitlines()[-1], text


def status(client: Client, key: str) -> int:
    return client.get(URL, PERIOD, HTTP_AUTHORIZATION=f"Token {key}").status_code


def every_text_value() -> str:
    """Every value of every table of the database (the admin's history included), as text."""
    values = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            values += [str(value) for row in cursor.fetchall() for value in row]
    return "\n".join(values)


def test_the_key_is_shown_once_and_only_its_digest_is_stored(client: Client) -> None:
    key, text = issue()
    assert "valid until" in text
    assert status(client, key) == 200
    stored = AuthToken.objects.get()
    assert stored.token_key == key[:15]  # the lookup prefix; the rest only as a digest
    assert key not in every_text_value()
    assert key[15:] not in every_text_value()
    assert not Token.objects.exists()


def test_a_token_expires_after_its_days_and_is_then_refused(client: Client) -> None:
    key, _ = issue("analyst", "--days", "30")
    token = AuthToken.objects.get()
    assert timedelta(days=29, hours=23) < token.expiry - timezone.now() <= timedelta(days=30)
    assert status(client, key) == 200
    AuthToken.objects.update(expiry=timezone.now() - timedelta(seconds=1))
    response = client.get(URL, PERIOD, HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert not AuthToken.objects.exists()  # an expired token is deleted when presented


def test_the_default_lifetime_is_staff_token_days(client: Client, settings) -> None:
    issue()
    left = AuthToken.objects.get().expiry - timezone.now()
    assert (
        timedelta(days=settings.STAFF_TOKEN_DAYS - 1)
        < left
        <= timedelta(days=settings.STAFF_TOKEN_DAYS)
    )


def test_revoke_ends_every_token_of_the_user_and_only_theirs(client: Client) -> None:
    first, _ = issue()
    second, _ = issue()
    other, _ = issue("auditor")
    assert {status(client, first), status(client, second)} == {200}
    _, text = issue("analyst", "--revoke")
    assert text == "Revoked 2 token(s) of 'analyst'."
    assert status(client, first) == status(client, second) == 401
    assert status(client, other) == 200


def test_an_inactive_users_token_is_refused(client: Client) -> None:
    key, _ = issue()
    get_user_model().objects.filter(username="analyst").update(is_active=False)
    assert status(client, key) == 401
    with pytest.raises(CommandError, match="inactive"):
        issue()


@pytest.mark.parametrize(
    ("args", "message"),
    [(("--days", "0"), "--days"), (("--days", "9999"), "--days")],
)
def test_bad_arguments_are_refused_and_create_nothing(args: tuple[str, ...], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        issue("analyst", *args)
    assert not AuthToken.objects.exists()


def test_an_existing_user_who_is_not_staff_is_made_staff_only_with_promote() -> None:
    User = get_user_model()
    clerk = User.objects.create_user("clerk", is_staff=False)
    with pytest.raises(CommandError, match="--promote"):
        issue("clerk")
    clerk.refresh_from_db()
    assert not clerk.is_staff
    assert not AuthToken.objects.exists()
    key, text = issue("clerk", "--promote")
    clerk.refresh_from_db()
    assert clerk.is_staff
    assert "is now staff" in text
    assert AuthToken.objects.filter(user=clerk).count() == 1
    assert key not in text.splitlines()[:-1]


def test_revoking_an_unknown_user_is_an_error() -> None:
    with pytest.raises(CommandError, match="No user 'nobody'"):
        issue("nobody", "--revoke")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_migration_hashes_tokens_issued_before_knox_and_redacts_their_history(
    client: Client,
) -> None:
    """Through the real migration path: shops back to 0004, a DRF token (the key in clear, as
    id and name in the admin's history too), then forward through 0005."""
    before, after = [("shops", "0004_roles")], [("shops", "0005_staff_tokens_hashed")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state([
        *before, ("authtoken", "0004_alter_tokenproxy_options"),
        ("admin", "0003_logentry_add_action_flag_choices"),
    ]).apps  # fmt: skip
    user = old.get_model("auth", "User").objects.create(username="old-analyst", is_staff=True)
    key = "0123456789abcdef0123456789abcdef01234567"  # DRF's: 40 hexadecimal characters
    old.get_model("authtoken", "Token").objects.create(key=key, user_id=user.pk)
    kind, _ = old.get_model("contenttypes", "ContentType").objects.get_or_create(
        app_label="authtoken", model="tokenproxy"
    )
    old.get_model("admin", "LogEntry").objects.create(
        user_id=user.pk, content_type_id=kind.pk, object_id=key, object_repr=key,
        action_flag=1, change_message="[]", action_time=timezone.now(),
    )  # fmt: skip
    assert status(client, key) == 401  # not a knox token yet

    MigrationExecutor(connection).migrate(after)
    assert key not in every_text_value()
    assert not Token.objects.exists()
    # The API as it is now asks for today's schema: every later migration applied.
    latest = MigrationExecutor(connection)
    latest.migrate(latest.loader.graph.leaf_nodes())
    assert status(client, key) == 200  # the same key goes on working
    token = AuthToken.objects.get()
    assert token.user.username == "old-analyst"
    assert timedelta(days=89) < token.expiry - timezone.now() <= timedelta(days=90)
    entry = LogEntry.objects.get(content_type__app_label="authtoken")
    assert (entry.object_id, entry.object_repr) == ("", "staff token (key redacted)")


@pytest.mark.parametrize(
    "header",
    [
        "Token " + "ab" * 2 + "\x00" + "cd" * 20,  # a NUL where it is looked up
        "Token " + "g" * 64,  # not hexadecimal
        "Token " + "a" * 8,  # too short to be a key
        "Token " + "a" * 200,  # too long
        "Token " + "é" * 20,
    ],
    ids=["nul", "not-hex", "short", "long", "latin-1"],
)
def test_what_is_not_a_key_is_refused_without_a_lookup(client: Client, header: str) -> None:
    response = client.get(URL, PERIOD, HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"


@pytest.fixture
def superuser_client(client: Client) -> Client:
    client.force_login(get_user_model().objects.create_superuser("root", "root@example.org", "x"))
    return client


def test_the_admin_lists_tokens_and_revokes_them_but_cannot_issue_or_extend_one(
    superuser_client: Client,
) -> None:
    key, _ = issue()
    token = AuthToken.objects.get()
    listing = superuser_client.get("/admin/knox/authtoken/")
    assert listing.status_code == 200
    assert "analyst" in listing.content.decode()
    assert key[:15] not in listing.content.decode()
    # No add form (knox's own would take an empty expiry and show the key in a message cookie).
    assert superuser_client.get("/admin/knox/authtoken/add/").status_code == 403
    assert superuser_client.post("/admin/knox/authtoken/add/", {}).status_code == 403
    change = f"/admin/knox/authtoken/{token.pk}/change/"
    later = (timezone.now() + timedelta(days=9999)).strftime("%Y-%m-%d")
    assert (
        superuser_client.post(change, {"expiry_0": later, "expiry_1": "00:00"}).status_code == 403
    )
    assert AuthToken.objects.get().expiry == token.expiry
    # Revoking is deleting.
    deleted = superuser_client.post(f"/admin/knox/authtoken/{token.pk}/delete/", {"post": "yes"})
    assert deleted.status_code == 302
    assert status(Client(), key) == 401
