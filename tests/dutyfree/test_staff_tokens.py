"""Staff API tokens (django-rest-knox): stored as digests, shown once, expiring, revocable;
tokens issued before the move to knox keep working and leave no clear copy behind."""

from __future__ import annotations

import importlib
import io
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import connection
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
    """Every text column of the token tables, as one string."""
    rows = []
    with connection.cursor() as cursor:
        for table in (AuthToken._meta.db_table, Token._meta.db_table):
            cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 - model table names
            rows += [str(value) for row in cursor.fetchall() for value in row]
    return "\n".join(rows)


def test_the_key_is_shown_once_and_only_its_digest_is_stored(client: Client) -> None:
    key, text = issue()
    assert "valid until" in text
    assert status(client, key) == 200
    stored = AuthToken.objects.get()
    assert stored.token_key == key[:15]
    assert stored.digest != key
    assert key not in every_text_value()
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
    assert timedelta(days=settings.STAFF_TOKEN_DAYS - 1) < left <= timedelta(
        days=settings.STAFF_TOKEN_DAYS
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


def test_revoking_an_unknown_user_is_an_error() -> None:
    with pytest.raises(CommandError, match="No user 'nobody'"):
        issue("nobody", "--revoke")


def test_a_token_issued_before_knox_keeps_working_and_its_clear_copy_is_gone(
    client: Client,
) -> None:
    user = get_user_model().objects.create_user("old-analyst", is_staff=True)
    old = Token.objects.create(user=user).key  # DRF's authtoken: the key in clear
    assert status(client, old) == 401  # not a knox token yet
    migration = importlib.import_module("shops.migrations.0005_staff_tokens_hashed")
    migration.hash_existing_tokens(apps, SimpleNamespace(connection=connection))
    assert not Token.objects.exists()
    assert old not in every_text_value()
    assert status(client, old) == 200
    assert AuthToken.objects.get().expiry > timezone.now() + timedelta(days=1)
