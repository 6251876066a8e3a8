"""Deterministic demo data: the catalogue, a demo shopper, and two years of sales history.

The catalogue is ``shops/data/demo_catalogue.csv`` (``import_products``' format): real brands'
real product lines at duty-free prices, only in categories that the policy in force lists and
that are verified (never a placeholder such as serial 34–38). Each product of a kind on the
immediate-pickup list carries it (lipsticks and creams: cosmetics; sunglasses, not optical
frames; shavers, not hair dryers); watches, jewellery, phones and alcohol carry none. The
barcodes are made up — EAN-13 with a valid check digit, the GS1 prefix of the brand's country
and one company number per brand — not the products' real ones.

The history is generated, then imported as a legacy system's receipts; every receipt is judged
by :mod:`quotas.rules` as it is made (per-trip limits, the immediate-pickup caps per kind and
per variety, the annual quota, who may buy and how goods are collected), so the books check
clean — no difference and no note — and every demo sale would have been allowed.
"""

from __future__ import annotations

import io
import random
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from django.db import transaction

from dutyfree import money
from quotas import identity
from quotas import rules as quota_rules
from quotas.rules import LOCAL_TZ
from quotas.selectors import category_codes, shopper_has_spent
from shops.imports.products import known_immediate_kinds, parse_row, read_rows
from shops.models import Product, Store, Terminal

CATALOGUE_CSV = Path(__file__).resolve().parent.parent / "data" / "demo_catalogue.csv"


def demo_products(
    *, codes: set[str] | None = None, kinds: Mapping[str, str | None] | None = None
) -> list[Product]:
    """The demo catalogue, checked as ``import_products`` checks a file.

    ``codes``: the category codes a row may name, and ``kinds`` the immediate-pickup kinds
    with the categories holding them (default: those in the database, each kind as the newest
    published version listing it says); the OpenAPI examples pass the shipped policy's, as
    the schema is built without a database.

    :raises ValueError: a row of the file is not a valid product.
    """
    rows, problems = read_rows(CATALOGUE_CSV.read_bytes())
    if codes is None:
        codes = category_codes()
    if kinds is None:
        kinds = known_immediate_kinds(at=None)
    products = []
    for line_no, raw in rows or ():
        parsed, errors = parse_row(line_no, raw, codes, kinds)
        problems += errors
        if parsed is not None:
            products.append(Product(**parsed))
    if problems:
        raise ValueError(f"{CATALOGUE_CSV.name}: {'; '.join(problems)}")
    return products


@transaction.atomic
def load_demo_products() -> int:
    """Insert the demo catalogue's missing SKUs. Existing products are left as they are, but
    for a demo product with neither a kind nor a barcode (seeded before products had them),
    which takes both from the file. Returns the number inserted."""
    products = demo_products()
    existing = {
        product.sku: product
        for product in Product.objects.filter(sku__in=[p.sku for p in products])
    }
    Product.objects.bulk_create([p for p in products if p.sku not in existing])
    dated = []
    for product in products:
        old = existing.get(product.sku)
        if old is not None and not old.immediate_kind and not old.barcode:
            old.immediate_kind, old.barcode = product.immediate_kind, product.barcode
            dated.append(old)
    Product.objects.bulk_update(dated, ["immediate_kind", "barcode"])
    return len(products) - len(existing)


# A shopper to try /quota/ with (the contract's example document): printed by seed_demo.
DEMO_SHOPPER = {
    "doc_type": "resident_id",
    "country": "CHN",
    "number": "460100199001011230",
    "name": "张三",
}
_DEMO_BASKETS = (  # (store, pickup, [(sku, quantity)])
    ("SYA-HTB", "departure", [("COSMETICS-0301", 2), ("COSMETICS-0401", 1)]),
    ("SYA-HTB", "departure", [("ALCOHOL-0103", 1)]),
    ("HAK-RIYUE", "departure", [("WATCHES-0204", 1), ("COSMETICS-0201", 3)]),
)


