"""Immediate pickup (即购即提) on the database: each kind's cap per departure counts what the
departure already took away at once in every store (completed sales net of returns; a void
counts nothing), in the same statement as the per-trip usage and under the same locks."""

from __future__ import annotations

import json
import threading
from collections import Counter
from contextlib import nullcontext
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from quotas.services import departure_record
from shops.models import Sale, SaleLine, Store
from shops.pos import checkout
from shops.pos.errors import PurchaseNotAllowed
from shops.pos.returns import sale_return, sale_void
from tests.support import basket, json_basket, resident_id, shopper, terminal, trip
from tests.support import sell as support_sell


def sell(term, *lines, who=None, on=None, pickup="immediate", no_trip=False, now=None):
    """``support.sell``, taken away at once unless said."""
    return support_sell(term, *lines, who=who, on=on, pickup=pickup, no_trip=no_trip, at=now)


def refusal(term, *lines, **kwargs) -> list[tuple]:
    with pytest.raises(PurchaseNotAllowed) as caught:
        sell(term, *lines, **kwargs)
    return [
        (v.code, v.reason, v.kind, v.sku, v.limit, v.already, v.requested)
        for v in caught.value.verdict.violations
    ]


@pytest.mark.django_db
@pytest.mark.usefixtures("catalogue")
class TestCapsAcrossTheDeparture:
    def test_one_pair_then_the_cap_in_another_store(self) -> None:
        sanya, haikou = terminal("SYA-HTB")[0], terminal("HAK-IDFC")[0]
        sell(sanya, ("RAYBAN", 1))
        assert refusal(haikou, ("GM-SUN", 1)) == [
            ("immediate_pickup_limit_exceeded", None, "sunglasses", None, 1, 1, 1)
        ]
        # Another departure of the same shopper has its own allowance.
        assert sell(haikou, ("GM-SUN", 1), on=trip("CZ6789")).sale.pk

    def test_cap_exactly_then_one_more(self) -> None:
        term = terminal()[0]
        sell(term, ("MERRIES", 2))
        sell(term, ("MERRIES", 1))  # 3 packs: the cap
        assert refusal(term, ("MERRIES", 1)) == [
            ("immediate_pickup_limit_exceeded", None, "diapers", None, 3, 3, 1)
        ]

    def test_other_pickups_do_not_use_the_allowance_nor_are_capped(self) -> None:
        term = terminal()[0]
        sell(term, ("RAYBAN", 3), pickup="departure")
        sell(term, ("RAYBAN", 1))  # the departure pickup left the immediate allowance whole

    def test_a_return_gives_the_allowance_back(self) -> None:
        term = terminal()[0]
        sale = sell(term, ("MERRIES", 3)).sale
        assert refusal(term, ("MERRIES", 1))[0][0] == "immediate_pickup_limit_exceeded"
        line = SaleLine.objects.get(sale=sale)
        sale_return(
            terminal=term,
            sale_id=sale.pk,
            idempotency_key="ret",
            fingerprint="ret",
            lines=[(line.pk, 2)],
            reason="",
            now=timezone.now(),
        )
        sell(term, ("MERRIES", 2))  # 1 kept + 2 = 3
        assert refusal(term, ("MERRIES", 1))[0][5] == 3

    def test_a_void_counts_nothing(self) -> None:
        term = terminal()[0]
        sale = sell(term, ("RAYBAN", 1)).sale
        sale_void(terminal=term, sale_id=sale.pk, now=timezone.now())
        assert sell(term, ("GM-SUN", 1)).sale.status == "completed"

    def test_per_variety_across_sales_and_sets_count_pieces(self) -> None:
        term = terminal()[0]
        sell(term, ("DIOR-999", 1))
        assert refusal(term, ("DIOR-999", 1)) == [
            ("immediate_pickup_limit_exceeded", None, "cosmetics", "DIOR-999", 1, 1, 1)
        ]
        sell(term, ("YSL-1966", 1))  # another variety: 2 pieces of 5
        # A set of three: 3 pieces (the cap 5 is reached exactly) of one variety (cap 1).
        assert refusal(term, ("SK2-TRIO", 1)) == [
            ("immediate_pickup_limit_exceeded", None, "cosmetics", "SK2-TRIO", 1, 0, 3)
        ]

    def test_a_resident_without_a_trip_is_capped_per_purchase(self) -> None:
        term = terminal()[0]
        resident = shopper(resident_id(7), resident=True)
        sell(term, ("MERRIES", 1), who=resident, pickup="departure")  # the shopper is known
        departure_record(
            doc_type="resident_id",
            country="CHN",
            number=resident.number,
            carrier_ref="HU7181",
            departed_at=timezone.now() - timedelta(minutes=1),
            now=timezone.now(),
        )
        # An off-island record this year: no trip needed, and each purchase has its own caps.
        sell(term, ("RAYBAN", 1), who=resident, no_trip=True)
        sell(term, ("GM-SUN", 1), who=resident, no_trip=True)
        assert refusal(term, ("RAYBAN", 2), who=resident, no_trip=True) == [
            ("immediate_pickup_limit_exceeded", None, "sunglasses", None, 1, 0, 2)
        ]

    def test_a_kind_not_on_the_list_and_the_price_ceiling(self) -> None:
        term = terminal()[0]
        assert refusal(term, ("READERS", 1)) == [
            ("pickup_not_allowed", "kind_not_immediate", None, "READERS", None, None, None)
        ]
        reasons = [r[1] for r in refusal(term, ("BIRKIN", 1))]
        assert reasons == ["immediate_unit_price"]

    def test_an_online_store_never_sells_with_immediate_pickup(self) -> None:
        Store.objects.filter(code="SYA-HTB").update(channel="online")
        term = terminal("SYA-HTB")[0]
        assert refusal(term, ("RAYBAN", 1)) == [
            ("pickup_not_allowed", "online_store", None, None, None, None, None)
        ]
        assert sell(term, ("RAYBAN", 1), pickup="departure").sale.pk

    def test_the_usage_is_one_statement_whatever_the_basket(self) -> None:
        term = terminal()[0]
        sell(term, ("DIOR-999", 1), ("RAYBAN", 1))
        for lines in ((("YSL-1966", 1),), (("YSL-1966", 1), ("MERRIES", 2), ("GM-SUN", 1))):
            key = f"count-{len(lines)}"
            refused = pytest.raises(PurchaseNotAllowed) if len(lines) > 1 else nullcontext()
            with CaptureQueriesContext(connection) as queries, refused:
                checkout.sale_commit(
                    terminal=term,
                    idempotency_key=key,
                    fingerprint=key,
                    basket=basket(*lines, pickup="immediate"),
                    now=timezone.now(),
                )
            usage = [q["sql"] for q in queries.captured_queries if "LEFT JOIN LATERAL" in q["sql"]]
            assert len(usage) == 1, usage


