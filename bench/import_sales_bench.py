"""``import_sales`` throughput on PostgreSQL: a generated legacy file into a fresh database.

    .venv/bin/python bench/import_sales_bench.py [--lines 200000] [--runs 3]
        [--database dutyfree_importbench] [--template NAME] [--out DIR]

Generates a deterministic sales file (``generate_sales_csv``); then, ``--runs`` times, drops
and recreates the database, migrates it, loads a 500-product catalogue (``import_products``)
and runs ``manage.py import_sales`` on the file as an operator would, recording its summary
(lines/s measured inside the import), its wall time, and the CPU spent by the command and by
its PostgreSQL backends. Then it runs the file once more (every receipt skipped), checks the
books (sum of ledger entries = used, totals = sum of lines, one entry per sale, every line
written, no account over its limit) and writes ``bench/results/import_sales.json`` (``--out``
another folder).

Needs PostgreSQL: bench_db.py's server (``BENCH_SERVER``, default 127.0.0.1:5432, user postgres,
trust). The test suite runs it on a few thousand lines (tests/bench/test_bench_smoke.py).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import random
import re
import resource
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_db

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
SHANGHAI = timezone(timedelta(hours=8))

SALES_HEADER = [
    "receipt_no",
    "store_code",
    "sold_at",
    "doc_type",
    "doc_number",
    "name",
    "birth_date",
    "hainan_resident",
    "trip_kind",
    "trip_mode",
    "carrier_ref",
    "departs_at",
    "pickup",
    "sku",
    "category_code",
    "quantity",
    "unit_price",
]
PRODUCTS_HEADER = [
    "sku",
    "name_zh",
    "name_en",
    "brand",
    "category_code",
    "retail_price",
    "volume_ml",
    "pieces",
]
STORES = ["SYA-HTB", "SYA-AIR", "SYA-HTDF", "SYA-CNSC", "HAK-IDFC", "HAK-T1", "HAK-RIYUE"]
CATEGORIES = [
    "cosmetics",
    "perfume",
    "watches",
    "jewellery",
    "bags_luggage",
    "clothing",
    "footwear_hats",
    "confectionery",
    "tea",
    "toys",
    "eyewear",
    "small_appliances",
]
CARRIERS = ["HU7181", "CZ6712", "MU5302", "D7301", "HU7109", "3U8812", "G8821", "QF9"]
PICKUPS = ["departure", "departure", "departure", "mail", "immediate", "return_to_island"]


def generate_products_csv(path: Path, *, count: int = 500, seed: int = 2026) -> list[str]:
    """A catalogue for ``import_products``; returns the SKUs."""
    rng = random.Random(seed)
    skus = [f"SKU-{n:05d}" for n in range(count)]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(PRODUCTS_HEADER)
        for sku in skus:
            price = f"{rng.randint(50, 3000)}.00"
            pieces = rng.choice([1, 1, 1, 3, 5])
            writer.writerow(
                [
                    sku,
                    f"商品{sku}",
                    f"Product {sku}",
                    "Bench",
                    rng.choice(CATEGORIES),
                    price,
                    "",
                    pieces,
                ]
            )
    return skus


def generate_sales_csv(
    path: Path,
    *,
    lines: int = 200_000,
    shoppers: int = 20_000,
    skus: list[str] | None = None,
    seed: int = 2026,
    until: datetime | None = None,
) -> dict[str, int]:
    """A legacy sales file of about ``lines`` rows (1–8 lines per receipt), deterministic.

    Sales fall in the three years before ``until`` (default 2026-11-01, Asia/Shanghai), half
    written in UTC (``Z``), half with ``+08:00``; 80 % with a trip (domestic or outbound), the
    rest residents without one; 70 % of lines name a catalogue SKU, 15 % an unknown SKU with a
    category, 15 % no SKU. About 3 % of receipts have a row moved further down the file
    (non-adjacent rows). Returns counts of lines and receipts.
    """
    rng = random.Random(seed)
    skus = skus or []
    until = until or datetime(2026, 11, 1, tzinfo=SHANGHAI)
    span = int(timedelta(days=3 * 365).total_seconds())
    people = []
    for n in range(shoppers):
        birth = date(1950, 1, 1) + timedelta(days=rng.randint(0, 20_000))
        number = f"460100{birth:%Y%m%d}{n % 10_000:04d}"
        people.append((number, f"旅客{n:05d}", birth.isoformat(), rng.random() < 0.2))
    rows: list[list[str]] = []
    receipts = 0
    while len(rows) < lines:
        receipts += 1
        number, name, birth, resident = rng.choice(people)
        sold = until - timedelta(seconds=rng.randint(3600, span))
        sold_text = (
            sold.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            if receipts % 2
            else sold.isoformat()
        )
        if rng.random() < 0.8:
            departs = (sold + timedelta(hours=rng.randint(3, 72))).replace(minute=30, second=0)
            trip = [
                "outbound" if rng.random() < 0.1 else "domestic",
                "air",
                rng.choice(CARRIERS),
                departs.isoformat(),
            ]
            pickup = rng.choice(PICKUPS[:4])
        else:
            trip = ["", "", "", ""]
            pickup = "immediate"
        head = [
            f"LEG-{receipts:08d}",
            rng.choice(STORES),
            sold_text,
            "resident_id",
            number,
            name,
            birth,
            "true" if resident else "false",
            *trip,
            pickup,
        ]
        for _ in range(min(rng.randint(1, 7), lines - len(rows))):
            draw = rng.random()
            if draw < 0.7 and skus:
                sku, category = rng.choice(skus), ""
            elif draw < 0.85:
                sku, category = f"OLD-{rng.randint(0, 9999):04d}", rng.choice(CATEGORIES)
            else:
                sku, category = "", rng.choice(CATEGORIES)
            price = f"{rng.randint(20, 2500)}.{rng.choice(['00', '50', '99'])}"
            rows.append([*head, sku, category, str(rng.randint(1, 3)), price])
    # Non-adjacent rows: move a few rows further down.
    for _ in range(len(rows) // 100):
        at = rng.randrange(len(rows) - 1)
        rows.insert(min(len(rows) - 1, at + rng.randint(2, 200)), rows.pop(at))
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(SALES_HEADER)
        writer.writerows(rows)
    return {"lines": len(rows), "receipts": receipts}


def _psql(database: str, sql: str) -> str:
    return bench_db.psql(sql, database, timeout=600)


def _manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=3600,
    )


def _fresh_database(
    database: str, env: dict[str, str], products: Path, template: str | None
) -> None:
    """Drop and create ``database`` (migrated, or a copy of ``template``), load the catalogue."""
    bench_db.fresh(database, template=template, env=env)
    done = _manage(env, "import_products", str(products))
    if done.returncode != 0:
        raise SystemExit(done.stderr)


_SUMMARY = re.compile(
    r"Receipts: (\d+) imported, (\d+) skipped \(existing\), (\d+) rejected\. "
    r"Lines: (\d+) read, (\d+) imported, in ([\d.]+) s \(([\d,]+) lines/s\)"
)


def _import(env: dict[str, str], path: Path, database: str) -> dict[str, object]:
    """Run ``manage.py import_sales`` as an operator would: its summary, its wall time, and
    the CPU it and its PostgreSQL backends spent (sampled from /proc while it runs)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "manage.py", "import_sales", str(path)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    backends: dict[int, float] = {}
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.05):
            backends.update(bench_db.backend_cpu(database))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = process.communicate(timeout=3600)
    wall = time.perf_counter() - started
    stop.set()
    sampler.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    match = _SUMMARY.search(out)
    if process.returncode != 0 or match is None:
        raise SystemExit(f"import_sales failed ({process.returncode}):\n{out}\n{err}")
    imported, skipped, rejected, lines, lines_imported, seconds, rate = match.groups()
    return {
        "summary": out.strip(),
        "imported": int(imported),
        "skipped": int(skipped),
        "rejected": int(rejected),
        "lines": int(lines),
        "lines_imported": int(lines_imported),
        "seconds": float(seconds),
        "lines_per_second": int(rate.replace(",", "")),
        "command_wall_seconds": round(wall, 2),
        "command_cpu_seconds": round(
            after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, 2
        ),
        "postgres_backend_cpu_seconds": round(sum(backends.values()), 2),
    }


