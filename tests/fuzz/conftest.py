"""Fixtures for the contract fuzzing (test_contract_fuzz.py): a shop with products, terminals,
sales and a staff token, and the WSGI application called in the test's own thread and
transaction.

Examples per operation: ``FUZZ_EXAMPLES`` (default 25, what ``make test`` runs; ``make fuzz``
asks for more). Seed: ``FUZZ_SEED`` (default a fixed one, so ``make test`` is repeatable;
``FUZZ_SEED=random`` explores; a failure prints the seed to replay it with).
"""

from __future__ import annotations

import base64
import io
import os
import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlencode

import pytest
import schemathesis
from django.core import signals
from django.core.management import call_command
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import override_settings
from django.utils import timezone

from shops.models import SaleLine, Terminal
from tests import support

DEFAULT_EXAMPLES = 25
DEFAULT_SEED = 20260101

# The catalogue the fuzzer sells from (drawn often for `lines[].sku`).
SKUS = ("FZ-LIP", "FZ-CREAM", "FZ-WATCH", "FZ-WINE")
# Resident identity numbers (born 1990-01-01) drawn often for `document.number`.
RESIDENT_IDS = tuple(support.resident_id(serial) for serial in range(1, 8))
APPLICATION = get_wsgi_application()


# Answers by (operation, phase, generation mode, status), shown after the run with
# FUZZ_SUMMARY=1: how far the fuzzing got (a 201 for a sale, not only 400s).
ANSWERS: Counter[tuple[str, str, str, int]] = Counter()


def tally(case: schemathesis.Case, status: int) -> None:
    meta = case.meta
    phase = meta.phase.name.value if meta else "-"
    mode = meta.generation.mode.value if meta else "-"
    ANSWERS[case.operation.label, phase, mode, status] += 1


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not ANSWERS:
        return
    terminalreporter.section("contract fuzzing")
    if os.environ.get("FUZZ_SUMMARY"):
        terminalreporter.write_line("answers: operation, phase, mode: status x count")
        rows: dict[tuple[str, str, str], list[str]] = {}
        for (label, phase, mode, status), count in sorted(ANSWERS.items()):
            rows.setdefault((label, phase, mode), []).append(f"{status}x{count}")
        for (label, phase, mode), answers in rows.items():
            terminalreporter.write_line(f"{label:38} {phase:9} {mode:9} {' '.join(answers)}")
    terminalreporter.write_line(
        f"{sum(ANSWERS.values())} requests; FUZZ_EXAMPLES={fuzz_examples()} FUZZ_SEED={SEED}"
    )


def fuzz_examples() -> int:
    return int(os.environ.get("FUZZ_EXAMPLES") or DEFAULT_EXAMPLES)


def fuzz_seed() -> int:
    value = os.environ.get("FUZZ_SEED") or str(DEFAULT_SEED)
    if value == "random":
        return random.SystemRandom().randrange(2**32)
    return int(value)


# One seed for the session (the schema's config reads it at import).
SEED = fuzz_seed()


def departure() -> str:
    """A departure three days ahead: a trip a sale can be made for."""
    return (timezone.localtime() + timedelta(days=3)).replace(microsecond=0).isoformat()


def now() -> str:
    return timezone.localtime().replace(microsecond=0).isoformat()


def days() -> list[str]:
    """Today, a month ago and a year ago (stats periods with and without sales)."""
    today = timezone.localdate()
    return [str(today), str(today - timedelta(days=30)), str(today - timedelta(days=365))]


# The calendar's ends, as a day, as a time without an offset (read as Asia/Shanghai) and with
# the widest offsets there are: converting any of them to another zone can leave the calendar.
EDGE_DAYS = ("0001-01-01", "9999-12-31")
EDGE_OFFSETS = ("", "Z", "+14:00", "-14:00")


