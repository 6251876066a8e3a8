"""Identity numbers and names are personal data: after a realistic run of an import, sales,
quotes, departures, returns, voids and look-ups (API and page, good and bad input), neither the
document number nor the name is found in any column of any table, nor in any log line —
including every SQL statement with its parameters. Nor is what would rebuild the number: the
birth date (a resident identity number holds it), or more of the number than its last four
characters."""

from __future__ import annotations

import logging
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from captcha.models import CaptchaStore
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.utils import timezone

from quotas.identity import resident_id_check_digit_ok
from quotas.models import Shopper
from shops.imports.batching import import_sales
from shops.imports.reading import COLUMNS
from tests import support

# A Beijing (Chaoyang) resident identity card: region 110105, born 1985-06-15, sequence 771, a
# check character GB 11643 accepts. Its birth date and last four characters together are 12 of
# its 18 characters, check character included: only the region would be left to guess.
NUMBER = "110105198506157718"
SPACED = "1101 0519 8506 1577 18"
BIRTH = date(1985, 6, 15)
NAME = "欧阳青Privacy"
KEPT = 4  # characters of the number a shopper row keeps for display (****7718)
# Stretches of a value that cannot hold a document number by accident and would otherwise
# match its digits by chance: the time of day (with its fraction), a datetime's repr in logged
# parameters (its microseconds), a float's long fraction (a statement's duration in a log
# record's arguments), hexadecimal digests, and random hexadecimal keys (they hold a letter; a
# number typed in clear holds none).
_NOISE = re.compile(
    r"\d{2}:\d{2}:\d{2}(\.\d+)?"
    r"|datetime\.datetime\([\d, ]+"
    r"|\d+\.\d+e-\d+|\d+\.\d{6,}"
    r"|[0-9a-f]{32,}"
    r"|\b(?=[0-9a-f]*[a-f])[0-9a-f]{8,}\b"
)


def _rebuilding_needles() -> list[str]:
    """The birth date as dates are written, and every run of the number longer than what is
    kept: a value holding any of them gives away more than the last four characters."""
    assert resident_id_check_digit_ok(NUMBER)
    dates = [f"{BIRTH:%Y-%m-%d}", f"{BIRTH:%Y%m%d}", f"{BIRTH:%Y/%m/%d}"]
    width = KEPT + 1
    runs = [NUMBER[i : i + width].casefold() for i in range(len(NUMBER) - width + 1)]
    for needle in [NUMBER, SPACED, *dates, *runs]:  # the noise never hides what is looked for
        assert _NOISE.sub(" ", needle) == needle, needle
    return dates + runs


def _scan_database(needles: list[str], *, denoised: bool = False) -> list[str]:
    found = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            columns = [column[0] for column in cursor.description]
            for row in cursor.fetchall():
                for column, value in zip(columns, row, strict=True):
                    if isinstance(value, bytes | memoryview):
                        value = bytes(value).decode("utf-8", "replace")
                    text = str(value).casefold()
                    if denoised:
                        text = _NOISE.sub(" ", text)
                    found.extend(
                        f"{table}.{column}: {needle}" for needle in needles if needle in text
                    )
    return found


