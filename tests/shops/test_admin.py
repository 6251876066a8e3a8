"""The shops admin: sales are read-only records; terminals are revoked, never deleted; the
times staff read are Shanghai time."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.contrib.messages import WARNING
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from knox.models import AuthToken

from quotas import services
from quotas.models import Policy
from shops.models import Product, RollupState, Sale, Terminal
from shops.pos import checkout
from tests.conftest import SHANGHAI
from tests.support import basket, product, terminal

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


class TestProductForm:
    def data(self, **changes: str) -> dict[str, str]:
        return {
            "sku": "ADMIN-LIP",
            "name_zh": "口红",
            "name_en": "Lipstick",
            "brand": "Test",
            "category_code": "cosmetics",
            "retail_price": "320.00",
            "pieces": "1",
            "active": "on",
            **changes,
        }

    def test_a_category_no_policy_has_is_refused(self, web: Client) -> None:
        response = web.post("/admin/shops/product/add/", self.data(category_code="no_such"))
        assert response.status_code == 200
        assert "category_code" in response.context["adminform"].form.errors
        assert not Product.objects.filter(sku="ADMIN-LIP").exists()

    def test_a_draft_policys_category_is_accepted_as_import_products_accepts_it(
        self, web: Client
    ) -> None:
        draft = services.policy_clone(
            policy=Policy.objects.filter(status="published").latest("effective_from")
        )
        draft.categories.filter(code="cosmetics").update(code="new_category")
        response = web.post("/admin/shops/product/add/", self.data(category_code="new_category"))
        assert response.status_code == 302
        assert Product.objects.get(sku="ADMIN-LIP").category_code == "new_category"

    def test_a_price_under_one_yuan_is_saved_with_a_warning(self, web: Client) -> None:
        response = web.post(
            "/admin/shops/product/add/",
            self.data(retail_price="0.01"),
            follow=True,
            headers={"Accept-Language": "en"},
        )
        assert Product.objects.get(sku="ADMIN-LIP").retail_price == Decimal("0.01")
        warnings = [m.message for m in response.context["messages"] if m.level == WARNING]
        assert warnings == [
            "The price of ADMIN-LIP is 0.01 yuan, below 1.00: saved, but check that it is "
            "not a slip."
        ]
        chinese = web.post(
            "/admin/shops/product/add/",
            self.data(sku="ADMIN-LIP-2", retail_price="0.5"),
            follow=True,
        )
        warnings = [m.message for m in chinese.context["messages"] if m.level == WARNING]
        assert warnings == [
            "商品 ADMIN-LIP-2 的价格为 0.50 元，低于 1.00 元：已保存，请确认不是输入错误。"
        ]

    def test_a_price_of_one_yuan_or_more_is_saved_without_one(self, web: Client) -> None:
        response = web.post(
            "/admin/shops/product/add/", self.data(retail_price="1.00"), follow=True
        )
        assert Product.objects.filter(sku="ADMIN-LIP").exists()
        assert [m for m in response.context["messages"] if m.level == WARNING] == []
