"""Policy preview on PostgreSQL: a window of 1,000,000 recorded sale lines judged again.

    .venv/bin/python bench/preview_bench.py [--lines 1000000] [--shoppers 150000]
        [--small-lines 100000] [--runs 3] [--database dutyfree_bench_preview]
        [--template NAME] [--reseed] [--out DIR]

1. Seeds its own database (``dutyfree_bench_preview`` on bench_db.py's server, ``BENCH_SERVER``,
   else ``DATABASE_URL``'s, else 127.0.0.1:5432), migrated: the demo catalogue, a till and the
   legacy-import terminal per shipped store, ``--shoppers`` shoppers and about a third as many
   sales as ``--lines`` (1–5 lines, 3 on average) over 90 local days, 2025-09-17 → 2025-12-15,
   which the 2025-11 version splits in two: trips of 1–4 sales in several stores (a few begun
   before the window), departure, mail, return-to-island and immediate pickup, outbound
   travellers after 2025-11-01, residents without a trip buying for immediate pickup after a
   departure earlier in the year, 16- and 17-year-olds before 2025-11-01, returns, voids,
   imported sales and a few without the age recorded. Every sale is one the version in force
   on its day would allow (per-trip limits, immediate-pickup caps, annual quota with some
   spent earlier in the year). Shoppers, accounts, trips, sales, lines and returns by COPY;
   untimed. The database is kept: a later run that finds the same seed (the database's
   comment) skips it. No ledger entries (quotas_quotaentry: a preview does not read them).
2. Makes a draft of the version in force with cosmetics limited to 10 pieces per trip
   (``quotas.services.policy_clone``).
3. In a process of its own for each (so that each peak RSS is its own), runs
   ``preview_request`` + ``preview_run`` outside any transaction, as the worker does (its own
   REPEATABLE READ snapshot connection), on the window's first days (about ``--small-lines``
   lines), then ``--runs`` times on the whole window (the median run kept); times them, samples
   the RSS at every progress report and keeps the peak (``VmHWM``: see ``_peak_rss_kib``);
   samples the CPU of its PostgreSQL backends from /proc. Then the version in force on the
   small window: a check of the seed, which it should refuse only the minors' sales of before
   2025-11-01 (underage under the 18 of the newer version).

Writes bench/results/policy_preview.json (``--out`` another folder). The goal (the issue): the
1,000,000 lines in under 60 s on the 2-core machine, memory flat.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import random
import resource
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
DB = "dutyfree_bench_preview"
# The window (local days, both included), and the day the 2025-11 version took effect.
START, END = date(2025, 9, 17), date(2025, 12, 15)
NEWER_FROM = date(2025, 11, 1)
LEAD_DAYS = 3  # trips may begin this many days before the window (their sales read, not judged)
SEED_VERSION = 1  # bump when the generator changes: a kept database is then seeded again
GOAL_SECONDS = 60
LIMIT_CENTS = 100_000 * 100
# Per-trip limits of both shipped versions: cosmetics in pieces, alcohol in ml, phones.
TRIP_LIMITS = {"cosmetics": 30, "alcohol": 1500, "mobile_phones": 4}
DRAFT_NOTE = "preview_bench: the version in force, cosmetics 10 pieces per trip"
PAGE = os.sysconf("SC_PAGE_SIZE")

sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.pop("REDIS_URL", None)  # eager Celery, no broker: this process is the worker
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dutyfree.settings")
if "BENCH_SERVER" not in os.environ and os.environ.get("DATABASE_URL"):
    _url = urlsplit(os.environ["DATABASE_URL"])
    os.environ["BENCH_SERVER"] = f"{_url.scheme}://{_url.netloc}"

import bench_db  # noqa: E402 - found through the path set above
from bench_db import psql  # noqa: E402

# --- Seeding -----------------------------------------------------------------------------------
EPOCH = date(1970, 1, 1)
OFFSET = 8 * 3600  # Asia/Shanghai, no daylight saving


def _local_day(t: int) -> date:
    return EPOCH + timedelta(days=(t + OFFSET) // 86400)


def _at(day: date, seconds: int) -> int:
    """The instant (epoch seconds) ``seconds`` after local midnight of ``day``."""
    return (day - EPOCH).days * 86400 - OFFSET + seconds


NULL = "\\N"  # COPY's NULL


def _ts(t: int | None) -> str:
    return NULL if t is None else datetime.fromtimestamp(t, UTC).isoformat()


def _money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def _age(birth: date, day: date) -> int:
    return day.year - birth.year - int((day.month, day.day) < (birth.month, birth.day))


@dataclass(slots=True)
class Product:
    id: int
    sku: str
    category: str
    cents: int
    pieces: int
    volume: int | None
    kind: str


@dataclass(slots=True)
class Shopper:
    birth: date
    resident: bool
    minor: bool
    banned: bool
    baseline: int  # cents of the year's quota spent before the window (no rows)
    spent: int = 0  # cents of sales generated (returns and voids not deducted: a bound)


@dataclass(slots=True)
class Trip:
    shopper: int
    kind: str
    mode: str
    carrier: str
    departs_at: int
    departed_at: int | None
    created_at: int
    id: int = 0


@dataclass(slots=True)
class Sale:
    at: int
    shopper: int
    trip: Trip | None
    store: int
    pickup: str
    lines: list[tuple[Product, int]]
    imported: bool
    recorded: bool  # age and residence recorded with the sale
    voided_at: int | None = None
    returned: tuple[int, int] | None = None  # (when, quantity) of the first line
    total: int = 0
    used_after: int = 0
    id: int = 0


class Generator:
    """Deterministic shoppers, trips and sales that the version in force on each day allows."""

    def __init__(self, products: list[Product], stores: list[int], *, shoppers: int) -> None:
        self.rng = random.Random(2026)
        self.stores = stores
        self.by_category: dict[str, list[Product]] = {}
        for product in products:
            self.by_category.setdefault(product.category, []).append(product)
        premium = ("watches", "jewellery", "bags_luggage")
        self.premium = [p for c in premium for p in self.by_category.get(c, [])]
        limited = (*TRIP_LIMITS, *premium, "cosmetics", "perfume")
        self.other = [p for p in products if p.category not in limited]
        self.cheap = sorted(products, key=lambda p: p.cents)[:10]
        # Immediate pickup: a listed kind, one piece a unit, under 20,000 yuan.
        self.immediate = [p for p in products if p.kind and p.pieces == 1 and p.cents < 2_000_000]
        self.shoppers: list[Shopper] = []
        rng = self.rng
        for _ in range(shoppers):
            minor = rng.random() < 0.005
            birth = (
                date(2008, 1, 1) + timedelta(days=rng.randrange(540))  # 16 or 17 in late 2025
                if minor
                else date(1955, 1, 1) + timedelta(days=rng.randrange(18_600))
            )
            self.shoppers.append(
                Shopper(
                    birth=birth,
                    resident=rng.random() < 0.15,
                    minor=minor,
                    banned=rng.random() < 0.001,
                    baseline=rng.randrange(0, 3_000_000) if rng.random() < 0.25 else 0,
                )
            )
        self.trips: list[Trip] = []
        self.sales: list[Sale] = []
        self.window_lines = 0

    def run(self, lines: int) -> None:
        """Shoppers in turn, until the window holds ``lines`` lines."""
        self.wanted = lines
        days = (END - START).days + 1 + LEAD_DAYS
        for number in range(len(self.shoppers)):
            if self.window_lines >= lines:
                break
            self._shopper(number, days)
        if self.window_lines < lines:
            raise SystemExit(f"{len(self.shoppers)} shoppers bought only {self.window_lines} lines")

    def _shopper(self, number: int, days: int) -> None:
        rng, shopper = self.rng, self.shoppers[number]
        first = START - timedelta(days=LEAD_DAYS)
        count = rng.choice((0, 1, 1, 1, 1, 2, 2))
        if shopper.minor:  # every sale before the newer version (2 days of trip at most)
            days = (NEWER_FROM - first).days - 3
        chosen: list[int] = []
        for offset in sorted(rng.sample(range(days), count)):
            if not chosen or offset - chosen[-1] >= 4:  # a shopper's trips never overlap
                chosen.append(offset)
        for offset in chosen:
            self._trip(number, first + timedelta(days=offset))
        if shopper.resident and not shopper.minor and rng.random() < 0.35:
            self._resident_without_trip(number)

    def _trip(self, number: int, day: date) -> None:
        rng = self.rng
        newer = day >= NEWER_FROM
        outbound = newer and rng.random() < 0.12
        mode = (
            rng.choice(("air", "air", "air", "air", "sea"))
            if outbound
            else rng.choice(("air",) * 8 + ("rail", "sea"))
        )
        sales = rng.choice((1, 1, 2, 2, 2, 3, 3, 4))
        span = rng.choice((0, 0, 1, 1, 2))
        times = sorted(
            _at(day + timedelta(days=rng.randint(0, span)), rng.randrange(9 * 3600, 21 * 3600))
            for _ in range(sales)
        )
        departs = times[-1] + rng.randrange(2, 31) * 3600
        departs -= departs % 1800
        trip = Trip(
            shopper=number,
            kind="outbound" if outbound else "domestic",
            mode=mode,
            carrier=f"{rng.choice(('HU', 'CZ', 'MU', '3U', 'G5'))}{rng.randint(1000, 9999)}",
            departs_at=departs,
            departed_at=departs + rng.randrange(300, 1800) if rng.random() < 0.85 else None,
            created_at=times[0] - 60,
        )
        self.trips.append(trip)
        held = dict.fromkeys(TRIP_LIMITS, 0)
        immediate_done = False
        for at in times:
            pickup = self._pickup(number, trip, immediate_done)
            immediate_done |= pickup == "immediate"
            self._sale(number, at, trip, pickup, held)

    def _pickup(self, number: int, trip: Trip, immediate_done: bool) -> str:
        if trip.kind == "outbound":
            return "departure"  # outbound travellers collect at departure only
        draw = self.rng.random()
        if draw < 0.10 and not immediate_done:
            return "immediate"
        if draw < 0.20:
            return "mail"
        if draw < 0.25 and self.shoppers[number].resident:
            return "return_to_island"
        return "departure"

    def _resident_without_trip(self, number: int) -> None:
        """A resident's departure earlier in the year (no sales on it), then 1–3 purchases
        without a trip for immediate pickup under the newer version."""
        rng = self.rng
        departs = _at(date(2025, 2, 1) + timedelta(days=rng.randrange(200)), 15 * 3600)
        self.trips.append(
            Trip(
                shopper=number,
                kind="domestic",
                mode="air",
                carrier=f"HU{rng.randint(1000, 9999)}",
                departs_at=departs,
                departed_at=departs + 900,
                created_at=departs - 86400,
            )
        )
        newer_days = (END - NEWER_FROM).days + 1
        for offset in sorted(rng.sample(range(newer_days), rng.randint(1, 3))):
            at = _at(NEWER_FROM + timedelta(days=offset), rng.randrange(9 * 3600, 21 * 3600))
            self._sale(number, at, None, "immediate", {})

    def _sale(
        self, number: int, at: int, trip: Trip | None, pickup: str, held: dict[str, int]
    ) -> None:
        rng, shopper = self.rng, self.shoppers[number]
        in_window = START <= _local_day(at) <= END
        wanted = rng.choice((1, 2, 3, 3, 4, 5))
        if in_window:
            wanted = min(wanted, self.wanted - self.window_lines)
            if wanted <= 0:
                return
        room = LIMIT_CENTS - shopper.baseline - shopper.spent
        lines: list[tuple[Product, int]] = []
        if pickup == "immediate":  # distinct kinds, one unit each: within every cap
            for product in rng.sample(self.immediate, min(wanted, 3)):
                if product.kind in {p.kind for p, _ in lines}:
                    continue
                if product.category in held and held[product.category] + 1 > TRIP_LIMITS.get(
                    product.category, 0
                ):
                    continue
                if product.cents <= room:
                    lines.append((product, 1))
                    room -= product.cents
                    if product.category in held:
                        held[product.category] += 1
        else:
            for _ in range(wanted):
                product, quantity = self._line(held)
                if product.cents * quantity > room:
                    product, quantity = rng.choice(self.cheap), 1
                    if product.cents > room:
                        break
                lines.append((product, quantity))
                room -= product.cents * quantity
        if not lines:
            return
        total = sum(p.cents * q for p, q in lines)
        shopper.spent += total
        sale = Sale(
            at=at,
            shopper=number,
            trip=trip,
            store=rng.choice(self.stores),
            pickup=pickup,
            lines=lines,
            imported=rng.random() < 0.04,
            recorded=rng.random() >= 0.01,
            total=total,
        )
        draw = rng.random()
        if draw < 0.01:
            sale.voided_at = at + rng.randrange(300, 7200)
        elif draw < 0.025:
            sale.returned = (at + rng.randrange(3600, 72 * 3600), rng.randint(1, lines[0][1]))
        self.sales.append(sale)
        if in_window:
            self.window_lines += len(lines)

    def _line(self, held: dict[str, int]) -> tuple[Product, int]:
        """A line within the trip's per-trip limits (``held``, updated)."""
        rng = self.rng
        draw = rng.random()
        if draw < 0.45:
            product = rng.choice(self.by_category["cosmetics"])
            quantity = rng.choice((1, 1, 1, 2, 2, 3))
            counted = product.pieces * quantity
        elif draw < 0.53:
            product, quantity, counted = rng.choice(self.by_category["perfume"]), 1, 0
        elif draw < 0.58:
            product = rng.choice(self.by_category["alcohol"])
            quantity = rng.choice((1, 1, 2))
            counted = (product.volume or 0) * quantity
        elif draw < 0.60:
            product, quantity = rng.choice(self.by_category["mobile_phones"]), 1
            counted = 1
        elif draw < 0.63:
            product, quantity, counted = rng.choice(self.premium), 1, 0
        else:
            product, quantity, counted = rng.choice(self.other), rng.choice((1, 1, 1, 2)), 0
        category = product.category
        if category in TRIP_LIMITS:
            if held[category] + counted > TRIP_LIMITS[category]:
                return rng.choice(self.other), 1
            held[category] += counted
        return product, quantity