def load_demo_shopper(*, now: datetime) -> int:
    """Give the demo shopper a trip three days ahead and three purchases in two stores, once a
    year (idempotent: nothing is added while the shopper has purchases this year). Returns the
    number of sales made."""
    from quotas.services import PresentedShopper
    from shops.pos.checkout import Basket, LineInput, TripInput, sale_commit
    from shops.pos.terminals import terminal_create

    key = identity.document_key(
        doc_type=DEMO_SHOPPER["doc_type"],
        country=DEMO_SHOPPER["country"],
        number=DEMO_SHOPPER["number"],
    )
    year = now.astimezone(LOCAL_TZ).year
    if shopper_has_spent(document_key=key, year=year):
        return 0
    shopper = PresentedShopper(
        doc_type=DEMO_SHOPPER["doc_type"],
        country=DEMO_SHOPPER["country"],
        number=DEMO_SHOPPER["number"],
        name=DEMO_SHOPPER["name"],
        birth_date=date(1990, 1, 1),
        hainan_resident=False,
    )
    departs = (
        (now + timedelta(days=3))
        .astimezone(LOCAL_TZ)
        .replace(hour=10, minute=30, second=0, microsecond=0)
    )
    trip = TripInput(kind="domestic", mode="air", carrier_ref="HU7181", departs_at=departs)
    made = 0
    for number, (code, pickup, lines) in enumerate(_DEMO_BASKETS, start=1):
        store = Store.objects.get(code=code)
        terminal = Terminal.objects.filter(store=store, name="demo-shopper").first()
        if terminal is None:
            terminal, _ = terminal_create(store=store, name="demo-shopper")
        sale_commit(
            terminal=terminal,
            idempotency_key=f"demo-shopper-{year}-{now:%m%d%H%M%S}-{number}",
            fingerprint=f"demo-shopper-{number}",
            basket=Basket(
                shopper=shopper,
                trip=trip,
                pickup=pickup,
                lines=tuple(LineInput(sku, quantity) for sku, quantity in lines),
            ),
            now=now - timedelta(minutes=30 * (len(_DEMO_BASKETS) - number + 1)),
        )
        made += 1
    return made


# --- Two years and more of history, so that year-on-year figures show on the first run ------
OPENING = date(2025, 12, 18)  # island-wide special customs operations: sales grew after it
# The 2025-11-01 policy: outbound travellers, and residents with an off-island record buying
# for immediate pickup without a trip.
OUTBOUND_FROM = date(2025, 11, 1)
_HISTORY_STORES = (  # (code, share of the sales)
    ("SYA-HTB", 30), ("HAK-IDFC", 18), ("SYA-AIR", 10), ("HAK-RIYUE", 10), ("SYA-HTDF", 8),
    ("SYA-CNSC", 6), ("HAK-MH", 6), ("HAK-GDF", 6), ("QHI-BOAO", 3), ("WNG-WFJ", 3),
)  # fmt: skip
_BASKET_CATEGORIES = (  # (category, weight)
    ("cosmetics", 40), ("perfume", 12), ("alcohol", 8), ("watches", 6), ("jewellery", 5),
    ("bags_luggage", 7), ("eyewear", 5), ("mobile_phones", 3), ("clothing", 6),
    ("footwear_hats", 4), ("tea", 2), ("pens", 2),
)  # fmt: skip
# Where the shoppers' identity cards were issued (GB/T 2260 codes): travellers from across the
# country, and Hainan residents (Haikou, Sanya).
_MAINLAND_REGIONS = ("110105", "310104", "440106", "510107", "330106", "420106", "320102")
_HAINAN_REGIONS = ("460105", "460203")


def resident_id_number(first17: str) -> str:
    """An identity card number with its GB 11643 check character."""
    return first17 + identity.resident_id_check_character(first17)


@dataclass(frozen=True)
class _Person:
    number: str
    name: str
    birth_date: date
    hainan_resident: bool


def _person(n: int) -> _Person:
    """Shopper ``n`` of the history: one identity card each, its birth date inside it; one in
    eight is a Hainan resident."""
    birth = date(1960 + n % 40, 1 + n % 9, 10 + n % 9)  # (n % 40, n % 9): 360 birth dates
    resident = n % 8 == 0
    regions = _HAINAN_REGIONS if resident else _MAINLAND_REGIONS
    first17 = f"{regions[n % len(regions)]}{birth:%Y%m%d}{n // 360 % 1000:03d}"
    return _Person(resident_id_number(first17), f"Demo Traveller {n}", birth, resident)


@dataclass(frozen=True)
class DemoDeparture:
    """A resident's departure from the island (the off-island record that lets a resident buy
    for immediate pickup without a trip), recorded after the import."""

    number: str
    carrier_ref: str
    departed_at: datetime