@pytest.mark.django_db
class TestAnswers:
    @pytest.fixture
    def api(self, client: Client, catalogue: None):
        _, key = terminal()

        def call(url: str, body: dict, *, key_header: str | None = None, status: int = 201):
            headers = {"authorization": f"Bearer {key}"}
            if key_header:
                headers["idempotency-key"] = key_header
            response = client.post(
                url, data=json.dumps(body), content_type="application/json", headers=headers
            )
            assert response.status_code == status, response.content
            return response

        return call

    def test_quote_and_sale_show_the_allowance_and_a_replay_repeats_it(self, api) -> None:
        body = json_basket(basket(("DIOR-999", 1), ("MERRIES", 2), pickup="immediate"))
        quote = api("/api/v1/quotes", body, status=200).json()
        limits = {row["kind"]: row for row in quote["immediate_limits"]}
        assert len(limits) == 15
        assert limits["cosmetics"] == {
            "kind": "cosmetics",
            "unit": "piece",
            "limit": 5,
            "used": 0,
            "requested": 1,
            "remaining_after": 4,
        }
        assert limits["diapers"]["remaining_after"] == 1
        first = api("/api/v1/sales", body, key_header="k-1")
        assert first.json()["immediate_limits"] == quote["immediate_limits"]
        again = api("/api/v1/sales", body, key_header="k-1")
        assert again.headers["Idempotent-Replayed"] == "true"
        assert again.content == first.content
        # The next quote sees what the sale took away.
        later = api("/api/v1/quotes", body, status=200).json()
        assert {r["kind"]: r["used"] for r in later["immediate_limits"]}["diapers"] == 2

    def test_other_pickups_answer_without_it(self, api) -> None:
        body = json_basket(basket(("DIOR-999", 1)))
        assert "immediate_limits" not in api("/api/v1/quotes", body, status=200).json()
        assert "immediate_limits" not in api("/api/v1/sales", body, key_header="d-1").json()

    def test_a_refusal_names_the_kind_in_the_persons_language(
        self, client: Client, catalogue: None
    ) -> None:
        _, key = terminal()
        body = json_basket(basket(("RAYBAN", 2), pickup="immediate"))
        for language, words in (("en", "Sunglasses: at most 1"), ("zh-hans", "太阳眼镜即购即提")):
            response = client.post(
                "/api/v1/sales",
                data=json.dumps(body),
                content_type="application/json",
                headers={
                    "authorization": f"Bearer {key}",
                    "idempotency-key": f"refused-{language}",
                    "accept-language": language,
                },
            )
            assert response.status_code == 422
            violation = response.json()["violations"][0]
            assert violation["code"] == "immediate_pickup_limit_exceeded"
            assert violation["kind"] == "sunglasses"
            assert (violation["limit"], violation["already"], violation["requested"]) == (1, 0, 2)
            assert violation["message"].startswith(words)
        assert not Sale.objects.exists()

    def test_the_lookup_shows_each_open_trips_immediate_allowance(
        self, client: Client, catalogue: None
    ) -> None:
        term = terminal()[0]
        who = shopper()
        sell(term, ("DIOR-999", 1), ("SK2-TRIO", 1), who=who, pickup="departure")
        sell(term, ("YSL-1966", 1), ("RAYBAN", 1), ("MERRIES", 2), who=who)
        response = client.post(
            "/api/v1/quota-lookup",
            data=json.dumps(
                {
                    "document": {"type": who.doc_type, "number": who.number, "country": "CHN"},
                    "name": who.name,
                }
            ),
            content_type="application/json",
            headers={"accept-language": "en"},
        )
        assert response.status_code == 200
        (open_trip,) = response.json()["open_trips"]
        left = {
            row["kind"]: (row["used"], row["remaining"]) for row in open_trip["immediate_limits"]
        }
        assert left["cosmetics"] == (1, 4)  # the departure pickup does not count
        assert left["sunglasses"] == (1, 0)
        assert left["diapers"] == (2, 1)
        assert left["perfume"] == (0, 1)
        sunglasses = next(r for r in open_trip["immediate_limits"] if r["kind"] == "sunglasses")
        assert (sunglasses["name"], sunglasses["unit_name"]) == ("Sunglasses", "pair")
        diapers = next(r for r in open_trip["immediate_limits"] if r["kind"] == "diapers")
        assert diapers["unit_name"] == "packs"  # as "1 of 3 packs left" reads it
        # The per-trip counters are still there beside them.
        cosmetics = next(r for r in open_trip["trip_limits"] if r["category"] == "cosmetics")
        assert cosmetics["used"] == 5  # 1 + a set of 3 + 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_terminals_one_trip_one_pair_each_at_once_make_exactly_one_sale(
    catalogue: None,
) -> None:
    """Real threads on their own connections, PostgreSQL: two stores sell one pair of
    sunglasses each to one shopper for one departure at the same instant; the cap (1 pair)
    lets exactly one through, five times over (a new departure each round)."""
    terminals = [terminal("SYA-HTB")[0], terminal("HAK-IDFC")[0]]
    for round_no in range(5):
        departure = trip(f"HU{7100 + round_no}")
        barrier = threading.Barrier(len(terminals))
        results: list[object] = [None] * len(terminals)

        def worker(index: int, sku: str, departure=departure, barrier=barrier, results=results):
            try:
                barrier.wait(timeout=30)
                results[index] = sell(terminals[index], (sku, 1), on=departure)
            except Exception as exc:
                results[index] = exc
            finally:
                connection.close()

        threads = [
            threading.Thread(target=worker, args=(i, sku))
            for i, sku in enumerate(("RAYBAN", "GM-SUN"))
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert not any(thread.is_alive() for thread in threads), "a commit hung"
        outcome = Counter(type(result).__name__ for result in results)
        assert outcome == {"CommitResult": 1, "PurchaseNotAllowed": 1}, results
        refused = next(r for r in results if isinstance(r, PurchaseNotAllowed))
        violation = refused.verdict.violations[0]
        assert (violation.kind, violation.already, violation.requested) == ("sunglasses", 1, 1)
    sold = SaleLine.objects.filter(sale__status="completed", immediate_kind="sunglasses")
    per_trip = Counter(sold.values_list("sale__trip_id", flat=True))
    assert len(per_trip) == 5
    assert set(per_trip.values()) == {1}
