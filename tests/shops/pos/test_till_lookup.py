"""A till finds things: ``GET /api/v1/products`` (by SKU, barcode or words) and
``GET /api/v1/sales`` (by receipt number or local day, the terminal's own store), both in
cursor pages ``{"results": [...], "next": url | null}`` (../shared/API.md, Terminals)."""

from __future__ import annotations

import base64
from datetime import timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.utils import timezone

from quotas import services as quota_services
from quotas.selectors import policy_in_force_cached
from shops.models import Product
from shops.pos import returns
from tests.conftest import local
from tests.support import product, terminal
from tests.support import sell as support_sell
from tests.support.shop import resident_id, shopper

pytestmark = pytest.mark.django_db

PRODUCTS, SALES = "/api/v1/products", "/api/v1/sales"


@pytest.fixture
def till(client: Client):
    term, key = terminal("SYA-HTB")
    headers = {"authorization": f"Bearer {key}"}

    def get(url: str, params: dict[str, Any] | None = None, status: int = 200, **extra) -> dict:
        response = client.get(url, params or {}, headers={**headers, **extra})
        assert response.status_code == status, response.content
        if status >= 400:
            assert response["Content-Type"] == "application/problem+json"
        return response.json()

    get.terminal = term  # type: ignore[attr-defined]
    return get


def follow(get, url: str, params: dict[str, Any]) -> list[list[dict]]:
    """Every page of a list, following next."""
    pages = [get(url, params)]
    while pages[-1]["next"]:
        parts = urlsplit(pages[-1]["next"])
        assert parts.path == url
        pages.append(get(f"{url}?{parts.query}"))
        assert len(pages) < 50
    return [page["results"] for page in pages]


def cursor(text: str) -> str:
    """A cursor as DRF writes one (base64 of ``o=…&r=…&p=…``), but not given by the list."""
    return base64.b64encode(text.encode()).decode()


NOT_A_CURSOR = {
    "en": "Not a cursor from this list; follow next as given.",
    "zh-hans": "不是本列表给出的游标：请按 next 给出的链接翻页。",
}


# --- Products --------------------------------------------------------------------------------
def named(sku: str, category: str, price: str, zh: str, en: str, brand: str, **kw) -> Product:
    return Product.objects.create(
        sku=sku,
        category_code=category,
        retail_price=Decimal(price),
        name_zh=zh,
        name_en=en,
        brand=brand,
        **kw,
    )


@pytest.fixture
def shelf() -> None:
    named("LANCOME-ABS-50ML", "cosmetics", "1600.00", "兰蔻菁纯面霜", "Absolue Cream 50 ml",
          "Lancôme", volume_ml=50, barcode="3614272049253")  # fmt: skip
    named("LANCOME-GEN-30ML", "cosmetics", "980.00", "兰蔻小黑瓶精华", "Génifique Serum 30 ml",
          "Lancôme", volume_ml=30)  # fmt: skip
    named("PENFOLDS-389", "alcohol", "1200.00", "奔富389红葡萄酒", "Bin 389 Cabernet Shiraz",
          "Penfolds", volume_ml=750)  # fmt: skip
    named("LANCOME-OLD", "cosmetics", "500.00", "旧款", "Old", "Lancôme", active=False)
    product("PET-BED", "not_a_category", "499.00")


def skus(page: dict) -> list[str]:
    return [item["sku"] for item in page["results"]]


