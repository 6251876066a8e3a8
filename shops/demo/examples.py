"""The schema's examples: requests that succeed as they are sent against the demo data
(``manage.py seed_demo``) and the answers they get — the demo shopper, the demo catalogue's
SKUs, sale 1 (the demo shopper's first purchase, made at the demo terminal's store), a departure
three days ahead. Times are relative to the moment the document is generated, so a trip is
always ahead and a departure behind. Each view declares its own (dutyfree.schema.demo_answer
and friends) with :func:`demo`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _

from quotas.examples import shipped_immediate_kinds, shipped_policy, shipped_policy_names
from quotas.rules import LOCAL_TZ
from shops.demo.seed import _DEMO_BASKETS, DEMO_SHOPPER, demo_products

DEMO_TERMINAL_STORE = "SYA-HTB"  # seed_demo's terminal demo-1
DEMO_SALE_ID = 1  # the demo shopper's first purchase: the first sale of a fresh demo database
DEMO_FLIGHT = "HU7181"  # the demo shopper's flight (shops.demo.seed.load_demo_shopper)
DEMO_DAYS_AHEAD = 3
SALE_KEY = "4f7c1d9e-2b3a-4c5d-8e9f-0a1b2c3d4e5f"
RETURN_KEY = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"


def _money(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01'))}"


class Examples:
    """The examples, consistent with one another and with the demo data at ``now``."""

    def __init__(self, *, now: datetime) -> None:
        self.now = now.astimezone(LOCAL_TZ).replace(microsecond=0)
        self.categories = {c["code"]: c for c in shipped_policy()["categories"]}
        self.products = {
            product.sku: product
            for product in demo_products(
                codes=set(self.categories),
                kinds={kind.code: kind.category_code for kind in shipped_immediate_kinds()},
            )
        }
        store, pickup, lines = _DEMO_BASKETS[0]
        self.store, self.pickup, self.lines = store, pickup, list(lines)
        self.departs_at = (self.now + timedelta(days=DEMO_DAYS_AHEAD)).replace(
            hour=10, minute=30, second=0
        )
        number = DEMO_SHOPPER["number"]
        self.document = {
            "type": DEMO_SHOPPER["doc_type"],
            "number": number,
            "country": DEMO_SHOPPER["country"],
        }
        # A resident identity number holds the birth date (digits 7 to 14).
        self.birth_date = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
        # What the demo shopper bought (seed_demo): every demo basket, on the demo trip.
        self.demo_used = sum(
            (self._amount(sku, quantity) for _, _, basket in _DEMO_BASKETS
             for sku, quantity in basket),
            Decimal(0),
        )  # fmt: skip
        self.limit = Decimal(shipped_policy()["annual_limit"])

    # -- pieces
    def _amount(self, sku: str, quantity: int) -> Decimal:
        return self.products[sku].retail_price * quantity

    def _category(self, sku: str) -> dict[str, str]:
        category = self.categories[self.products[sku].category_code]
        return {
            "code": category["code"],
            "name": category["name_zh"],
            "name_zh": category["name_zh"],
            "name_en": category["name_en"],
        }

    @property
    def total(self) -> Decimal:
        return sum((self._amount(sku, quantity) for sku, quantity in self.lines), Decimal(0))

    def quota(self, used: Decimal) -> dict[str, Any]:
        return {
            "year": self.now.year,
            "limit": _money(self.limit),
            "used": _money(used),
            "remaining": _money(self.limit - used),
        }

    def shopper(self) -> dict[str, Any]:
        return {
            "document": dict(self.document),
            "name": DEMO_SHOPPER["name"],
            "birth_date": self.birth_date.isoformat(),
            "hainan_resident": False,
        }

    def basket(self) -> dict[str, Any]:
        return {
            "shopper": self.shopper(),
            "trip": {
                "mode": "air",
                "kind": "domestic",
                "carrier_ref": DEMO_FLIGHT,
                "departs_at": self.departs_at.isoformat(),
            },
            "pickup": self.pickup,
            "lines": [{"sku": sku, "quantity": quantity} for sku, quantity in self.lines],
        }

    def _counted(self, sku: str, quantity: int, unit: str) -> int:
        product = self.products[sku]
        return quantity * (product.volume_ml or 0 if unit == "ml" else product.pieces)

    def trip_limits(self) -> list[dict[str, Any]]:
        """Per-trip limits as a quote answers them: every limited category of the policy, with
        what the demo shopper's purchases for the demo trip already hold."""
        bought = [line for _, _, basket in _DEMO_BASKETS for line in basket]
        rows = []
        for category in sorted(self.categories.values(), key=lambda c: c["number"]):
            per_trip = category["per_trip_limit"]
            if not per_trip:
                continue
            code, unit = category["code"], per_trip["unit"]

            def counted(lines: list[tuple[str, int]], code: str = code, unit: str = unit) -> int:
                return sum(
                    self._counted(sku, quantity, unit)
                    for sku, quantity in lines
                    if self.products[sku].category_code == code
                )

            used, requested = counted(bought), counted(self.lines)
            rows.append(
                {
                    "category": code,
                    "unit": unit,
                    "limit": per_trip["value"],
                    "used": used,
                    "requested": requested,
                    "remaining_after": per_trip["value"] - used - requested,
                }
            )
        return rows

    def open_trip_immediate(self) -> list[dict[str, Any]]:
        """The demo trip's immediate-pickup allowance, whole: the demo shopper's purchases are
        all picked up at departure (the examples' test replays them against the demo data)."""
        return [
            {
                "kind": kind.code,
                "name": kind.name_zh,
                "unit": kind.unit,
                "unit_name": kind.unit_zh,
                "limit": kind.per_trip,
                "per_variety": kind.per_variety,
                "used": 0,
                "remaining": kind.per_trip,
            }
            for kind in shipped_immediate_kinds()
        ]

    def quote_answer(self) -> dict[str, Any]:
        policy = shipped_policy()
        quota = self.quota(self.demo_used)
        quota["remaining_after"] = _money(self.limit - self.demo_used - self.total)
        return {
            "allowed": True,
            "policy": {
                "id": 2,
                **shipped_policy_names(),
                "effective_from": policy["effective_from"],
            },
            "total": _money(self.total),
            "lines": [
                {
                    "sku": sku,
                    "category": self._category(sku),
                    "quantity": quantity,
                    "unit_price": _money(self.products[sku].retail_price),
                    "amount": _money(self._amount(sku, quantity)),
                    "allowed": True,
                    "violations": [],
                }
                for sku, quantity in self.lines
            ],
            "violations": [],
            "quota": quota,
            "trip_limits": self.trip_limits(),
        }

    def _sale_lines(self, first_id: int) -> list[dict[str, Any]]:
        return [
            {
                "id": first_id + number,
                "sku": sku,
                "category": self._category(sku),
                "quantity": quantity,
                "unit_price": _money(self.products[sku].retail_price),
                "amount": _money(self._amount(sku, quantity)),
            }
            for number, (sku, quantity) in enumerate(self.lines)
        ]

    def sale_answer(self) -> dict[str, Any]:
        """The answer to the example sale: the demo shopper's fourth purchase."""
        lines_before = sum(len(basket) for _, _, basket in _DEMO_BASKETS)
        return {
            "id": len(_DEMO_BASKETS) + 1,
            "receipt_no": f"{DEMO_TERMINAL_STORE}-{self.now:%Y%m%d-%H%M%S}-K7Q2MX",
            "store": DEMO_TERMINAL_STORE,
            "terminal": "demo-1",
            "training": False,
            "sold_at": self.now.isoformat(),
            "status": "completed",
            "pickup": self.pickup,
            "total": _money(self.total),
            "lines": self._sale_lines(lines_before + 1),
            "quota": self.quota(self.demo_used + self.total),
        }

    @property
    def first_sold_at(self) -> datetime:
        """When sale 1 was made: ninety minutes before the demo's now."""
        return self.now - timedelta(minutes=90)

    def sale_one(self, **changes: Any) -> dict[str, Any]:
        """Sale 1 (the demo shopper's first purchase) as it stands, after ``changes``."""
        sold_at = self.first_sold_at
        used = self.demo_used - changes.pop("credited", Decimal(0))
        lines = self._sale_lines(1)
        for line in lines:
            line["returned_quantity"] = 0
        answer = {
            "id": DEMO_SALE_ID,
            "receipt_no": f"{self.store}-{sold_at:%Y%m%d-%H%M%S}-ACMN8J",
            "store": self.store,
            "terminal": "demo-shopper",
            "training": False,
            "sold_at": sold_at.isoformat(),
            "status": "completed",
            "pickup": self.pickup,
            "total": _money(self.total),
            "lines": lines,
            "quota": self.quota(used),
            "returned_amount": "0.00",
            "picked_up_at": None,
            "voided_at": None,
            "customs": {"status": "not_configured", "at": None},  # the demo has no customs channel
            "trip": {**self.basket()["trip"], "departed_at": None},
            "returns": [],
        }
        answer.update(changes)
        return answer

    def return_request(self) -> dict[str, Any]:
        sku, _quantity = self.lines[0]
        return {"lines": [{"line": 1, "quantity": 1}], "reason": f"{sku}: wrong shade"}

    def return_answer(self) -> dict[str, Any]:
        sku, _quantity = self.lines[0]
        amount = self._amount(sku, 1)
        return {
            "id": 1,
            "sale": DEMO_SALE_ID,
            "amount": _money(amount),
            "reason": f"{sku}: wrong shade",
            "created_at": self.now.isoformat(),
            "lines": [{"line": 1, "sku": sku, "quantity": 1, "amount": _money(amount)}],
            "quota": self.quota(self.demo_used - amount),
        }

    @property
    def departed_at(self) -> datetime:
        return self.now.replace(second=0) - timedelta(minutes=5)

    def departure_request(self) -> dict[str, Any]:
        return {
            "document": dict(self.document),
            "carrier_ref": DEMO_FLIGHT,
            "departed_at": self.departed_at.isoformat(),
        }

    def departure_answer(self) -> dict[str, Any]:
        """The shopper's trip on that flight leaves in three days: this departure closes
        none (and the answer says nothing of that trip)."""
        return {
            "matched": False,
            "reason": "no_open_trip_with_that_carrier_ref",
            "message": _(
                "No open trip %(carrier_ref)s scheduled within 12 hours of this departure: "
                "nothing closed."
            )
            % {"carrier_ref": DEMO_FLIGHT},
            "carrier_ref": DEMO_FLIGHT,
            "departed_at": self.departed_at.isoformat(),
            "closed_trip": None,
        }

    def lookup_request(self) -> dict[str, Any]:
        return {"document": dict(self.document), "name": DEMO_SHOPPER["name"]}

    def lookup_answer(self) -> dict[str, Any]:
        sold_at = self.first_sold_at
        answer = self.quota(self.demo_used)
        stores = json.loads(
            (Path(__file__).resolve().parents[1] / "data" / "stores.json").read_text("utf-8")
        )
        (store_name,) = (s["name_zh"] for s in stores["stores"] if s["code"] == self.store)
        answer.update(
            banned_until=None,
            document={
                "type": self.document["type"],
                "masked": "****" + self.document["number"][-4:],
            },
            purchases=[
                {
                    "receipt_no": f"{self.store}-{sold_at:%Y%m%d-%H%M%S}-ACMN8J",
                    "sold_at": sold_at.isoformat(),
                    "store": self.store,
                    "store_name": store_name,
                    "amount": _money(self.total),
                    "returned": "0.00",
                    "counted": _money(self.total),
                    "status": "completed",
                    "pickup": self.pickup,
                }
            ],
            open_trips=[
                {
                    "carrier_ref": DEMO_FLIGHT,
                    "kind": "domestic",
                    "mode": "air",
                    "departs_at": self.departs_at.isoformat(),
                    "trip_limits": [
                        {
                            "category": row["category"],
                            "name": self.categories[row["category"]]["name_zh"],
                            "unit": row["unit"],
                            "limit": row["limit"],
                            "used": row["used"],
                            "remaining": row["limit"] - row["used"],
                        }
                        for row in self.trip_limits()
                    ],
                    "immediate_limits": self.open_trip_immediate(),
                }
            ],
        )
        return answer

    def first_sale_day(self) -> str:
        """The local day of sale 1, which the day's list shows (the day before the demo's now
        in its first ninety minutes after midnight)."""
        return self.first_sold_at.date().isoformat()

    def voided(self) -> dict[str, Any]:
        return self.sale_one(status="voided", voided_at=self.now.isoformat(), credited=self.total)

    def picked_up(self) -> dict[str, Any]:
        return self.sale_one(picked_up_at=self.now.isoformat())

    def products_query(self) -> str:
        return ",".join(sku for sku, _ in self.lines)

    def products_answer(self) -> dict[str, Any]:
        return {
            "results": [
                {
                    "sku": product.sku,
                    "barcode": getattr(product, "barcode", None) or None,
                    "name_zh": product.name_zh,
                    "name_en": product.name_en,
                    "brand": product.brand,
                    "category": self._category(product.sku),
                    "retail_price": _money(product.retail_price),
                    "volume_ml": product.volume_ml,
                    "pieces": product.pieces,
                    "immediate_kind": getattr(product, "immediate_kind", None) or None,
                }
                for product in sorted(
                    (self.products[sku] for sku, _ in self.lines), key=lambda p: p.sku
                )
            ],
            "next": None,
        }

    def sales_answer(self) -> dict[str, Any]:
        return {"results": [self.sale_one()], "next": None}