def _catalogue() -> tuple[list[Product], list[int]]:
    from shops.demo.seed import CATALOGUE_CSV, load_demo_products
    from shops.models import Product as ProductRow
    from shops.models import Store

    load_demo_products()
    ids = dict(ProductRow.objects.values_list("sku", "id"))
    products = []
    with CATALOGUE_CSV.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            yuan, _, fen = row["retail_price"].partition(".")
            products.append(
                Product(
                    id=ids[row["sku"]],
                    sku=row["sku"],
                    category=row["category_code"],
                    cents=int(yuan) * 100 + int((fen or "0").ljust(2, "0")),
                    pieces=int(row["pieces"] or 1),
                    volume=int(row["volume_ml"]) if row["volume_ml"] else None,
                    kind=row["immediate_kind"],
                )
            )
    stores = list(Store.objects.order_by("id").values_list("id", flat=True))
    return products, stores


def _terminals(stores: list[int]) -> tuple[dict[int, int], dict[int, int]]:
    """Each store's till and its legacy-import terminal, by store id."""
    from shops.imports.writing import import_terminals
    from shops.models import Store
    from shops.pos.terminals import terminal_create

    tills = {
        store.pk: terminal_create(store=store, name="bench-till")[0].pk
        for store in Store.objects.filter(pk__in=stores)
    }
    return tills, import_terminals(stores, now=datetime.now(UTC))


