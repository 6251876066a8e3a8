"""The shops admin: sales are read-only records; terminals are revoked, never deleted; the
times staff read are Shanghai time."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from knox.models import AuthToken

from shops import checkout
from shops.models import RollupState, Sale, Terminal
from tests.conftest import SHANGHAI

from .helpers import basket, product, terminal

pytestmark = pytest.mark.django_db


@pytest.fixture
def web(client: Client) -> Client:
    admin = get_user_model().objects.create_superuser("root", password=None)
    client.force_login(admin)
    return client


def test_sales_are_listed_and_read_only(web: Client) -> None:
    product("LIP", "cosmetics", "320.00")
    term, _ = terminal()
    sale = checkout.sale_commit(
        terminal=term,
        idempotency_key="k",
        fingerprint="f",
        basket=basket(("LIP", 2)),
        now=timezone.now(),
    ).sale
    assert web.get("/admin/shops/sale/").status_code == 200
    page = web.get(f"/admin/shops/sale/{sale.pk}/change/")
    assert page.status_code == 200
    assert sale.receipt_no in page.content.decode()
    assert web.post(f"/admin/shops/sale/{sale.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Sale.objects.filter(pk=sale.pk).exists()


def test_a_revoked_terminal_can_no_longer_sell(web: Client, client: Client) -> None:
    term, key = terminal()
    response = web.post(
        "/admin/shops/terminal/", {"action": "revoke", "_selected_action": [term.pk]}
    )
    assert response.status_code == 302
    assert Terminal.objects.get(pk=term.pk).revoked_at is not None
    refused = Client().post(
        "/api/v1/quotes",
        "{}",
        content_type="application/json",
        headers={"authorization": f"Bearer {key}"},
    )
    assert refused.status_code == 401


# --- every time a person reads is local (Asia/Shanghai), never the UTC stored ----------------
def test_the_rollup_states_title_is_shanghai_time() -> None:
    state = RollupState(name="daily", refreshed_at=datetime(2026, 1, 19, 19, 30, tzinfo=UTC))

    assert str(state) == "daily 2026-01-20 03:30:00"


def test_a_staff_tokens_expiry_is_told_in_shanghai_time() -> None:
    out = io.StringIO()

    call_command("create_staff_token", "analyst_kim", "--days", "3", stdout=out)

    expiry = AuthToken.objects.get().expiry
    told = re.search(r"valid until (\S+ \S+ \S+);", out.getvalue())
    assert told is not None, out.getvalue()
    assert told.group(1) == f"{expiry.astimezone(SHANGHAI):%Y-%m-%d %H:%M} CST"