class TestProducts:
    def test_by_skus(self, till, shelf) -> None:
        page = till(PRODUCTS, {"sku": "PENFOLDS-389, LANCOME-ABS-50ML,NOPE"})
        assert skus(page) == ["LANCOME-ABS-50ML", "PENFOLDS-389"]
        assert page["next"] is None
        assert page["results"][0] == {
            "sku": "LANCOME-ABS-50ML",
            "barcode": "3614272049253",
            "name_zh": "兰蔻菁纯面霜",
            "name_en": "Absolue Cream 50 ml",
            "brand": "Lancôme",
            "category": {
                "code": "cosmetics",
                "name": "化妆品",
                "name_zh": "化妆品",
                "name_en": "Cosmetics",
            },
            "retail_price": "1600.00",
            "volume_ml": 50,
            "pieces": 1,
            "immediate_kind": None,
        }
        assert page["results"][1]["barcode"] is None  # none recorded

    def test_by_barcode(self, till, shelf) -> None:
        assert skus(till(PRODUCTS, {"barcode": "3614272049253"})) == ["LANCOME-ABS-50ML"]
        assert till(PRODUCTS, {"barcode": "3614272049254"}) == {"results": [], "next": None}

    @pytest.mark.parametrize(
        ("q", "found"),
        [
            ("lancôme", ["LANCOME-ABS-50ML", "LANCOME-GEN-30ML"]),
            ("LANCÔME cream", ["LANCOME-ABS-50ML"]),  # every word must match
            ("兰蔻 精华", ["LANCOME-GEN-30ML"]),
            ("penfolds-389", ["PENFOLDS-389"]),  # the SKU
            ("  shiraz   bin ", ["PENFOLDS-389"]),
            ("lancome", ["LANCOME-ABS-50ML", "LANCOME-GEN-30ML"]),  # in the SKU, any case
            ("lancome whisky", []),
            ("100%", []),  # LIKE wildcards are text
            ("_", []),
        ],
    )
    def test_by_words(self, till, shelf, q: str, found: list[str]) -> None:
        assert skus(till(PRODUCTS, {"q": q})) == found

    def test_inactive_products_are_not_found(self, till, shelf) -> None:
        assert till(PRODUCTS, {"sku": "LANCOME-OLD"})["results"] == []

    def test_a_category_the_policy_does_not_list_is_named_by_its_code(self, till, shelf) -> None:
        (item,) = till(PRODUCTS, {"sku": "PET-BED"})["results"]
        assert item["category"] == {
            "code": "not_a_category",
            "name": "not_a_category",
            "name_zh": "not_a_category",
            "name_en": "not_a_category",
        }

    def test_criteria_combine(self, till, shelf) -> None:
        assert skus(till(PRODUCTS, {"q": "lancôme", "sku": "LANCOME-GEN-30ML,PENFOLDS-389"})) == [
            "LANCOME-GEN-30ML"
        ]

    def test_pages_cover_the_catalogue_once(self, till, django_assert_max_num_queries) -> None:
        Product.objects.bulk_create(
            Product(
                sku=f"TEA-{n:03d}",
                name_zh=f"茶{n}",
                name_en=f"Tea {n}",
                category_code="tea",
                retail_price=Decimal("10.00"),
            )
            for n in range(120)
        )
        policy_in_force_cached(at=timezone.now())  # warm, as in a running process
        with django_assert_max_num_queries(3):  # the terminal, the page
            first = till(PRODUCTS, {"q": "tea", "page_size": 50})
        assert len(first["results"]) == 50
        pages = follow(till, PRODUCTS, {"q": "tea", "page_size": 50})
        assert [len(page) for page in pages] == [50, 50, 20]
        found = [item["sku"] for page in pages for item in page]
        assert found == sorted(found) == [f"TEA-{n:03d}" for n in range(120)]

    @pytest.mark.parametrize(
        ("params", "field"),
        [
            ({"sku": ""}, "sku"),
            ({"sku": " , "}, "sku"),
            ({"sku": "A B"}, "sku"),
            ({"sku": ",".join(f"S{n}" for n in range(101))}, "sku"),
            ({"barcode": "36 14"}, "barcode"),
            ({"barcode": "x" * 65}, "barcode"),
            ({"q": "   "}, "q"),
            ({"q": "a " * 11}, "q"),
            ({"q": "x" * 201}, "q"),
            ({"q": "tea\x00"}, "q"),
            ({"page_size": 0}, "page_size"),
            ({"page_size": 201}, "page_size"),
            ({"page_size": "ten"}, "page_size"),
            ({"cursor": "not-a-cursor"}, "cursor"),
            ({"name": "tea"}, "name"),
        ],
    )
    def test_bad_parameters_are_400_naming_them(self, till, params: dict, field: str) -> None:
        problem = till(PRODUCTS, params, status=400)
        assert problem["code"] == "invalid_input"
        assert list(problem["errors"]) == [field]

    @pytest.mark.parametrize("position", ["\x00", "A B", "-LEADING-DASH", "x" * 65])
    def test_a_cursor_whose_position_is_not_a_sku_is_400(self, till, shelf, position) -> None:
        problem = till(PRODUCTS, {"q": "lancome", "cursor": cursor(f"p={position}")}, status=400)
        assert problem["errors"] == {"cursor": [NOT_A_CURSOR["zh-hans"]]}

    def test_without_credentials_401(self, client: Client) -> None:
        assert client.get(PRODUCTS, {"q": "tea"}).status_code == 401