@dataclass
class DemoHistory:
    csv: str
    receipts: int
    departures: list[DemoDeparture]


def _history_weight(day: date) -> float:
    """Relative sales of a day: weekends, the Spring Festival and National Day peaks, summer,
    and the growth after the 2025-12-18 opening."""
    from shops.reporting.stats import spring_festival_holiday

    weight = 1.0 + (0.25 if day.weekday() >= 5 else 0.0)
    if day.month in (7, 8):
        weight += 0.2
    holiday = spring_festival_holiday(day.year)
    if holiday.start - timedelta(days=3) <= day <= holiday.end + timedelta(days=2):
        weight += 1.6
    if date(day.year, 10, 1) <= day <= date(day.year, 10, 7):
        weight += 1.2
    if day >= OPENING:
        weight *= 1.45
    return weight


def _facts(product: Product) -> quota_rules.ProductFacts:
    return quota_rules.ProductFacts(
        sku=product.sku,
        category_code=product.category_code,
        unit_price=product.retail_price,
        volume_ml=product.volume_ml,
        pieces=product.pieces,
        immediate_kind=product.immediate_kind or None,
    )


_TripKey = tuple[int, str, datetime]  # (shopper, carrier reference, departure)
_Taken = list[tuple[Product, int]]  # a receipt's lines: (product, quantity)
# A departure for the immediate-pickup caps: the trip, or, for a resident buying without one,
# the shopper and the local day (stricter than the rules, which cap each such purchase on its
# own).
_DepartureKey = _TripKey | tuple[int, date]


@dataclass
class _Shelves:
    """The catalogue as the history picks from it: by category, with the categories' basket
    weights, and the products each policy lets a shopper take away at once."""

    catalogue: list[Product]
    by_category: dict[str, list[Product]]
    categories: list[str]
    weights: list[int]
    immediate: dict[int | None, tuple[list[Product], list[int]]] = field(default_factory=dict)


def _shelves(catalogue: list[Product]) -> _Shelves:
    by_category: dict[str, list[Product]] = defaultdict(list)
    for product in catalogue:
        by_category[product.category_code].append(product)
    return _Shelves(
        catalogue=catalogue,
        by_category=by_category,
        categories=[code for code, _ in _BASKET_CATEGORIES if code in by_category],
        weights=[weight for code, weight in _BASKET_CATEGORIES if code in by_category],
    )


def _immediate_pool(
    policy: quota_rules.PolicyRules, products: list[Product]
) -> tuple[list[Product], list[int]]:
    """The products a shopper may take away at once under ``policy`` (of a kind on its list,
    priced below the ceiling) and how often each is picked: its category's basket weight."""
    weight = dict(_BASKET_CATEGORIES)
    pool = [
        product
        for product in products
        if product.immediate_kind in policy.immediate_kinds
        and product.retail_price < policy.immediate_max_unit_price
    ]
    return pool, [weight.get(product.category_code, 1) for product in pool]


def _immediate_shelf(
    *, shelves: _Shelves, policy: quota_rules.PolicyRules
) -> tuple[list[Product], list[int]]:
    """:func:`_immediate_pool` of ``policy``, worked out once per policy: a policy is in force
    for hundreds of days."""
    if policy.id not in shelves.immediate:
        shelves.immediate[policy.id] = _immediate_pool(policy, shelves.catalogue)
    return shelves.immediate[policy.id]


@dataclass
class _Held:
    """What the history's shoppers hold so far, as the rules count it, so that each receipt is
    judged against the receipts before it."""

    annual: dict[tuple[int, int], Decimal] = field(  # (shopper, year) → quota used
        default_factory=lambda: defaultdict(lambda: money.ZERO)
    )
    trips: dict[_TripKey, dict[str, int]] = field(  # per limited category
        default_factory=lambda: defaultdict(dict)
    )
    # What a departure took away at once, per kind and per (kind, SKU).
    picked: dict[_DepartureKey, dict[str, int]] = field(default_factory=lambda: defaultdict(dict))
    picked_sku: dict[_DepartureKey, dict[tuple[str, str], int]] = field(
        default_factory=lambda: defaultdict(dict)
    )
    left: dict[tuple[int, int], datetime] = field(  # (shopper, year) → off-island departure
        default_factory=dict
    )
    # Recorded only for a shopper with a receipt: a departure needs a shopper on file.
    departures: list[DemoDeparture] = field(default_factory=list)
    announced: set[tuple[int, int]] = field(default_factory=set)