def _books(database: str) -> dict[str, int]:
    def count(sql: str) -> int:
        return int(_psql(database, sql))

    return {
        "sales": count("SELECT count(*) FROM shops_sale"),
        "lines": count("SELECT count(*) FROM shops_saleline"),
        "entries": count("SELECT count(*) FROM quotas_quotaentry"),
        "shoppers": count("SELECT count(*) FROM quotas_shopper"),
        "accounts": count("SELECT count(*) FROM quotas_quotaaccount"),
        "trips": count("SELECT count(*) FROM quotas_trip"),
        "dirty_marks": count("SELECT count(*) FROM shops_dirtyday"),
        "accounts_off_ledger": count(
            "SELECT count(*) FROM quotas_quotaaccount AS a WHERE a.used <> "
            "(SELECT coalesce(sum(amount), 0) FROM quotas_quotaentry WHERE account_id = a.id)"
        ),
        "sales_off_lines": count(
            "SELECT count(*) FROM shops_sale AS s WHERE s.total <> "
            "(SELECT coalesce(sum(amount), 0) FROM shops_saleline WHERE sale_id = s.id)"
        ),
        "accounts_over_limit": count(
            'SELECT count(*) FROM quotas_quotaaccount WHERE used > "limit"'
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=200_000)
    parser.add_argument("--shoppers", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3, help="imports, each into a fresh database")
    parser.add_argument("--database", default="dutyfree_importbench")
    parser.add_argument("--template", help="copy this migrated database instead of migrating")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder of the results")
    args = parser.parse_args()
    database = bench_db.checked_name(args.database)
    env = {**os.environ, "DATABASE_URL": bench_db.url(database)}
    env.pop("REDIS_URL", None)

    with tempfile.TemporaryDirectory(prefix="import-sales-bench-") as tmp:
        products = Path(tmp) / "products.csv"
        skus = generate_products_csv(products)
        sales = Path(tmp) / "sales.csv"
        started = time.perf_counter()
        generated = generate_sales_csv(sales, lines=args.lines, shoppers=args.shoppers, skus=skus)
        generate_seconds = time.perf_counter() - started
        size = sales.stat().st_size
        runs = []
        for _ in range(args.runs):
            _fresh_database(database, env, products, args.template)
            runs.append(_import(env, sales, database))
            print(runs[-1]["summary"])
        again = _import(env, sales, database)
        print(again["summary"])

    books = _books(database)
    rates = sorted(int(run["lines_per_second"]) for run in runs)  # type: ignore[call-overload]
    ok = (
        all(run["rejected"] == 0 and run["imported"] == generated["receipts"] for run in runs)
        and books["sales"] == generated["receipts"]
        and books["lines"] == generated["lines"]
        and books["entries"] == books["sales"]
        and books["accounts_off_ledger"] == books["sales_off_lines"] == 0
        and books["accounts_over_limit"] == 0
        and again["skipped"] == generated["receipts"]
        and again["imported"] == 0
    )
    result = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": "manage.py import_sales FILE.csv (fresh database each run, default workers)",
        "database": database,
        "machine": {
            "cpus": os.cpu_count(),
            "load_average_1m_at_end": round(os.getloadavg()[0], 2),
            "python": platform.python_version(),
            "postgres": _psql(database, "SHOW server_version"),
        },
        "file": {**generated, "bytes": size, "generate_seconds": round(generate_seconds, 2)},
        "runs": runs,
        "lines_per_second": {"median": rates[len(rates) // 2], "best": rates[-1]},
        "rerun_all_skipped": again,
        "books_after_last_run": books,
        "books_ok": ok,
        "target_lines_per_second": 50_000,
    }
    args.out.mkdir(exist_ok=True)
    (args.out / "import_sales.json").write_text(json.dumps(result, indent=2) + "\n")
    print(
        f"lines/s over {len(runs)} runs: median {result['lines_per_second']['median']:,}, "
        f"best {rates[-1]:,} (target 50,000); books ok: {ok}"
    )
    if not ok:
        raise SystemExit(json.dumps(books, indent=2))


if __name__ == "__main__":
    main()