def _quota(generator: Generator) -> dict[int, int]:
    """Each sale's ``quota_used_after`` (the account's used after it, voids and returns made
    before it deducted); returns each shopper's used at the end."""
    events: dict[int, list[tuple[int, int, int, Sale | None]]] = {}
    for sale in generator.sales:
        mine = events.setdefault(sale.shopper, [])
        mine.append((sale.at, 1, sale.total, sale))
        if sale.voided_at is not None:
            mine.append((sale.voided_at, 0, -sale.total, None))
        if sale.returned is not None:
            product, _ = sale.lines[0]
            mine.append((sale.returned[0], 0, -product.cents * sale.returned[1], None))
    used_at_end = {}
    for number, mine in events.items():
        used = generator.shoppers[number].baseline
        for _, _, amount, sale in sorted(mine, key=lambda e: (e[0], e[1])):
            used += amount
            if sale is not None:
                sale.used_after = used
        if not 0 <= used <= LIMIT_CENTS:
            raise AssertionError(f"shopper {number}: used {used}")
        used_at_end[number] = used
    return used_at_end


def seed(lines: int, shoppers: int) -> dict[str, Any]:
    """Load the data (module docstring, 1.). Returns counts."""
    import django

    django.setup()
    from django.db import connection

    from quotas.models import Policy
    from quotas.rules import LOCAL_TZ

    started = time.perf_counter()
    products, stores = _catalogue()
    tills, imports = _terminals(stores)
    # Each published version by the local day it took effect (at local midnight).
    policies = {
        since.astimezone(LOCAL_TZ).date(): pk
        for since, pk in Policy.objects.filter(status="published").values_list(
            "effective_from", "id"
        )
    }
    older, newer = policies[min(policies)], policies[max(policies)]
    if max(policies) != NEWER_FROM:
        raise SystemExit(f"the shipped versions changed: {policies}")
    programme = Policy.objects.get(pk=newer).programme_id
    generator = Generator(products, stores, shoppers=shoppers)
    generator.run(lines)
    generator.sales.sort(key=lambda s: (s.at, s.shopper))
    generator.trips.sort(key=lambda t: (t.created_at, t.shopper))
    for number, trip in enumerate(generator.trips, start=1):
        trip.id = number
    for number, sale in enumerate(generator.sales, start=1):
        sale.id = number
    used = _quota(generator)
    generated = time.perf_counter() - started
    now = _ts(int(time.time()))

    raw = connection.connection
    counts = {"returns": 0, "lines": 0}
    with raw.cursor() as cursor:
        # Bench data only: no foreign-key triggers while loading (CHECK constraints still hold).
        cursor.execute("SET session_replication_role = replica")
        with cursor.copy(
            "COPY quotas_shopper (id, document_type, document_country, document_key, "
            "document_last4, name_key, key_version, hainan_resident, banned_from, banned_until, "
            "birth_year, created_at, updated_at) FROM STDIN"
        ) as copy:
            # After every sale (a trip's last sales may fall 2 days after the window).
            banned_from, banned_until = _at(END + timedelta(days=3), 0), _at(date(2028, 12, 18), 0)
            for number, shopper in enumerate(generator.shoppers, start=1):
                key = f"{number:016x}".rjust(64, "d")
                ban = f"{_ts(banned_from)}\t{_ts(banned_until)}" if shopper.banned else "\\N\t\\N"
                copy.write(
                    f"{number}\tresident_id\tCHN\t{key}\t{number % 10_000:04d}\t"
                    f"{f'{number:016x}'.rjust(64, 'e')}\t1\t{'t' if shopper.resident else 'f'}\t"
                    f"{ban}\t{shopper.birth.year}\t{now}\t{now}\n"
                )
        with cursor.copy(
            'COPY quotas_quotaaccount (id, shopper_id, programme_id, year, "limit", used, '
            "updated_at) FROM STDIN"
        ) as copy:
            for number, shopper in enumerate(generator.shoppers, start=1):
                spent = used.get(number - 1, shopper.baseline)
                copy.write(
                    f"{number}\t{number}\t{programme}\t2025\t{_money(LIMIT_CENTS)}\t"
                    f"{_money(spent)}\t{now}\n"
                )
        with cursor.copy(
            "COPY quotas_trip (id, shopper_id, kind, mode, carrier_ref, departs_at, departed_at, "
            "created_at) FROM STDIN"
        ) as copy:
            for trip in generator.trips:
                copy.write(
                    f"{trip.id}\t{trip.shopper + 1}\t{trip.kind}\t{trip.mode}\t{trip.carrier}\t"
                    f"{_ts(trip.departs_at)}\t{_ts(trip.departed_at)}\t{_ts(trip.created_at)}\n"
                )
        # One COPY at a time on a connection: the sales, then their lines and returns.
        with cursor.copy(
            "COPY shops_sale (id, receipt_no, store_id, terminal_id, shopper_id, trip_id, "
            "account_id, policy_id, sold_at, local_date, pickup, shopper_age, "
            "shopper_resident, traveller_kind, status, total, returned_amount, "
            "quota_used_after, picked_up_at, voided_at, idempotency_key, "
            "request_fingerprint, imported) FROM STDIN"
        ) as copy:
            for sale in generator.sales:
                shopper = generator.shoppers[sale.shopper]
                day = _local_day(sale.at)
                receipt = f"PV{sale.id:09d}"
                returned = sale.lines[0][0].cents * sale.returned[1] if sale.returned else 0
                trip = sale.trip
                terminal = imports[sale.store] if sale.imported else tills[sale.store]
                copy.write(
                    f"{sale.id}\t{receipt}\t{sale.store}\t{terminal}\t{sale.shopper + 1}\t"
                    f"{trip.id if trip else NULL}\t{sale.shopper + 1}\t"
                    f"{newer if day >= NEWER_FROM else older}\t{_ts(sale.at)}\t{day}\t"
                    f"{sale.pickup}\t{_age(shopper.birth, day) if sale.recorded else NULL}\t"
                    f"{('t' if shopper.resident else 'f') if sale.recorded else NULL}\t"
                    f"{trip.kind if trip else 'resident'}\t"
                    f"{'voided' if sale.voided_at else 'completed'}\t{_money(sale.total)}\t"
                    f"{_money(returned)}\t{_money(sale.used_after)}\t"
                    f"{_ts(sale.at) if sale.pickup == 'immediate' else NULL}\t"
                    f"{_ts(sale.voided_at)}\t{receipt}\tbench\t"
                    f"{'t' if sale.imported else 'f'}\n"
                )
        line_id = return_id = 0
        returns: list[str] = []
        return_lines: list[str] = []
        with cursor.copy(
            "COPY shops_saleline (id, sale_id, line_no, product_id, sku, category_code, "
            "quantity, unit_price, amount, pieces, volume_ml, immediate_kind, "
            "returned_quantity) FROM STDIN"
        ) as copy:
            for sale in generator.sales:
                for number, (product, quantity) in enumerate(sale.lines, start=1):
                    line_id += 1
                    back = sale.returned[1] if sale.returned and number == 1 else 0
                    copy.write(
                        f"{line_id}\t{sale.id}\t{number}\t{product.id}\t{product.sku}\t"
                        f"{product.category}\t{quantity}\t{_money(product.cents)}\t"
                        f"{_money(product.cents * quantity)}\t{product.pieces}\t"
                        f"{product.volume if product.volume is not None else NULL}\t"
                        f"{product.kind}\t{back}\n"
                    )
                    if back:
                        at = sale.returned[0]  # type: ignore[index]  # back: returned
                        amount = _money(product.cents * back)
                        return_id += 1
                        returns.append(
                            f"{return_id}\t{sale.id}\t{tills[sale.store]}\t{amount}\t"
                            f"changed mind\t{_ts(at)}\n"
                        )
                        return_lines.append(
                            f"{return_id}\t{return_id}\t{line_id}\t{back}\t{amount}\n"
                        )
        with cursor.copy(
            "COPY shops_return (id, sale_id, terminal_id, amount, reason, created_at) FROM STDIN"
        ) as copy:
            copy.write("".join(returns))
        with cursor.copy(
            "COPY shops_returnline (id, sale_return_id, sale_line_id, quantity, amount) FROM STDIN"
        ) as copy:
            copy.write("".join(return_lines))
        for table in ("quotas_shopper", "quotas_quotaaccount", "quotas_trip", "shops_sale",
                      "shops_saleline", "shops_return", "shops_returnline"):  # fmt: skip
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
            )
        cursor.execute("SET session_replication_role = DEFAULT")
        counts = {"returns": return_id, "lines": line_id}
    _draft()
    return {
        "shoppers": shoppers,
        "trips": len(generator.trips),
        "sales": len(generator.sales),
        **counts,
        "window_lines": generator.window_lines,
        "generate_seconds": round(generated, 1),
        "seed_seconds": round(time.perf_counter() - started, 1),
    }