@dataclass(frozen=True)
class _Visit:
    """A shopper at a till: who, when, and how they leave the island."""

    n: int
    person: _Person
    day: date
    sold: datetime
    pickup: str
    shopper: quota_rules.ShopperFacts
    trip: quota_rules.TripFacts | None
    trip_key: _TripKey | None
    trip_cells: list[str]  # the CSV's trip_kind, trip_mode, carrier_ref, departs_at

    @property
    def departure(self) -> _DepartureKey:
        return self.trip_key or (self.n, self.day)


def _opening(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=LOCAL_TZ)


def demo_history(
    *, first: date, last: date, seed: int = 2026, per_day: int = 30, shoppers: int = 6000
) -> DemoHistory:
    """Legacy-system receipts (import_sales's CSV) for every day from ``first`` to ``last``:
    about ``per_day`` receipts on an ordinary day, more on holidays. Each receipt is judged
    with the policy in force at its time against what its shopper already holds (the year's
    quota, the trip's limited categories); a line that would break a rule is left out, and a
    receipt left empty is not written.

    One random generator draws everything, in a fixed order: the same arguments give the
    same receipts."""
    from quotas.selectors import policy_in_force_cached
    from shops.imports.reading import COLUMNS

    rng = random.Random(seed)  # noqa: S311 - demo data, not security
    stores = [code for code, _ in _HISTORY_STORES if Store.objects.filter(code=code).exists()]
    shares = [share for code, share in _HISTORY_STORES if code in stores]
    shelves = _shelves(demo_products())
    held = _Held()
    rows = [",".join(COLUMNS)]
    receipts = 0
    day = first
    while day <= last:
        policy = policy_in_force_cached(at=_opening(day) + timedelta(hours=12)).rules
        count = max(1, round(per_day * _history_weight(day) * rng.uniform(0.85, 1.15)))
        for number in range(count):
            sale = _sale(
                rng=rng, day=day, policy=policy, shelves=shelves, held=held, shoppers=shoppers
            )
            if sale is None:
                continue  # nothing this shopper could buy (quota spent, trip full)
            receipts += 1
            visit, taken = sale
            rows += _receipt_rows(
                receipt_no=f"DEMO-{day:%Y%m%d}-{number:04d}",
                store=rng.choices(stores, shares)[0],
                visit=visit,
                taken=taken,
            )
        day += timedelta(days=1)
    return DemoHistory("\n".join(rows) + "\n", receipts, held.departures)


def _sale(
    *,
    rng: random.Random,
    day: date,
    policy: quota_rules.PolicyRules,
    shelves: _Shelves,
    held: _Held,
    shoppers: int,
) -> tuple[_Visit, _Taken] | None:
    """One shopper's receipt on ``day`` with the lines the rules allow, added to what the
    shopper holds; None when the rules allow none of them."""
    visit = _visit(rng=rng, day=day, shoppers=shoppers, held=held)
    usage = quota_rules.Usage(
        annual_used=held.annual[visit.n, day.year],
        trip_used=held.trips[visit.trip_key] if visit.trip_key else {},
        immediate_used=held.picked[visit.departure],
        immediate_sku_used=held.picked_sku[visit.departure],
    )
    chosen = _choose(rng=rng, shelves=shelves, policy=policy, pickup=visit.pickup)
    taken, verdict = _allowed_lines(rng=rng, policy=policy, visit=visit, usage=usage, chosen=chosen)
    if verdict is None:
        return None
    _hold(held=held, visit=visit, policy=policy, verdict=verdict, taken=taken)
    if visit.trip_key is None and (visit.n, day.year) not in held.announced:
        held.announced.add((visit.n, day.year))
        held.departures.append(
            DemoDeparture(
                visit.person.number, f"CZ{6300 + visit.n % 600}", held.left[visit.n, day.year]
            )
        )
    return visit, taken


