"""A retry storm through the HTTP API: 1,000 distinct sales from 4 terminals in 4 stores, each
sent 1–3 times with its ``Idempotency-Key``, some copies racing on the same key from different
threads (real threads, one connection each, PostgreSQL).

Exactly 1,000 sales are written; every replay (``Idempotent-Replayed: true``) is byte for byte
the first answer (status and body); a copy that meets its twin still running gets 409
``request_in_progress`` and retries until the first answer is stored; nothing answers 5xx; and
the books balance afterwards (``shops.reporting.audit``, rollups included after a refresh) — and all
along: a thread refreshes the rollups and proves the books on the live database while the
storm goes on.
"""

from __future__ import annotations

import json
import queue
import random
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from quotas.models import QuotaAccount
from shops.models import Sale
from shops.reporting import audit as books
from shops.reporting import rollups
from tests import support

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

SALES = 1000
SHOPPERS = 100  # ten sales each, spread over the four terminals: their account lock is shared
THREADS = 8
STORES = ("SYA-HTB", "SYA-AIR", "HAK-T1", "QHI-BOAO")
RETRY_409_FOR = 30.0  # seconds a copy keeps retrying while its twin is still running


@dataclass(frozen=True)
class Request:
    key: str
    terminal: int
    body: bytes


@dataclass(frozen=True)
class Answer:
    key: str
    status: int
    replayed: bool
    content: bytes
    conflicts: int  # 409s met before this answer


def requests(rng: random.Random) -> list[Request]:
    """Each sale: its shopper's trip, one or two lipsticks (cosmetics: at most 20 of the 30
    pieces a trip allows over ten sales), and sometimes perfume, a scarf or one bottle of wine
    (at most two of 750 ml per shopper: the 1,500 ml limit exactly)."""
    made = []
    for n in range(SALES):
        person = n % SHOPPERS
        lines = [("RS-LIP", rng.randint(1, 2))]
        if rng.random() < 0.4:
            lines.append(("RS-PERFUME", 1))
        if rng.random() < 0.3:
            lines.append(("RS-SCARF", rng.randint(1, 3)))
        if n // SHOPPERS in (3, 7):
            lines.append(("RS-WINE", 1))
        who = support.shopper(support.resident_id(5000 + person), name=f"风暴{person}")
        body = support.json_basket(support.basket(*lines, who=who))
        made.append(
            Request(
                key=f"storm-{n:04d}",
                terminal=(n + person) % len(STORES),
                body=json.dumps(body, ensure_ascii=False).encode(),
            )
        )
    return made


def schedule(sales: list[Request], rng: random.Random) -> list[Request]:
    """Every sale once, in random order; a second or third copy either right behind it (the
    threads take neighbouring jobs at the same moment: they race on the key) or later on (a
    retry after the first answer)."""
    order = sales[:]
    rng.shuffle(order)
    jobs: list[Request] = []
    later: list[Request] = []
    for sale in order:
        copies = rng.choice([1, 1, 2, 2, 3])
        jobs.append(sale)
        if copies > 1 and rng.random() < 0.5:
            jobs += [sale] * (copies - 1)
        else:
            later += [sale] * (copies - 1)
    rng.shuffle(later)
    for sale in later:  # anywhere after the first copy... or at the very end
        jobs.insert(rng.randint(jobs.index(sale) + 1, len(jobs)), sale)
    return jobs


def send(client: Client, key: str, request: Request) -> Answer:
    """POST the sale; on 409 request_in_progress wait and send it again."""
    conflicts = 0
    deadline = time.monotonic() + RETRY_409_FOR
    while True:
        response = client.post(
            "/api/v1/sales",
            data=request.body,
            content_type="application/json",
            headers={"authorization": f"Bearer {key}", "idempotency-key": request.key},
        )
        if response.status_code == 409 and time.monotonic() < deadline:
            assert response.json()["code"] == "request_in_progress", response.content
            conflicts += 1
            time.sleep(0.002 * min(conflicts, 10))
            continue
        return Answer(
            key=request.key,
            status=response.status_code,
            replayed=response.headers.get("Idempotent-Replayed") == "true",
            content=response.content,
            conflicts=conflicts,
        )