# --- Sales -----------------------------------------------------------------------------------
def sell(term, *lines, now=None, number: int = 1, **kwargs) -> dict:
    """The answer of ``support.sell``: the shopper ``number``, departing two days later."""
    return support_sell(
        term,
        *lines,
        at=now or timezone.now(),
        number=number,
        departs_after=timedelta(days=2),
        **kwargs,
    ).body


@pytest.fixture
def lipstick() -> None:
    product("LIP", "cosmetics", "320.00")


class TestSales:
    def test_by_day_newest_first_own_store_only(self, till, lipstick) -> None:
        term = till.terminal
        other, _ = terminal("HAK-IDFC")
        # On the hour, 30 to 90 minutes ago: the three sales a few minutes later share its local
        # day whatever the time of the run (a start 30 minutes before 00:10 was yesterday's).
        start = timezone.localtime(timezone.now() - timedelta(minutes=30)).replace(
            minute=0, second=0, microsecond=0
        )
        day = start.date()
        made = [sell(term, ("LIP", 1), now=start + timedelta(minutes=n), number=n) for n in (1, 2)]
        sell(other, ("LIP", 1), now=start + timedelta(minutes=3), number=3)
        page = till(SALES, {"date": day.isoformat()})
        assert [sale["id"] for sale in page["results"]] == [made[1]["id"], made[0]["id"]]
        assert page["next"] is None
        first = page["results"][1]
        assert first["receipt_no"] == made[0]["receipt_no"]
        assert first["status"] == "completed"
        assert first["lines"][0]["returned_quantity"] == 0

    def test_the_day_is_the_local_day(self, till, lipstick) -> None:
        term = till.terminal
        # 00:30 in Shanghai on 1 January is 16:30 UTC on 31 December.
        new_year = sell(term, ("LIP", 1), now=local(2026, 1, 1, 0, 30))
        eve = sell(term, ("LIP", 1), now=local(2025, 12, 31, 23, 50), number=2)
        assert [s["id"] for s in till(SALES, {"date": "2026-01-01"})["results"]] == [new_year["id"]]
        assert [s["id"] for s in till(SALES, {"date": "2025-12-31"})["results"]] == [eve["id"]]

    def test_by_receipt_number(self, till, lipstick) -> None:
        term = till.terminal
        mine = sell(term, ("LIP", 2))
        other, _ = terminal("HAK-IDFC")
        theirs = sell(other, ("LIP", 1), number=2)
        (found,) = till(SALES, {"receipt_no": mine["receipt_no"]})["results"]
        assert found["id"] == mine["id"]
        # Another store's receipt is not shown: the same answer as a receipt nobody has.
        assert till(SALES, {"receipt_no": theirs["receipt_no"]}) == {"results": [], "next": None}
        assert till(SALES, {"receipt_no": "NOPE"}) == {"results": [], "next": None}

    def test_each_sale_shows_the_account_now(self, till, lipstick) -> None:
        term = till.terminal
        first = sell(term, ("LIP", 2))
        second = sell(term, ("LIP", 1))
        returns.sale_void(terminal=term, sale_id=second["id"], now=timezone.now())
        (found,) = till(SALES, {"receipt_no": first["receipt_no"]})["results"]
        assert first["quota"]["used"] == "640.00"
        assert found["quota"]["used"] == "640.00"
        (voided,) = till(SALES, {"receipt_no": second["receipt_no"]})["results"]
        assert (voided["status"], voided["quota"]["used"]) == ("voided", "640.00")

    def test_each_sale_shows_its_trip_as_it_stands(self, till, lipstick) -> None:
        """What a pickup counter matches a slip to: the flight and when it leaves; once the
        shopper has left, when; and nothing for a resident's purchase without a trip."""
        term = till.terminal
        now = timezone.now()
        leaves = now - timedelta(hours=1)
        made = support_sell(
            term, ("LIP", 1), at=now - timedelta(hours=3), number=5, departs_at=leaves
        ).body
        (found,) = till(SALES, {"receipt_no": made["receipt_no"]})["results"]
        assert found["trip"] == {
            "mode": "air",
            "kind": "domestic",
            "carrier_ref": "HU7181",
            "departs_at": timezone.localtime(leaves).isoformat(),
            "departed_at": None,
        }
        departed = leaves + timedelta(minutes=20)
        quota_services.departure_record(
            doc_type="resident_id",
            country="CHN",
            number=resident_id(5),
            carrier_ref="HU 7181",
            departed_at=departed,
            now=now,
        )
        again = till(f"{SALES}/{made['id']}")
        assert again["trip"]["departed_at"] == timezone.localtime(departed).isoformat()
        # The same shopper, a resident back from that trip: an immediate pickup without one.
        resident = shopper(resident_id(5), resident=True)
        product("LIP-NOW", "cosmetics", "320.00", immediate_kind="cosmetics")
        tripless = support_sell(
            term, ("LIP-NOW", 1), who=resident, no_trip=True, pickup="immediate"
        ).body
        (found,) = till(SALES, {"receipt_no": tripless["receipt_no"]})["results"]
        assert found["trip"] is None

    def test_pages_newest_first_and_a_bounded_number_of_queries(
        self, till, lipstick, django_assert_max_num_queries
    ) -> None:
        term = till.terminal
        start = timezone.now() - timedelta(hours=2)
        ids = [
            sell(term, ("LIP", 1), now=start + timedelta(minutes=n), number=n)["id"]
            for n in range(1, 8)
        ]
        policy_in_force_cached(at=timezone.now())
        day = timezone.localdate(start).isoformat()
        # terminal, sales, lines, returns, accounts, trips, and customs (one: no channel)
        with django_assert_max_num_queries(7):
            one = till(SALES, {"date": day, "page_size": 1})
        with django_assert_max_num_queries(7):
            many = till(SALES, {"date": day, "page_size": 7})
        assert len(one["results"]) == 1
        assert len(many["results"]) == 7
        pages = follow(till, SALES, {"date": day, "page_size": 3})
        assert [sale["id"] for page in pages for sale in page] == ids[::-1]

    @pytest.mark.parametrize(
        ("params", "field"),
        [
            ({}, "receipt_no"),  # one of the two is needed
            ({"date": "2026-02-30"}, "date"),
            ({"date": "yesterday"}, "date"),
            ({"receipt_no": "with space"}, "receipt_no"),
            ({"receipt_no": "R" * 41}, "receipt_no"),
            ({"date": "2026-01-01", "store": "HAK-IDFC"}, "store"),
            ({"date": "2026-01-01", "cursor": "bad"}, "cursor"),
        ],
    )
    def test_bad_parameters_are_400_naming_them(self, till, params: dict, field: str) -> None:
        problem = till(SALES, params, status=400)
        assert list(problem["errors"]) == [field]

    @pytest.mark.parametrize(
        "text",
        [
            "p=garbage",
            "p=",
            "p=0001-01-01",  # a day, not an instant
            "p=2026-01-01 10:00:00",  # no offset: DRF writes every position with one
            "p=2026-02-30 10:00:00+00:00",  # no such day
            "r=1&p=not a time",
            "o=2&p=%00",
        ],
    )
    @pytest.mark.parametrize("language", ["en", "zh-hans"])
    def test_a_cursor_whose_position_is_not_a_time_is_400_naming_it(
        self, till, lipstick, text: str, language: str
    ) -> None:
        params = {"date": "2026-01-01", "cursor": cursor(text)}
        problem = till(SALES, params, status=400, **{"accept-language": language})
        assert problem["code"] == "invalid_input"
        assert problem["errors"] == {"cursor": [NOT_A_CURSOR[language]]}

    @pytest.mark.parametrize(
        "text", ["p=0001-01-01 00:00:00%2B14:00", "r=1&p=9999-12-31 23:59:59-14:00"]
    )
    def test_a_cursor_at_the_ends_of_the_calendar_is_an_empty_page(
        self, till, lipstick, text: str
    ) -> None:
        sell(till.terminal, ("LIP", 1))
        day = timezone.localdate().isoformat()
        assert till(SALES, {"date": day, "cursor": cursor(text)})["results"] == []

    def test_posting_a_sale_still_works(self, client: Client, till, lipstick) -> None:
        sale = sell(till.terminal, ("LIP", 1))
        assert till(f"{SALES}/{sale['id']}")["id"] == sale["id"]