# A till's X report on a busy day (illustrative: the demo terminal sells nothing in the tests).
TERMINAL_REPORT_ANSWER: dict[str, Any] = {
    "date": "2026-01-17",
    "store": DEMO_TERMINAL_STORE,
    "terminal": "demo-1",
    "training": False,
    "generated_at": "2026-01-17T21:30:00+08:00",
    "sales": {"count": 42, "amount": "186420.00"},
    "returns": {"count": 1, "amount": "1280.00"},
    "voids": {"count": 1, "amount": "3560.00"},
    "net": "181580.00",
    "by_pickup": [
        {
            "pickup": "departure",
            "sales": {"count": 35, "amount": "171300.00"},
            "returns": {"count": 1, "amount": "1280.00"},
            "voids": {"count": 1, "amount": "3560.00"},
        },
        {
            "pickup": "immediate",
            "sales": {"count": 7, "amount": "15120.00"},
            "returns": {"count": 0, "amount": "0.00"},
            "voids": {"count": 0, "amount": "0.00"},
        },
    ],
}

STATS_QUERY = {"start": "2025-12-18", "end": "2026-01-17", "group_by": "store"}
# Figures as a year of demo history gives them, rounded (illustrative: the test database has no
# history).
STATS_ANSWER: dict[str, Any] = {
    "period": {"start": "2025-12-18", "end": "2026-01-17"},
    "previous": {"start": "2024-12-18", "end": "2025-01-17"},
    "align": "calendar",
    "totals": {
        "amount": "4860000.00",
        "previous_amount": "3310000.00",
        "amount_yoy_pct": "46.8",
        "items": 2210,
        "previous_items": 1700,
        "items_yoy_pct": "30.0",
        "sales": 1340,
        "previous_sales": 1000,
        "sales_yoy_pct": "34.0",
        "shopper_trips": 1290,
        "previous_shopper_trips": 1000,
        "shopper_trips_yoy_pct": "29.0",
        "shoppers": 1150,
        "previous_shoppers": 1000,
        "shoppers_yoy_pct": "15.0",
        "average_spend": "3767.44",
        "previous_average_spend": "3310.00",
        "average_spend_yoy_pct": "13.8",
    },
    "group_by": "store",
    "groups": [
        {
            "key": "SYA-HTB",
            "amount": "1460000.00",
            "previous_amount": "990000.00",
            "amount_yoy_pct": "47.5",
            "items": 660,
            "previous_items": 500,
            "items_yoy_pct": "32.0",
            "sales": 402,
            "previous_sales": 300,
            "sales_yoy_pct": "34.0",
            "shopper_trips": 390,
            "previous_shopper_trips": 300,
            "shopper_trips_yoy_pct": "30.0",
            "shoppers": 350,
            "previous_shoppers": 280,
            "shoppers_yoy_pct": "25.0",
            "average_spend": "3743.59",
            "previous_average_spend": "3300.00",
            "average_spend_yoy_pct": "13.4",
            "name": "中免三亚海棠湾国际免税城",
            "short_name": "三亚国际免税城",
        }
    ],
    "as_of": "2026-01-18T00:01:00+08:00",
}


