"""Columns whose value on a new row is a fact (no immediate-pickup kind, nothing returned,
nothing used) carry it as the database's default too: a COPY that leaves them out (as the
statistics benchmark's does) writes valid rows instead of breaking on NOT NULL."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone

from dutyfree.db import copy_rows
from quotas.models import Programme, QuotaAccount, Shopper
from shops.models import Sale, SaleLine
from shops.pos import checkout
from tests.support import basket, product, terminal

pytestmark = pytest.mark.django_db


def test_a_copied_sale_line_without_kind_or_returns_gets_the_defaults() -> None:
    product("TEA-1", "tea", "50.00")
    term, _ = terminal()
    checkout.sale_commit(
        terminal=term, idempotency_key="k1", fingerprint="f1", basket=basket(("TEA-1", 1)),
        now=timezone.now(),
    )  # fmt: skip
    sale = Sale.objects.get()

    copy_rows(
        SaleLine,
        ("sale", "line_no", "sku", "category_code", "quantity", "unit_price", "amount", "pieces"),
        f"{sale.pk}\t2\tTEA-2\ttea\t1\t50.00\t50.00\t1\n",
    )

    line = SaleLine.objects.get(sale=sale, line_no=2)
    assert (line.immediate_kind, line.returned_quantity) == ("", 0)


def test_a_copied_account_without_used_has_used_nothing() -> None:
    product("TEA-1", "tea", "50.00")
    term, _ = terminal()
    checkout.sale_commit(
        terminal=term, idempotency_key="k1", fingerprint="f1", basket=basket(("TEA-1", 1)),
        now=timezone.now(),
    )  # fmt: skip
    shopper = Shopper.objects.get()
    programme = Programme.objects.get()

    copy_rows(
        QuotaAccount,
        ("shopper", "programme", "year", "limit", "updated_at"),
        f"{shopper.pk}\t{programme.pk}\t2099\t100000.00\t{timezone.now().isoformat()}\n",
    )

    assert QuotaAccount.objects.get(year=2099).used == Decimal("0.00")