def _visit(*, rng: random.Random, day: date, shoppers: int, held: _Held) -> _Visit:
    """Who comes to a till on ``day``, at what time, and how they leave: from the 2025-11-01
    policy, a resident with an off-island record this year, buying for immediate pickup
    without a trip, about one time in three; anyone else on a flight six hours to two and a
    half days after the sale, picking up at departure."""
    n = rng.randrange(1, shoppers + 1)
    person = _person(n)
    sold = _opening(day) + timedelta(minutes=rng.randrange(9 * 60, 22 * 60))
    roll = rng.random()
    trip: quota_rules.TripFacts | None
    if day >= OUTBOUND_FROM and person.hainan_resident and roll < 0.35:
        left = _left_island(rng=rng, n=n, sold=sold, held=held)
        shopper = quota_rules.ShopperFacts(
            birth_date=person.birth_date,
            hainan_resident=True,
            outbound_record_this_year=left < sold,
        )
        pickup, trip, trip_key, cells = "immediate", None, None, ["", "", "", ""]
    else:
        kind = "outbound" if day >= OUTBOUND_FROM and roll > 0.89 else "domestic"
        departs = sold + timedelta(hours=rng.randrange(6, 60))
        carrier = f"HU{7000 + n % 900}"
        shopper = quota_rules.ShopperFacts(
            birth_date=person.birth_date, hainan_resident=person.hainan_resident
        )
        pickup, trip = "departure", quota_rules.TripFacts(kind=kind, mode="air", departs_at=departs)
        trip_key, cells = (n, carrier, departs), [kind, "air", carrier, departs.isoformat()]
    return _Visit(
        n=n,
        person=person,
        day=day,
        sold=sold,
        pickup=pickup,
        shopper=shopper,
        trip=trip,
        trip_key=trip_key,
        trip_cells=cells,
    )


def _left_island(*, rng: random.Random, n: int, sold: datetime, held: _Held) -> datetime:
    """When resident ``n`` left the island in the year of ``sold``: drawn once a year, at the
    first purchase without a trip, between 30% and 90% of the way from New Year to it."""
    if (n, sold.year) not in held.left:
        year_start = datetime(sold.year, 1, 1, tzinfo=LOCAL_TZ)
        left = year_start + (sold - year_start) * rng.uniform(0.3, 0.9)
        held.left[n, sold.year] = left.replace(second=0, microsecond=0)
    return held.left[n, sold.year]


def _choose(
    *, rng: random.Random, shelves: _Shelves, policy: quota_rules.PolicyRules, pickup: str
) -> list[Product]:
    """The one to three products a shopper reaches for, by the categories' basket weights."""
    size = rng.choice((1, 1, 2, 2, 3))
    if pickup == "immediate":
        # Only products of a kind on the list, below the ceiling (the rules refuse any other
        # at once); the caps per kind and variety are the rules' to keep.
        immediate, weights = _immediate_shelf(shelves=shelves, policy=policy)
        return rng.choices(immediate, weights, k=size) if immediate else []
    chosen = []
    for category in rng.choices(shelves.categories, shelves.weights, k=size):
        product = rng.choice(shelves.by_category[category])
        if product.retail_price > 15000:  # the odd luxury piece, not every day
            product = rng.choice(shelves.by_category[category])
        chosen.append(product)
    return chosen


def _allowed_lines(
    *,
    rng: random.Random,
    policy: quota_rules.PolicyRules,
    visit: _Visit,
    usage: quota_rules.Usage,
    chosen: list[Product],
) -> tuple[_Taken, quota_rules.Verdict | None]:
    """A line per chosen product, each kept only if the rules allow the basket with it, and
    the verdict on the lines kept (None: none was)."""
    basket: list[quota_rules.BasketLine] = []
    taken: _Taken = []
    verdict = None
    for product in chosen:
        quantity = rng.choice((1, 1, 1, 2))
        line = quota_rules.BasketLine(product.sku, quantity, _facts(product))
        judged = quota_rules.judge_basket(
            policy=policy,
            shopper=visit.shopper,
            trip=visit.trip,
            pickup=visit.pickup,
            lines=[*basket, line],
            usage=usage,
            at=visit.sold,
        )
        if judged.allowed:
            basket.append(line)
            taken.append((product, quantity))
            verdict = judged
    return taken, verdict