@lru_cache(maxsize=2)
def examples_at(now: datetime) -> Examples:
    """One set of examples per generated document (its moment)."""
    return Examples(now=now)


def demo(build: Callable[[Examples], Any]) -> Callable[[datetime], Any]:
    """An example's value, from the examples at the moment the document is generated."""
    return lambda now: build(examples_at(now))


def constant(value: Any) -> Callable[[datetime], Any]:
    """An example's value that does not depend on the moment."""
    return lambda now: value


# --- Policy previews (illustrative figures: a year of demo history gives numbers of this kind) --
# seed_demo's draft (cosmetics 10 pieces per trip, where the version in force allows 30) and its
# first preview: the draft after the two shipped versions, the first preview of a new database.
DEMO_DRAFT_POLICY_ID = 3
DEMO_PREVIEW_ID = 1
POLICY_PREVIEW_REQUEST: dict[str, Any] = {
    "policy": DEMO_DRAFT_POLICY_ID,
    "start": "2026-01-01",
    "end": "2026-01-31",
}
POLICY_PREVIEW_QUEUED: dict[str, Any] = {
    "id": 2,
    "policy": DEMO_DRAFT_POLICY_ID,
    "start": "2026-01-01",
    "end": "2026-01-31",
    "status": "queued",
    "progress": 0.0,
    "done": 0,
    "total": None,
    "created_at": "2026-02-01T09:00:00+08:00",
    "started_at": None,
    "finished_at": None,
    "stale": False,
    "error": None,
    "result": None,
}
POLICY_PREVIEW_DONE: dict[str, Any] = {
    "id": DEMO_PREVIEW_ID,
    "policy": DEMO_DRAFT_POLICY_ID,
    "start": "2026-01-02",
    "end": "2026-01-31",
    "status": "done",
    "progress": 1.0,
    "done": 6120,
    "total": 6120,
    "created_at": "2026-02-01T09:00:00+08:00",
    "started_at": "2026-02-01T09:00:01+08:00",
    "finished_at": "2026-02-01T09:00:03+08:00",
    "stale": False,
    "error": None,
    "result": {
        "policy": {
            "id": DEMO_DRAFT_POLICY_ID,
            "name_zh": "演示草案：化妆品每次离岛限购10件",
            "name_en": "Demo draft: cosmetics 10 pieces per trip",
            "status": "draft",
        },
        "start": "2026-01-02",
        "end": "2026-01-31",
        "sales": 6120,
        "lines": 14688,
        "amount": "52173400.00",
        "refused": {
            "sales": 212,
            "lines": 611,
            "amount": "1493580.00",
            "by_code": {
                "per_trip_limit_exceeded": {"sales": 212, "lines": 611, "amount": "1493580.00"}
            },
            "by_category": {
                "cosmetics": {"sales": 212, "lines": 523, "amount": "1203160.00"},
                "perfume": {"sales": 41, "lines": 88, "amount": "290420.00"},
            },
            "by_store": {
                "HAK-MH": {"sales": 77, "lines": 220, "amount": "540120.00"},
                "SYA-HTB": {"sales": 135, "lines": 391, "amount": "953460.00"},
            },
            "examples": [
                {
                    "receipt_no": "SYA-HTB-20260102-0042",
                    "sold_at": "2026-01-02T11:20:00+08:00",
                    "store": "SYA-HTB",
                    "amount": "8400.00",
                    "imported": True,
                    "codes": ["per_trip_limit_exceeded"],
                }
            ],
        },
        "imported": {"sales": 6117, "refused": 212},
        "approximated": 0,
        "quota": {
            "annual_limit": "100000.00",
            "shoppers": 4870,
            "shoppers_over": 0,
            "shoppers_at_limit": 3,
        },
    },
}