def _captcha(client: Client, path: str = "/quota/") -> dict[str, str]:
    html = client.get(path).content.decode()
    key = re.search(r'name="captcha_0" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    return {"captcha_0": key, "captcha_1": CaptchaStore.objects.get(hashkey=key).response}


@pytest.mark.django_db
def test_no_table_or_log_line_holds_a_document_number_or_name(
    client: Client, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="django")
    caplog.set_level(logging.DEBUG, logger="django.db.backends")
    connection.force_debug_cursor = True  # every statement and its parameters are logged
    try:
        _realistic_run(client, tmp_path)
    finally:
        connection.force_debug_cursor = False
    needles = [NUMBER.casefold(), NAME.casefold(), "欧阳青", "privacy", "8506157718"]
    leaks = _scan_database(needles)
    assert leaks == [], leaks
    rebuilding = _rebuilding_needles()
    assert _scan_database(rebuilding, denoised=True) == []
    logged = "\n".join(record.getMessage() for record in caplog.records).casefold()
    logged += "\n".join(str(record.args) for record in caplog.records).casefold()
    assert caplog.records, "the run must have produced log lines to scan"
    assert "select" in logged
    assert "insert" in logged
    assert "shops_sale" in logged
    assert "quotas_shopper" in logged
    assert [needle for needle in needles if needle in logged] == []
    assert [needle for needle in rebuilding if needle in _NOISE.sub(" ", logged)] == []
    # What is kept instead: the last four characters, and the year of birth.
    assert _scan_database([NUMBER[-KEPT:]])
    assert _scan_database([str(BIRTH.year)])


def _import(tmp_path: Path) -> None:
    """A legacy receipt of last year, before any till saw the shopper: the importer writes the
    row, and the first sale of this year (a new account) writes the facts again."""
    sold = timezone.localtime() - timedelta(days=366)
    row = {
        "receipt_no": "PRIV-LEGACY-1",
        "store_code": "SYA-HTB",
        "sold_at": sold.isoformat(),
        "doc_type": "resident_id",
        "doc_number": NUMBER,
        "name": NAME,
        "birth_date": BIRTH.isoformat(),
        "hainan_resident": "false",
        "trip_kind": "domestic",
        "trip_mode": "air",
        "carrier_ref": "CZ6701",
        "departs_at": (sold + timedelta(days=1)).isoformat(),
        "pickup": "departure",
        "sku": "PRIV-LIP",
        "category_code": "",
        "quantity": "1",
        "unit_price": "320.00",
    }
    path = tmp_path / "sales.csv"
    path.write_text(",".join(COLUMNS) + "\n" + ",".join(row[c] for c in COLUMNS) + "\n")
    report = import_sales(path, now=timezone.now())
    assert report.imported == 1, report.errors


def _realistic_run(client: Client, tmp_path: Path) -> None:
    support.product("PRIV-LIP", "cosmetics", "320.00")
    support.product("PRIV-WATCH", "watches", "56000.00")
    _import(tmp_path)
    _, key = support.terminal()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    who = support.shopper(NUMBER, name=NAME, birth=BIRTH)
    body = support.json_basket(support.basket(("PRIV-LIP", 2), who=who))
    body["shopper"]["document"]["number"] = SPACED  # as typed at the till
    assert (
        client.post("/api/v1/quotes", body, content_type="application/json", **auth).status_code
        == 200
    )
    sale = client.post(
        "/api/v1/sales", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="p1", **auth
    )
    assert sale.status_code == 201, sale.content
    sale_id = sale.json()["id"]
    line = sale.json()["lines"][0]["id"]
    refused = support.json_basket(support.basket(("PRIV-LIP", 40), who=who))
    assert (
        client.post(
            "/api/v1/sales",
            refused,
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY="p2",
            **auth,
        ).status_code
        == 422
    )
    assert (
        client.post(
            f"/api/v1/sales/{sale_id}/returns",
            {"lines": [{"line": line, "quantity": 1}], "reason": "changed mind"},
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY="r1",
            **auth,
        ).status_code
        == 201
    )
    second = client.post(
        "/api/v1/sales", {**body, "pickup": "mail"}, content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="p3", **auth,
    )  # fmt: skip
    assert second.status_code == 201, second.content
    voided = client.post(
        f"/api/v1/sales/{second.json()['id']}/void", HTTP_IDEMPOTENCY_KEY="v1", **auth
    )
    assert voided.status_code == 200
    departure = {
        "document": {"type": "resident_id", "number": NUMBER},
        "carrier_ref": "HU7181",
        "departed_at": timezone.now().isoformat(),  # recorded once the shopper has left
    }
    assert (
        client.post(
            "/api/v1/departures",
            departure,
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY="d1",
            **auth,
        ).status_code
        == 201
    )
    lookup = {"document": {"type": "resident_id", "number": NUMBER}, "name": NAME}
    answer = client.post("/api/v1/quota-lookup", lookup, content_type="application/json")
    assert answer.status_code == 200
    assert answer.json()["purchases"], "the look-up must find the shopper"
    wrong = client.post(
        "/api/v1/quota-lookup", {**lookup, "name": "Someone Else"}, content_type="application/json"
    )
    assert wrong.json()["purchases"] == []
    bad = client.post(
        "/api/v1/quota-lookup",
        {"document": {"type": "resident_id", "number": NUMBER + "Z"}, "name": NAME},
        content_type="application/json",
    )
    assert bad.status_code == 400
    assert NUMBER not in bad.content.decode()
    form = {"doc_type": "resident_id", "country": "CHN", "number": NUMBER, "name": NAME}
    page = client.post("/quota/", {**form, **_captcha(client)})
    html = page.content.decode()
    assert page.status_code == 200
    assert "****7718" in html
    assert NUMBER not in html
    assert NAME not in html
    retry = client.post("/quota/", {**form, "captcha_0": "x", "captcha_1": "wrong"})
    assert retry.status_code == 400
    assert NUMBER not in retry.content.decode()
    assert NAME not in retry.content.decode()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_migration_keeps_the_year_of_birth_and_drops_the_date() -> None:
    """Through the real migration path: a shopper row of 0015 (with its birth date), then
    forward: the year stays, the date is gone from every table; and back: 1 January."""
    before, after = [("quotas", "0016_facts_confirmed")], [("quotas", "0017_shopper_birth_year")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    old.get_model("quotas", "Shopper").objects.create(
        document_type="resident_id", document_country="CHN", document_key="k" * 64,
        document_last4=NUMBER[-KEPT:], name_key="n" * 64, birth_date=BIRTH,
    )  # fmt: skip

    MigrationExecutor(connection).migrate(after)
    assert list(Shopper.objects.values_list("birth_year", "document_last4")) == [
        (1985, NUMBER[-KEPT:])
    ]
    assert _scan_database(_rebuilding_needles(), denoised=True) == []

    executor = MigrationExecutor(connection)
    executor.migrate(before)
    back = executor.loader.project_state(before).apps.get_model("quotas", "Shopper")
    assert list(back.objects.values_list("birth_date", flat=True)) == [date(1985, 1, 1)]
    # Leave the schema as the tests after this one expect it: every migration applied.
    latest = MigrationExecutor(connection)
    latest.migrate(latest.loader.graph.leaf_nodes())