def _hold(
    *,
    held: _Held,
    visit: _Visit,
    policy: quota_rules.PolicyRules,
    verdict: quota_rules.Verdict,
    taken: _Taken,
) -> None:
    """Add an allowed receipt to what its shopper holds: the year's quota, the trip's limited
    categories, what the departure took away at once."""
    held.annual[visit.n, visit.day.year] += verdict.total
    if visit.trip_key is not None:
        held.trips[visit.trip_key] = {
            limit.category.code: limit.used + limit.requested for limit in verdict.trip_limits
        }
    if visit.pickup != "immediate":
        return
    held.picked[visit.departure] = {
        cap.kind.code: cap.used + cap.requested for cap in verdict.immediate_limits
    }
    picked_sku = held.picked_sku[visit.departure]
    for product, quantity in taken:  # each of a listed kind: allowed at once
        listed = policy.immediate_kinds[product.immediate_kind]
        units = quantity * (product.pieces if listed.counts_pieces else 1)
        picked_sku[listed.code, product.sku] = picked_sku.get((listed.code, product.sku), 0) + units


def _receipt_rows(*, receipt_no: str, store: str, visit: _Visit, taken: _Taken) -> list[str]:
    """The receipt's CSV rows, one a line."""
    person = visit.person
    rows = []
    for product, quantity in taken:
        cells = [
            receipt_no,
            store,
            visit.sold.isoformat(),
            "resident_id",
            person.number,
            person.name,
            person.birth_date.isoformat(),
            "true" if person.hainan_resident else "false",
            *visit.trip_cells,
            visit.pickup,
            product.sku,
            product.category_code,
            str(quantity),
            str(product.retail_price),
        ]
        rows.append(",".join(cells))
    return rows


HISTORY_DAYS = 2 * 365 + 31


def load_demo_history(
    *,
    today: date,
    days: int = HISTORY_DAYS,
    seed: int = 2026,
    per_day: int = 30,
    shoppers: int = 6000,
    now: datetime,
) -> tuple[int, int]:
    """Import ``days`` of demo history up to yesterday (idempotent: receipts already in are
    skipped), record the residents' off-island departures it relies on, and bring the rollups
    up to date, all stamped ``now`` (the caller's clock). Returns (receipts imported,
    skipped)."""
    from shops.imports.batching import import_sales
    from shops.pos.departures import departure_record
    from shops.reporting.rollups import refresh_all_dirty

    if days <= 0:
        return 0, 0
    history = demo_history(
        first=today - timedelta(days=days),
        last=today - timedelta(days=1),
        seed=seed,
        per_day=per_day,
        shoppers=shoppers,
    )
    report = import_sales(io.StringIO(history.csv), now=now)
    if report.rejected:
        raise ValueError(f"demo history: {report.rejected} receipts rejected: {report.errors[:5]}")
    for departure in history.departures:  # recording one twice changes nothing
        departure_record(
            doc_type="resident_id",
            country="CHN",
            number=departure.number,
            carrier_ref=departure.carrier_ref,
            departed_at=departure.departed_at,
            now=now,
        )
    refresh_all_dirty(now=now)
    return report.imported, report.skipped


# The demo's draft version: the version in force with the cosmetics limit a third of its 30.
DEMO_DRAFT_NAMES = ("演示草案：化妆品每次离岛限购10件", "Demo draft: cosmetics 10 pieces per trip")
DEMO_DRAFT_COSMETICS = 10


def load_demo_draft(*, now: datetime) -> tuple[int, int | None]:
    """A draft of the version in force that lowers the cosmetics limit to 10 pieces a trip
    (once), previewed against the last 30 days of recorded sales when it is new: what the
    policy page's "Preview against recorded sales" shows at once. Returns the draft's id and
    the new preview's (None: the draft was there already)."""
    from quotas.selectors import draft_named, policy_in_force
    from quotas.services import policy_category_limit, policy_clone
    from shops.previews.services import default_window, preview_request, preview_run

    name_zh, name_en = DEMO_DRAFT_NAMES
    existing = draft_named(name_en)
    if existing is not None:
        return existing.pk, None
    with transaction.atomic():
        draft = policy_clone(policy=policy_in_force(at=now))
        draft.name_zh, draft.name_en = name_zh, name_en
        draft.save(update_fields=["name_zh", "name_en"])
        policy_category_limit(policy=draft, code="cosmetics", value=DEMO_DRAFT_COSMETICS)
    start, end = default_window(now)
    preview, _ = preview_request(policy_id=draft.pk, start=start, end=end, now=now, dispatch=False)
    preview_run(preview.pk, clock=lambda: now)
    return draft.pk, preview.pk
