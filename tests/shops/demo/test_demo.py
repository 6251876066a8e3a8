"""The demo data a customs officer would believe (``seed_demo``, shops/demo/seed.py).

- The books of a freshly seeded database check clean: no difference **and no note** (before,
  imported history took trips over their alcohol and cosmetics limits).
- The catalogue: real-looking names, SKUs that carry their whole category code (never cut
  mid-word), every category verified and duty-free under the policy in force (no placeholder
  such as serial 34–38, "（待核实）").
- Every demo sale, judged again by :mod:`quotas.rules` from what the database holds, in the
  order the sales happened, is allowed.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from datetime import date, datetime
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from dutyfree import money
from quotas import rules
from quotas.choices import Verification
from quotas.models import Policy, Shopper, Trip
from quotas.rules import LOCAL_TZ
from quotas.selectors import policy_by_id_cached, policy_in_force
from shops.demo.seed import demo_products, resident_id_number
from shops.models import Product, Sale, SaleLine
from shops.reporting import audit as books

pytestmark = pytest.mark.django_db

# A smaller history than `make run`'s (761 days × 30 receipts), over both policies, with few
# shoppers so that they come back and spend more of their year's quota.
HISTORY = ("--days", "800", "--per-day", "4", "--shoppers", "300")
# Named by the README's curl and the demo shopper's baskets.
KNOWN_SKUS = (
    "COSMETICS-0101",
    "COSMETICS-0201",
    "COSMETICS-0301",
    "COSMETICS-0401",
    "ALCOHOL-0103",
    "WATCHES-0204",
)


@pytest.fixture
def seeded(settings, monkeypatch) -> str:
    settings.DEBUG = True
    monkeypatch.delenv("DEMO_ADMIN_PASSWORD", raising=False)
    out = StringIO()
    call_command("seed_demo", *HISTORY, stdout=out)
    return out.getvalue()


class TestBooks:
    def test_a_freshly_seeded_database_has_no_difference_and_no_note(self, seeded: str) -> None:
        report = books.check_books()

        assert report.sales > 2000
        assert report.differences == []
        assert report.notes == []

    def test_a_second_seed_changes_nothing_and_stays_clean(self, seeded: str, settings) -> None:
        sales = Sale.objects.count()
        trips = Trip.objects.count()
        out = StringIO()
        call_command("seed_demo", *HISTORY, stdout=out)

        assert "0 receipts imported" in out.getvalue()
        assert (Sale.objects.count(), Trip.objects.count()) == (sales, trips)
        report = books.check_books()
        assert (report.differences, report.notes) == ([], [])


class TestCatalogue:
    def test_every_product_is_in_a_verified_duty_free_category_in_force(self) -> None:
        policy = policy_in_force(at=timezone.now())
        categories = {category.code: category for category in policy.categories.all()}
        products = demo_products()

        assert len(products) >= 100
        for product in products:
            category = categories.get(product.category_code)
            assert category is not None, product.sku
            assert category.verified != Verification.NO, (product.sku, category.code)
            assert "待核实" not in category.name_zh, product.sku
        placeholders = {code for code, c in categories.items() if c.verified == Verification.NO}
        assert placeholders >= {f"unverified_{n}" for n in range(34, 39)}
        assert not placeholders & {product.category_code for product in products}

    def test_skus_carry_their_whole_category_code(self) -> None:
        for product in demo_products():
            prefix, _, serial = product.sku.rpartition("-")
            assert prefix == product.category_code.upper(), product.sku
            assert re.fullmatch(r"\d{4}", serial), product.sku

    def test_names_are_a_brand_and_what_it_makes(self) -> None:
        products = demo_products()
        assert len({p.name_en for p in products}) == len(products)
        assert len({p.name_zh for p in products}) == len(products)
        for product in products:
            assert product.brand, product.sku
            words = [w for w in re.split(r"[\s().&]+", product.brand.lower()) if len(w) >= 2]
            assert any(word in product.name_en.lower() for word in words), product.sku
            assert re.search(r"[\u4e00-\u9fff]", product.name_zh), product.sku
            assert product.retail_price == product.retail_price.quantize(Decimal("0.01"))

    def test_a_volume_or_a_set_in_the_name_is_what_the_limits_count(self) -> None:
        for product in demo_products():
            if product.category_code == "alcohol":
                assert product.volume_ml, product.sku
                assert f"{product.volume_ml} ml" in product.name_en, product.sku
                assert f"{product.volume_ml}ml" in product.name_zh, product.sku
            else:
                assert product.volume_ml is None, product.sku
            found = re.search(r"set of (\d+)", product.name_en)
            assert product.pieces == (int(found.group(1)) if found else 1), product.sku

    def test_the_skus_the_readme_and_the_demo_shopper_use_exist(self, seeded: str) -> None:
        assert set(KNOWN_SKUS) <= set(Product.objects.values_list("sku", flat=True))


def test_identity_card_numbers_carry_a_valid_check_character() -> None:
    # The two examples usually quoted for GB 11643's check character.
    assert resident_id_number("11010519491231002") == "11010519491231002X"
    assert resident_id_number("44052418800101001") == "440524188001010014"


class TestEverySaleAllowed:
    def test_every_demo_sale_judged_again_is_allowed(self, seeded: str) -> None:
        departures: dict[int, list[datetime]] = defaultdict(list)
        for shopper_id, departed_at in Trip.objects.filter(departed_at__isnull=False).values_list(
            "shopper_id", "departed_at"
        ):
            departures[shopper_id].append(departed_at)
        shoppers = {s.pk: s for s in Shopper.objects.all()}
        trips = {t.pk: t for t in Trip.objects.all()}
        lines: dict[int, list[SaleLine]] = defaultdict(list)
        for line in SaleLine.objects.order_by("sale_id", "line_no"):
            lines[line.sale_id].append(line)
        spent: dict[int, Decimal] = defaultdict(lambda: money.ZERO)
        held: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        picked: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        kinds: set[str] = set()
        policies = set()

        sales = Sale.objects.order_by("sold_at", "id")
        assert sales.count() > 2000
        for sale in sales:
            policy = policy_by_id_cached(sale.policy_id).rules
            policies.add(sale.policy_id)
            kinds.add(sale.traveller_kind)
            shopper = shoppers[sale.shopper_id]
            year_start = datetime(sale.local_date.year, 1, 1, tzinfo=LOCAL_TZ)
            trip = trips.get(sale.trip_id) if sale.trip_id else None
            basket = [
                rules.BasketLine(
                    line.sku,
                    line.quantity,
                    rules.ProductFacts(
                        sku=line.sku,
                        category_code=line.category_code,
                        unit_price=line.unit_price,
                        volume_ml=line.volume_ml,
                        pieces=line.pieces,
                        immediate_kind=line.immediate_kind or None,
                    ),
                )
                for line in lines[sale.pk]
            ]
            verdict = rules.judge_basket(
                policy=policy,
                shopper=rules.ShopperFacts(
                    # The row keeps the year only: the last day of it gives the youngest age
                    # the shopper can have had, so a sale allowed with it was allowed.
                    birth_date=date(shopper.birth_year, 12, 31),
                    hainan_resident=shopper.hainan_resident,
                    banned_until=None,
                    outbound_record_this_year=any(
                        year_start <= left < sale.sold_at for left in departures[shopper.pk]
                    ),
                ),
                trip=rules.TripFacts(
                    kind=trip.kind,
                    mode=trip.mode,
                    departs_at=trip.departs_at,
                    departed_at=(
                        trip.departed_at
                        if trip.departed_at and trip.departed_at <= sale.sold_at
                        else None
                    ),
                )
                if trip
                else None,
                pickup=sale.pickup,
                lines=basket,
                usage=rules.Usage(
                    annual_used=spent[sale.account_id],
                    trip_used=dict(held[sale.trip_id]) if trip else {},
                    immediate_used=dict(picked[sale.trip_id]) if trip else {},
                ),
                at=sale.sold_at,
            )

            assert verdict.allowed, (sale.receipt_no, [v.code for v in verdict.violations])
            assert verdict.total == sale.total, sale.receipt_no
            spent[sale.account_id] += sale.total
            if trip:
                for limit in verdict.trip_limits:
                    held[sale.trip_id][limit.category.code] += limit.requested
                for cap in verdict.immediate_limits:
                    picked[sale.trip_id][cap.kind.code] += cap.requested
        # Both policies, and every way of qualifying: domestic and outbound trips, residents
        # buying without a trip on their off-island record.
        assert policies == set(
            Policy.objects.filter(status="published").values_list("pk", flat=True)
        )
        assert kinds == {"domestic", "outbound", "resident"}


# Committed for real, so each sale's tasks run inside the command, as under `make run`; with the
# shipped rows (policies, stores) restored after the flush, as later tests expect them.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_seed_demo_prints_its_own_lines_only(settings, monkeypatch, caplog) -> None:
    """With no broker the tasks a sale queues run in the command's process; Celery's INFO line
    for each ("Task … succeeded") is not the command's output."""
    from dutyfree.celery import app

    settings.DEBUG = True
    monkeypatch.delenv("DEMO_ADMIN_PASSWORD", raising=False)
    monkeypatch.setitem(app.conf, "task_always_eager", True)
    settings.STATS_REFRESH_ON_COMMIT = True
    caplog.set_level(logging.INFO)
    call_command("seed_demo", "--days", "2", "--per-day", "2", "--shoppers", "5", stdout=StringIO())
    assert [r.getMessage() for r in caplog.records if r.name.startswith("celery")] == []