def _draft() -> int:
    """The bench's draft: the version in force, cosmetics 10 pieces per trip (made once)."""
    from quotas.models import Category, Policy
    from quotas.services import policy_clone

    found = Policy.objects.filter(status="draft", notes=DRAFT_NOTE).first()
    if found is not None:
        return found.pk
    in_force = Policy.objects.filter(status="published").order_by("-effective_from").first()
    if in_force is None:
        raise SystemExit("no published policy")
    draft = policy_clone(policy=in_force)
    draft.notes = DRAFT_NOTE
    draft.save()
    Category.objects.filter(policy=draft, code="cosmetics").update(per_trip_limit_value=10)
    return draft.pk


# --- Measuring (in a process of its own) -------------------------------------------------------
def _rss_kib() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * PAGE // 1024


def _peak_rss_kib() -> int:
    """This process's peak RSS (``VmHWM``). Not ``ru_maxrss``: Linux carries a parent's peak
    through fork and exec into the child's, and the parent that seeded peaked far higher."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise SystemExit("no VmHWM in /proc/self/status")


def measure(start: date, end: date, which: str) -> dict[str, Any]:
    """Request and run one preview, as the worker does, timed; RSS at each progress report."""
    import django

    django.setup()
    from django.utils import timezone

    import shops.tasks
    from quotas.models import Policy
    from shops.previews.models import UNFINISHED, PolicyPreview, PreviewStatus
    from shops.previews.services import preview_request, preview_run

    # This process is the worker: the request queues nothing (it would start a thread).
    shops.tasks.start_policy_preview_after_commit = lambda preview_id: None
    if which == "draft":
        policy = Policy.objects.get(status="draft", notes=DRAFT_NOTE)
    else:
        policy = Policy.objects.filter(status="published").order_by("-effective_from").first()
    # A run interrupted earlier left its preview unfinished: a new request would join it.
    PolicyPreview.objects.filter(status__in=UNFINISHED).update(status=PreviewStatus.FAILED)
    rss_start = _rss_kib()
    series: list[tuple[int, int, int, float]] = []  # (done, total, rss KiB, seconds)

    def progress(done: int, total: int) -> None:
        series.append((done, total, _rss_kib(), time.perf_counter() - started))

    cpu = os.times()
    started = time.perf_counter()
    asked, created = preview_request(policy_id=policy.pk, start=start, end=end, now=timezone.now())
    ran = preview_run(asked.pk, clock=timezone.now, progress=progress)
    seconds = time.perf_counter() - started
    after = os.times()
    if not created or ran is None or ran.status != "done" or ran.result is None:
        raise SystemExit(f"preview {asked.pk}: created {created}, {ran and ran.error}")
    result = ran.result
    total = series[0][1] or 1
    samples = {}
    for mark in (10, 25, 50, 75, 100):
        for done, _, rss, at in series[1:]:
            if done * 100 >= mark * total:
                samples[f"{mark}%"] = {"done": done, "rss_kib": rss, "seconds": round(at, 2)}
                break
    later = [rss for done, _, rss, _ in series if done * 10 >= total]
    return {
        "policy": {"id": policy.pk, "status": policy.status, "name_en": policy.name_en},
        "start": start.isoformat(),
        "end": end.isoformat(),
        "seconds": round(seconds, 2),
        "client_cpu_seconds": round(after.user + after.system - cpu.user - cpu.system, 2),
        # The first progress report with sales judged (reports are 0.5 s apart at least).
        "first_report_with_sales_seconds": next(
            (round(at, 2) for done, _, _, at in series if done), None
        ),
        "rss_kib_start": rss_start,
        "rss_kib_samples": samples,
        "rss_kib_from_10%": {"min": min(later), "max": max(later)} if later else None,
        "peak_rss_kib": _peak_rss_kib(),
        # At least the parent's peak when it forked this process (_peak_rss_kib).
        "ru_maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "progress_reports": len(series),
        "result": {
            "sales": result["sales"],
            "lines": result["lines"],
            "amount": result["amount"],
            "refused_sales": result["refused"]["sales"],
            "refused_lines": result["refused"]["lines"],
            "refused_by_code": {
                code: tally["sales"] for code, tally in result["refused"]["by_code"].items()
            },
            "imported": result["imported"],
            "approximated": result["approximated"],
            "quota": result["quota"],
        },
    }


def _run_measure(database: str, start: date, end: date, which: str) -> dict[str, Any]:
    """``measure`` in a child process; the CPU its PostgreSQL backends spent, sampled."""
    before = bench_db.backend_cpu(database)
    backends: dict[int, float] = {}
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.1):
            backends.update(bench_db.backend_cpu(database))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    done = subprocess.run(
        [sys.executable, __file__, "--database", database,
         "--measure", which, start.isoformat(), end.isoformat()],
        cwd=ROOT, capture_output=True, text=True, timeout=1800, check=False,
    )  # fmt: skip
    stop.set()
    sampler.join()
    if done.returncode != 0:
        raise SystemExit(f"measure {which} {start}–{end} failed:\n{done.stdout}\n{done.stderr}")
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    figures["postgres_backend_cpu_seconds"] = round(
        sum(cpu - before.get(pid, 0.0) for pid, cpu in backends.items()), 2
    )
    return figures


# --- The run -----------------------------------------------------------------------------------
def _machine(database: str) -> dict[str, Any]:
    memory = Path("/proc/meminfo").read_text().split("\n", 1)[0].split()[1]
    return {
        "nproc": int(subprocess.run(["nproc"], capture_output=True, text=True).stdout),
        "cpus": os.cpu_count(),
        "ram_gib": round(int(memory) / 1024 / 1024, 1),
        "load_average_1m_at_end": round(os.getloadavg()[0], 2),
        "python": platform.python_version(),
        "postgres": psql("SHOW server_version", database),
        "work_mem": psql("SHOW work_mem", database),
        "shared_buffers": psql("SHOW shared_buffers", database),
    }


def _git() -> str:
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],
        cwd=ROOT, capture_output=True, text=True, check=False,
    ).stdout.strip()  # fmt: skip
    return f"{head}{' (with uncommitted changes)' if dirty else ''}"


def _window_counts(database: str, start: date, end: date) -> dict[str, int]:
    row = psql(
        "SELECT count(DISTINCT s.id), count(l.id) FROM shops_sale s "  # noqa: S608 - dates
        "JOIN shops_saleline l ON l.sale_id = s.id "
        f"WHERE s.local_date BETWEEN '{start}' AND '{end}' AND NOT s.training",
        database,
    )
    sales, lines = row.split("|")
    return {"sales": int(sales), "lines": int(lines)}


def _database_counts(database: str) -> dict[str, int]:
    """What the whole database holds (the window's sales, the earlier and later ones)."""
    names = ("shoppers", "trips", "sales", "lines", "voided", "returned", "imported", "trip_less")
    row = psql(
        "SELECT (SELECT count(*) FROM quotas_shopper), (SELECT count(*) FROM quotas_trip), "
        "count(*), (SELECT count(*) FROM shops_saleline), count(*) FILTER (WHERE status = "
        "'voided'), count(*) FILTER (WHERE returned_amount > 0), count(*) FILTER (WHERE "
        "imported), count(*) FILTER (WHERE trip_id IS NULL) FROM shops_sale",
        database,
    )
    return dict(zip(names, map(int, row.split("|")), strict=True))


def _small_end(database: str, lines: int) -> date:
    """The first day by which the window's first days hold ``lines`` lines."""
    found = psql(
        "SELECT min(day) FROM (SELECT s.local_date AS day, sum(count(*)) OVER "  # noqa: S608
        "(ORDER BY s.local_date) AS lines FROM shops_sale s JOIN shops_saleline l "
        f"ON l.sale_id = s.id WHERE s.local_date BETWEEN '{START}' AND '{END}' "
        f"GROUP BY s.local_date) AS days WHERE lines >= {int(lines)}",
        database,
    )
    return date.fromisoformat(found) if found else END


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lines", type=int, default=1_000_000, help="lines in the window")
    parser.add_argument("--shoppers", type=int, default=150_000)
    parser.add_argument("--small-lines", type=int, default=100_000, help="the smaller window")
    parser.add_argument("--runs", type=int, default=3, help="runs of the whole window (median)")
    parser.add_argument("--database", default=DB)
    parser.add_argument("--template", help="copy this migrated database instead of migrating")
    parser.add_argument("--reseed", action="store_true", help="seed again even if kept")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder of the results")
    parser.add_argument("--measure", nargs=3, metavar=("WHICH", "START", "END"), help="internal")
    args = parser.parse_args()
    database = bench_db.checked_name(args.database)
    os.environ["DATABASE_URL"] = bench_db.url(database)
    if args.measure:
        which, start, end = args.measure
        figures = measure(date.fromisoformat(start), date.fromisoformat(end), which)
        print(json.dumps(figures))
        return

    wanted = json.dumps(
        {"seed": SEED_VERSION, "lines": args.lines, "shoppers": args.shoppers,
         "start": START.isoformat(), "end": END.isoformat()},
        sort_keys=True,
    )  # fmt: skip
    exists = psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}'") == "1"  # noqa: S608
    kept = (
        exists
        and not args.reseed
        and psql(
            f"SELECT shobj_description(oid, 'pg_database') FROM pg_database "  # noqa: S608
            f"WHERE datname = '{database}'"
        )
        == wanted
    )
    seeded: dict[str, Any] | None = None
    if kept:
        # Migrations added since the seed apply to it (nothing to do when there are none).
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
            cwd=ROOT, check=True, timeout=600,
        )  # fmt: skip
        print(f"{database}: seeded already ({wanted})", flush=True)
    else:
        bench_db.fresh(database, template=args.template)
        seeded = seed(args.lines, args.shoppers)
        print(f"seeded: {seeded}", flush=True)
        psql("VACUUM ANALYZE", database)
        psql(f"COMMENT ON DATABASE {database} IS '{wanted}'")

    full = _window_counts(database, START, END)
    small_end = _small_end(database, args.small_lines)
    small = _window_counts(database, START, small_end)
    scope = psql(
        f"SELECT count(*) FROM shops_sale s WHERE s.local_date < '{START}' AND s.trip_id IN "  # noqa: S608
        f"(SELECT trip_id FROM shops_sale WHERE local_date BETWEEN '{START}' AND '{END}')",
        database,
    )
    runs: dict[str, Any] = {}
    fulls: list[dict[str, Any]] = []
    for name, start, end, which in (
        ("small", START, small_end, "draft"),
        *(("full", START, END, "draft") for _ in range(args.runs)),
        ("in_force_small", START, small_end, "in_force"),
    ):
        figures = _run_measure(database, start, end, which)
        if name == "full":
            fulls.append(figures)
        else:
            runs[name] = figures
        print(
            f"{name}: {start}–{end} {figures['result']['sales']:,} sales judged in "
            f"{figures['seconds']} s, refused {figures['result']['refused_sales']:,} "
            f"{figures['result']['refused_by_code']}; peak RSS {figures['peak_rss_kib']:,} KiB",
            flush=True,
        )
    # The median run's figures (a shared machine's runs differ by a few seconds); each run's
    # time and peak RSS beside them.
    runs["full"] = sorted(fulls, key=lambda figures: figures["seconds"])[len(fulls) // 2]
    runs["full"]["each_run"] = [
        {key: figures[key] for key in ("seconds", "client_cpu_seconds",
                                        "postgres_backend_cpu_seconds", "peak_rss_kib")}
        for figures in fulls
    ]  # fmt: skip
    seconds = runs["full"]["seconds"]
    results = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join([".venv/bin/python bench/preview_bench.py", *sys.argv[1:]]),
        "make": "make bench-preview",
        "git_commit": _git(),
        "database": database,
        "machine": _machine(database),
        "data": {
            "window": {
                "start": START.isoformat(),
                "end": END.isoformat(),
                "days": (END - START).days + 1,
            },
            "lines": full["lines"],
            "sales": full["sales"],
            "earlier_sales_of_the_window_trips": int(scope),
            "small_window": {"start": START.isoformat(), "end": small_end.isoformat(), **small},
            "database": _database_counts(database),
            "seeded_now": seeded,
        },
        "seconds": seconds,
        "lines_per_second": round(full["lines"] / seconds),
        "sales_per_second": round(full["sales"] / seconds),
        "rss_kib_samples": runs["full"]["rss_kib_samples"],
        "peak_rss_kib": {
            "small": runs["small"]["peak_rss_kib"],
            "full": runs["full"]["peak_rss_kib"],
        },
        "judged": {
            "sales": runs["full"]["result"]["sales"],
            "lines": runs["full"]["result"]["lines"],
            "refused_sales": runs["full"]["result"]["refused_sales"],
            "refused_lines": runs["full"]["result"]["refused_lines"],
        },
        "runs": runs,
        "goal": {"lines": 1_000_000, "seconds_max": GOAL_SECONDS, "memory": "flat"},
        "goal_met": seconds <= GOAL_SECONDS,
    }
    args.out.mkdir(exist_ok=True)
    (args.out / "policy_preview.json").write_text(json.dumps(results, indent=2) + "\n")
    print(
        f"policy preview: {full['lines']:,} lines ({full['sales']:,} sales) in {seconds} s "
        f"(median of {len(fulls)}: {', '.join(str(f['seconds']) for f in fulls)}) "
        f"= {results['lines_per_second']:,} lines/s (goal: under {GOAL_SECONDS} s); peak RSS "
        f"{runs['small']['peak_rss_kib'] / 1024:.0f} MiB for {small['lines']:,} lines, "
        f"{runs['full']['peak_rss_kib'] / 1024:.0f} MiB for {full['lines']:,}; refused "
        f"{runs['full']['result']['refused_sales']:,} of {runs['full']['result']['sales']:,} "
        "sales"
    )


if __name__ == "__main__":
    main()
