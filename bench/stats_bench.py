"""Statistics benchmark on PostgreSQL: rollups and the stats API over 10 million sale lines.

    .venv/bin/python bench/stats_bench.py [--lines 10000000] [--reuse] [--database NAME]
        [--template NAME] [--out DIR] [--shoppers N] [--busy-lines N] [--no-import]

1. Generates the sales of about three years (2024-01-01 → 2026-10-31: seasonality, a Spring
   Festival peak, one busy day of 30,000 lines) with COPY into a fresh database
   ``dutyfree_statsbench`` (shoppers, accounts and trips by set-based INSERTs, sales and lines
   by COPY). ``--reuse`` keeps a database that already holds the same number of lines.
2. Times the raw PostgreSQL ``GROUP BY`` of all lines (what the category rollup computes,
   written nowhere) against ``rollups.rebuild_all`` (``rebuild_stats``; ratio; goal ≤ 1.5).
3. Times the refresh of the busy day (every store marked dirty; goal ≤ 0.2 s).
4. Times ``GET /api/v1/stats/sales`` for a month and for a year (server time from the
   ``Server-Timing`` header, median of 5; goals ≤ 100 ms and ≤ 1 s), with and without groups.
5. Runs bench/import_sales_bench.py: ``import_sales`` of a generated CSV into fresh
   databases (lines/s; goal ≥ 50,000).

Writes bench/results/stats.json (``--out`` another folder). The server is bench_db.py's
(``BENCH_SERVER``). Loopback only, bounded (no step runs unbounded). The test suite runs it on a
few thousand lines (tests/bench/test_bench_smoke.py).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
DB = "dutyfree_statsbench"
FIRST, LAST = date(2024, 1, 1), date(2026, 10, 31)
BUSY_DAY = date(2026, 2, 17)
CATEGORIES = [
    "cosmetics", "perfume", "watches", "jewellery", "handbags", "alcohol", "mobile_phones",
    "clothing", "shoes", "sunglasses", "tea", "health_foods", "toys", "digital_cameras",
    "tablets", "headphones", "glassware", "pens", "scarves", "milk_powder",
]  # fmt: skip

sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.pop("REDIS_URL", None)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dutyfree.settings")
os.environ.setdefault("LOG_LEVEL", "INFO")

import bench_db  # noqa: E402 - found through the path set above
from bench_db import psql  # noqa: E402


def weight(day: date) -> float:
    """Seasonality: Spring Festival and National Day peaks, growth after 2025-12-18."""
    w = 1.0 + 0.15 * (day.weekday() >= 5)
    for peak, spread, height in (
        (date(day.year, 10, 3), 5, 1.2),
        (_spring(day.year), 8, 1.6),
    ):
        distance = abs((day - peak).days)
        if distance <= spread * 2:
            w += height * max(0.0, 1 - distance / (spread * 2))
    if day >= date(2025, 12, 18):
        w *= 1.35
    return w


def _spring(year: int) -> date:
    return {2024: date(2024, 2, 10), 2025: date(2025, 1, 29), 2026: date(2026, 2, 17)}[year]


def generate(lines_wanted: int, *, shoppers: int, busy_lines: int) -> dict[str, int]:
    """Load shoppers, accounts, trips (SQL) and sales + lines (COPY). Returns counts."""
    import django

    django.setup()
    from django.db import connection

    from quotas.models import Policy
    from shops.models import Store

    stores = list(Store.objects.order_by("id").values_list("id", flat=True))
    policies = sorted(Policy.objects.filter(status="published").values_list("effective_from", "id"))
    days = [FIRST + timedelta(days=n) for n in range((LAST - FIRST).days + 1)]
    weights = {day: weight(day) for day in days}
    regular = lines_wanted - busy_lines
    total_weight = sum(w for d, w in weights.items() if d != BUSY_DAY)
    lines_per_day = {
        d: (busy_lines if d == BUSY_DAY else round(regular * w / total_weight))
        for d, w in weights.items()
    }
    rng = random.Random(2026)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO quotas_shopper (id, document_type, document_country, document_key, "
            "document_last4, name_key, key_version, birth_year, hainan_resident, created_at, "
            "updated_at) SELECT n, 'passport', 'CHN', md5(n::text) || md5((n + 1)::text), "
            "lpad((n %% 10000)::text, 4, '0'), md5(n::text), 1, 1985, n %% 20 = 0, "
            "now(), now() FROM generate_series(1, %s) AS n",
            [shoppers],
        )
        cursor.execute(
            'INSERT INTO quotas_quotaaccount (id, shopper_id, programme_id, year, "limit", '
            "used, updated_at) SELECT (s - 1) * 3 + (y - 2024) + 1, s, "
            "(SELECT id FROM quotas_programme LIMIT 1), y, 100000, 0, now() "
            "FROM generate_series(1, %s) AS s, generate_series(2024, 2026) AS y",
            [shoppers],
        )
    sale_id = line_id = trips = 0
    raw = connection.connection  # the psycopg connection (autocommit)
    with raw.cursor() as cur:
        # Benchmark data only: no foreign-key triggers while loading (each COPY commits alone).
        cur.execute("SET session_replication_role = replica")
        with (
            cur.copy(
                "COPY shops_sale (id, receipt_no, store_id, terminal_id, shopper_id, trip_id, "
                "account_id, policy_id, sold_at, local_date, pickup, traveller_kind, status, "
                "total, returned_amount, quota_used_after, idempotency_key, "
                "request_fingerprint, imported) FROM STDIN"
            ) as sales_copy,
        ):
            trip_rows = io.StringIO()
            line_buffer = io.StringIO()
            for day in days:
                left = lines_per_day[day]
                policy = max(pid for since, pid in policies if since.date() <= day)
                while left > 0:
                    sale_id += 1
                    count = min(left, rng.choice((1, 2, 2, 3, 3, 4, 5, 6)))
                    left -= count
                    shopper = rng.randrange(1, shoppers + 1)
                    store = rng.choice(stores)
                    roll = rng.random()
                    kind = "domestic" if roll < 0.8 else "outbound" if roll < 0.95 else "resident"
                    seconds = rng.randrange(8 * 3600, 22 * 3600)
                    sold = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(
                        seconds=seconds - 8 * 3600
                    )
                    trip = ""
                    if kind != "resident":
                        trips += 1
                        trip = str(trips)
                        trip_rows.write(
                            f"{trips}\t{shopper}\t{kind}\tair\tHU{trips % 9000}\t"
                            f"{(sold + timedelta(hours=30)).isoformat()}\t\\N\t{sold.isoformat()}\n"
                        )
                    total = 0
                    for number in range(1, count + 1):
                        line_id += 1
                        quantity = rng.choice((1, 1, 1, 2, 3))
                        price = rng.choice((128, 299, 560, 890, 1280, 2300, 4800, 12000))
                        total += quantity * price
                        line_buffer.write(
                            f"{line_id}\t{sale_id}\t{number}\t\\N\tSKU{price}\t"
                            f"{rng.choice(CATEGORIES)}\t{quantity}\t{price}.00\t"
                            f"{quantity * price}.00\t1\t\\N\t0\n"
                        )
                    status = "voided" if rng.random() < 0.02 else "completed"
                    account = (shopper - 1) * 3 + (day.year - 2024) + 1
                    sales_copy.write(
                        f"{sale_id}\tB{sale_id}\t{store}\t0\t{shopper}\t{trip or chr(92) + 'N'}\t"
                        f"{account}\t{policy}\t{sold.isoformat()}\t{day.isoformat()}\tdeparture\t"
                        f"{kind}\t{status}\t{total}.00\t0.00\t0.00\tB{sale_id}\tbench\tt\n"
                    )
        with cur.copy(
            "COPY quotas_trip (id, shopper_id, kind, mode, carrier_ref, departs_at, departed_at, "
            "created_at) FROM STDIN"
        ) as copy:
            copy.write(trip_rows.getvalue())
        with cur.copy(
            "COPY shops_saleline (id, sale_id, line_no, product_id, sku, category_code, "
            "quantity, unit_price, amount, pieces, volume_ml, returned_quantity) FROM STDIN"
        ) as copy:
            copy.write(line_buffer.getvalue())
        for table in ("quotas_shopper", "quotas_quotaaccount", "quotas_trip", "shops_sale",
                      "shops_saleline"):  # fmt: skip
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                f"(SELECT MAX(id) FROM {table}))"
            )
        cur.execute("SET session_replication_role = DEFAULT")
    return {
        "sales": sale_id,
        "lines": line_id,
        "trips": trips,
        "shoppers": shoppers,
        "generate_seconds": round(time.perf_counter() - started, 1),
    }


def timed(function: Callable[[], object], repeat: int = 1) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lines", type=int, default=10_000_000)
    parser.add_argument("--shoppers", type=int, default=600_000)
    parser.add_argument("--busy-lines", type=int, default=30_000, help=f"lines on {BUSY_DAY}")
    parser.add_argument("--reuse", action="store_true", help="keep a loaded database")
    parser.add_argument("--database", default=DB)
    parser.add_argument("--template", help="copy this migrated database instead of migrating")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder of the results")
    parser.add_argument("--import-lines", type=int, default=200_000)
    parser.add_argument(
        "--no-import", action="store_true", help="reuse the folder's import_sales.json, if any"
    )
    args = parser.parse_args()
    database = bench_db.checked_name(args.database)
    os.environ["DATABASE_URL"] = bench_db.url(database)

    exists = psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}'") == "1"  # noqa: S608
    # --reuse: keep a database loaded with about the same number of lines (±1 %).
    loaded = (
        exists
        and args.reuse
        and abs(int(psql("SELECT COUNT(*) FROM shops_saleline", database) or 0) - args.lines)
        <= args.lines // 100
    )
    counts: dict[str, int] = {}
    if not loaded:
        bench_db.fresh(database, template=args.template)
        counts = generate(args.lines, shoppers=args.shoppers, busy_lines=args.busy_lines)
        print(f"generated: {counts}", flush=True)
        psql("VACUUM ANALYZE", database)

    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    from shops import sql
    from shops.models import DirtyDay, Store
    from shops.reporting import rollups

    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*), COUNT(DISTINCT sale_id) FROM shops_saleline")
        lines, sales = cursor.fetchone()
    print(f"lines {lines:,}  sales {sales:,}", flush=True)

    # The raw GROUP BY: what the category rollup computes, over every line, its rows fetched
    # by the client and written nowhere. (Wrapped in SELECT COUNT(*) FROM (...), PostgreSQL
    # drops the unused aggregates, COUNT(DISTINCT) included: no baseline at all.)
    raw_sql = sql.ROLLUP_CATEGORY.format(where="TRUE")

    def raw_group_by() -> None:
        with connection.cursor() as cursor:
            cursor.execute(raw_sql)
            cursor.fetchall()

    raw_seconds = timed(raw_group_by, repeat=2)
    print(f"raw GROUP BY: {raw_seconds:.2f} s", flush=True)
    DirtyDay.objects.all().delete()
    # what rebuild_stats does
    rebuild_seconds = timed(lambda: rollups.rebuild_all(now=datetime.now(UTC)), repeat=1)
    print(f"full rebuild: {rebuild_seconds:.2f} s  ratio {rebuild_seconds / raw_seconds:.2f}")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*) FROM shops_saleline l JOIN shops_sale s ON s.id = l.sale_id "
            "WHERE s.local_date = %s",
            [BUSY_DAY],
        )
        busy_lines = cursor.fetchone()[0]

    def busy_refresh() -> None:
        now = datetime.now(UTC)
        DirtyDay.objects.bulk_create(
            DirtyDay(day=BUSY_DAY, store_id=store, marked_at=now)
            for store in Store.objects.values_list("id", flat=True)
        )
        rollups.refresh_dirty(now=now)

    busy_seconds = statistics.median(timed(busy_refresh) for _ in range(5))
    print(f"busy day refresh ({busy_lines:,} lines): {busy_seconds * 1000:.0f} ms", flush=True)

    user, _ = get_user_model().objects.get_or_create(
        username="bench-staff", defaults={"is_staff": True}
    )
    client = Client()
    client.force_login(user)

    def api(start: str, end: str, group_by: str | None = None) -> dict[str, float]:
        params = {"start": start, "end": end}
        if group_by:
            params["group_by"] = group_by
        server, wall = [], []
        for _ in range(5):
            started = time.perf_counter()
            response = client.get("/api/v1/stats/sales", params)
            wall.append(time.perf_counter() - started)
            if response.status_code != 200:
                raise RuntimeError(response.content)
            server.append(float(response["Server-Timing"].split("dur=")[1]))
        return {
            "server_ms_median": round(statistics.median(server), 1),
            "wall_ms_median": round(statistics.median(wall) * 1000, 1),
        }

    api_figures = {}
    for name, start, end in (("month", "2026-01-01", "2026-01-31"),
                             ("year", "2025-11-01", "2026-10-31")):  # fmt: skip
        for group in (None, "day", "store", "category"):
            key = f"{name}{'_' + group if group else ''}"
            api_figures[key] = api(start, end, group)
            print(f"stats API {key}: {api_figures[key]}", flush=True)

    # import_sales lines/s: bench/import_sales_bench.py (fresh databases of its own).
    imported_file = args.out / "import_sales.json"
    if not args.no_import:
        subprocess.run(
            [sys.executable, "bench/import_sales_bench.py", "--lines", str(args.import_lines),
             "--out", str(args.out)],
            cwd=ROOT,
            check=True,
            timeout=1800,
        )  # fmt: skip
    import_figures = None
    if imported_file.exists():
        imported = json.loads(imported_file.read_text())
        import_figures = {
            "lines": imported["file"]["lines"],
            "lines_per_second": imported["lines_per_second"],
            "books_ok": imported["books_ok"],
            "details": str(
                imported_file.relative_to(ROOT)
                if imported_file.is_relative_to(ROOT)
                else imported_file
            ),
        }
    print(f"import_sales: {import_figures}", flush=True)

    results = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": "python bench/stats_bench.py " + " ".join(sys.argv[1:]),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "data": {"lines": lines, "sales": sales, "days": (LAST - FIRST).days + 1, **counts},
        "raw_group_by_seconds": round(raw_seconds, 3),
        "full_rebuild_seconds": round(rebuild_seconds, 3),
        "rebuild_to_raw_ratio": round(rebuild_seconds / raw_seconds, 2),
        "busy_day": {"lines": busy_lines, "refresh_ms_median": round(busy_seconds * 1000, 1)},
        "stats_api": api_figures,
        "import_sales": import_figures,
        "goals": {
            "rebuild_to_raw_ratio_max": 1.5,
            "busy_day_refresh_ms_max": 200,
            "stats_api_month_ms_max": 100,
            "stats_api_year_ms_max": 1000,
            "import_lines_per_s_min": 50_000,
        },
    }
    args.out.mkdir(exist_ok=True)
    (args.out / "stats.json").write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