def instants_at_the_edges() -> list[str]:
    """Now, and the first and last instants Python can write, each with every edge offset."""
    first, last = EDGE_DAYS
    edges = [f"{first}T00:00:00{offset}" for offset in EDGE_OFFSETS]
    edges += [f"{last}T23:59:59{offset}" for offset in EDGE_OFFSETS]
    return [now(), *EDGE_DAYS, *edges]


def days_at_the_edges() -> list[str]:
    return [*days(), *EDGE_DAYS]


def cursors(seed: int) -> list[str]:
    """Cursors a list did not give: random base64 (drawn from ``seed``), and valid base64 of
    cursor query strings whose position is not a position of the list (DRF's cursor is
    ``o=…&r=…&p=…``)."""
    rng = random.Random(seed)  # noqa: S311 - test data, repeatable by seed
    positions = [
        "garbage",
        "",
        "\x00",
        "0001-01-01",
        "2026-01-01 10:00:00",
        *instants_at_the_edges()[1:],
        "9" * 40,
    ]
    plain = [urlencode({"p": position}) for position in positions]
    plain += [f"p={position}" for position in positions]  # "+" read as a space
    plain += [f"r=1&p={positions[0]}", f"o=1&p={positions[0]}", "o=-1", "o=x", "r=x", "p"]
    random_bytes = [rng.randbytes(rng.randrange(1, 48)) for _ in range(8)]
    return [
        *(base64.b64encode(text.encode()).decode() for text in plain),
        *(base64.b64encode(raw).decode() for raw in random_bytes),
        *(base64.urlsafe_b64encode(raw).decode().rstrip("=") for raw in random_bytes[:4]),
    ]


@dataclass(frozen=True)
class Shop:
    """Credentials and ids that exist, for the fuzzer to aim at."""

    terminal_key: str
    staff_token: str
    sale_ids: tuple[int, ...]  # sales of the terminal's store
    lines_of: dict[int, tuple[int, ...]]  # their line ids
    foreign_sale_id: int  # a sale of another store: the terminal must get a 404


def _sell(terminal: Terminal, key: str, serial: int, *lines: tuple[str, int]) -> int:
    who = support.shopper(RESIDENT_IDS[serial])
    return support.sell(terminal, *lines, who=who, key=key).sale.pk


@pytest.fixture
def shop(db: None) -> Shop:
    support.product(SKUS[0], "cosmetics", "300.00")
    support.product(SKUS[1], "cosmetics", "1200.00")
    support.product(SKUS[2], "watches", "8000.00")
    support.product(SKUS[3], "alcohol", "500.00", volume_ml=750)
    till, key = support.terminal("SYA-HTB")
    other, _ = support.terminal("SYA-AIR")
    sale_ids = (
        _sell(till, "fz-1", 0, (SKUS[0], 2), (SKUS[2], 1)),
        _sell(till, "fz-2", 1, (SKUS[1], 1)),
        _sell(till, "fz-3", 2, (SKUS[3], 2), (SKUS[0], 1)),
        _sell(till, "fz-4", 3, (SKUS[0], 5)),
    )
    out = io.StringIO()
    call_command("create_staff_token", "fuzz-analyst", stdout=out)
    return Shop(
        terminal_key=key,
        staff_token=out.getvalue().strip().splitlines()[-1],
        sale_ids=sale_ids,
        lines_of={
            sale: tuple(
                SaleLine.objects.filter(sale=sale).order_by("pk").values_list("pk", flat=True)
            )
            for sale in sale_ids
        },
        foreign_sale_id=_sell(other, "fz-x", 4, (SKUS[0], 1)),
    )


@pytest.fixture
def in_process_app() -> Iterator[None]:
    """Requests to :data:`APPLICATION` run in this thread, inside the test's transaction.

    Like Django's test client, keep ``close_old_connections`` off the request signals: it would
    close the connection holding the test transaction after the first request. Every request
    comes from one address and draws from a few documents, so the quota-lookup throttles
    (per address, per document) are raised.
    """
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        with override_settings(
            QUOTA_LOOKUP_RATE="100000/60", QUOTA_LOOKUP_DOCUMENT_RATE="100000/60"
        ):
            yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)