def test_a_retry_storm_makes_each_sale_once_and_replays_its_first_answer(
    transactional_db: None,
) -> None:
    support.product("RS-LIP", "cosmetics", "320.00")
    support.product("RS-PERFUME", "perfume", "899.90")
    support.product("RS-SCARF", "silk_scarves", "188.88")
    support.product("RS-WINE", "alcohol", "1200.00", volume_ml=750)
    keys = [support.terminal(store)[1] for store in STORES]
    rng = random.Random(20261127)  # noqa: S311 - reproducible test data, not a secret
    sales = requests(rng)
    jobs: queue.Queue[Request] = queue.Queue()
    for job in schedule(sales, rng):
        jobs.put(job)
    copies = jobs.qsize()

    answers: list[Answer] = []
    failures: list[str] = []
    lock = threading.Lock()

    def worker() -> None:
        client = Client()
        try:
            while True:
                try:
                    request = jobs.get_nowait()
                except queue.Empty:
                    return
                try:
                    answer = send(client, keys[request.terminal], request)
                except Exception as exc:  # reported below, with the others
                    with lock:
                        failures.append(f"{request.key}: {exc!r}")
                    continue
                with lock:
                    answers.append(answer)
        finally:
            connection.close()

    # Meanwhile the rollups are refreshed, and the books proved on the live database: its
    # snapshot must never catch a sale half counted.
    storm_over = threading.Event()
    audits: list[books.Books] = []

    def auditor() -> None:
        try:
            while not storm_over.is_set():
                rollups.refresh_dirty(now=timezone.now())
                audits.append(books.check_books())
                time.sleep(0.05)
        except Exception as exc:  # reported below
            failures.append(f"auditor: {exc!r}")
        finally:
            connection.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, name=f"till-{n}") for n in range(THREADS)]
    audit = threading.Thread(target=auditor, name="auditor")
    for thread in [*threads, audit]:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    seconds = time.perf_counter() - started
    storm_over.set()
    audit.join(timeout=60)
    assert not any(thread.is_alive() for thread in [*threads, audit]), "a request hung"
    assert failures == []
    assert audits, "the books were never proved during the storm"
    assert [a.differences for a in audits if a.differences] == []
    assert any(a.sales and a.dirty_slices for a in audits), "no audit met the storm midway"
    assert len(answers) == copies

    statuses = Counter(answer.status for answer in answers)
    assert statuses == {201: copies}, statuses  # no 5xx, no 409 left, no refusal

    by_key: dict[str, list[Answer]] = defaultdict(list)
    for answer in answers:
        by_key[answer.key].append(answer)
    assert set(by_key) == {sale.key for sale in sales}
    for key, got in by_key.items():
        first = [answer for answer in got if not answer.replayed]
        assert len(first) == 1, (key, [(a.status, a.replayed) for a in got])
        for answer in got:
            assert answer.content == first[0].content, key  # byte for byte

    stored = dict(Sale.objects.values_list("idempotency_key", "id"))
    assert len(stored) == SALES
    assert Sale.objects.count() == SALES
    assert set(stored) == {sale.key for sale in sales}
    for key, got in by_key.items():
        assert json.loads(got[0].content)["id"] == stored[key]
    assert QuotaAccount.objects.count() == SHOPPERS

    rollups.refresh_all_dirty(now=timezone.now())
    report = books.check_books()
    assert report.differences == []
    assert report.notes == []
    assert (report.sales, report.accounts, report.dirty_slices) == (SALES, SHOPPERS, 0)

    replays = sum(answer.replayed for answer in answers)
    conflicts = sum(answer.conflicts for answer in answers)
    print(  # shown with -s: what the storm did
        f"\n{copies} requests for {SALES} sales in {seconds:.1f} s ({copies / seconds:.0f}/s, "
        f"{THREADS} threads): {replays} replays, {conflicts} times 409 request_in_progress; "
        f"{len(audits)} audits during the storm; {report.summary()}"
    )
