"""``quotas`` owns its tables: no SQL outside ``quotas/`` names a ``quotas_*`` table, no code
outside it uses a quota model's manager, and every statement that writes or locks a quota
table — the ledger above all — is issued from ``quotas/`` or writes it only through a part
written there: a table with one owner has one place to read for what may change it.

Reads that must share one statement with the sales (a trip with its usage, the books) take a
relation from ``quotas.selectors`` or ``quotas.audit``; the sale's one write statement takes its
quota side (a new trip, the ledger entry and the balance) as parts from ``quotas.services``: the
SQL naming the quota table is written there, whoever runs it.
"""

from __future__ import annotations

import ast
import re
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from django.db import connection
from django.utils import timezone

import quotas.models
from quotas.services import ban_lift, shopper_ban
from shops.imports.batching import import_sales
from shops.imports.reading import COLUMNS
from shops.pos import checkout, returns
from shops.pos.deadline import departure_deadline_enforce
from shops.pos.departures import departure_record
from shops.reporting.audit import check_books
from shops.reporting.rollups import refresh_all_dirty
from shops.shoppers.lookup import LookupQuery, quota_lookup
from tests.support import basket, commit, product, shopper, terminal, trip

ROOT = Path(__file__).resolve().parents[2]
OUTSIDE = ("shops", "dutyfree")
QUOTA_MODELS = {
    name
    for name, value in vars(quotas.models).items()
    if isinstance(value, type)
    and getattr(value, "_meta", None) is not None
    and value.__module__ == "quotas.models"
}


def _sources() -> Iterator[Path]:
    for package in OUTSIDE:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path


def _strings(tree: ast.AST) -> Iterator[tuple[int, str]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.lineno, node.value


class TestNoQuotaSqlOutsideQuotas:
    def test_the_quota_models_are_known(self) -> None:
        assert {"Shopper", "QuotaAccount", "QuotaEntry", "Trip", "Ban", "Policy"} <= QUOTA_MODELS

    def test_no_string_outside_quotas_names_a_quota_table(self) -> None:
        found = [
            f"{path.relative_to(ROOT)}:{line}: {text.strip()[:60]!r}"
            for path in _sources()
            for line, text in _strings(ast.parse(path.read_text()))
            if re.search(r"\bquotas_\w", text)
        ]
        assert found == []

    def test_no_code_outside_quotas_uses_a_quota_models_manager(self) -> None:
        found = []
        for path in _sources():
            for node in ast.walk(ast.parse(path.read_text())):
                if (
                    isinstance(node, ast.Attribute)
                    and node.attr in ("objects", "_default_manager", "_base_manager")
                    and isinstance(node.value, ast.Name)
                    and node.value.id in QUOTA_MODELS
                ):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value.id}")
        assert found == []

    def test_the_scan_would_see_one(self, tmp_path: Path) -> None:
        # The checks above are not vacuous: the same scans find these.
        tree = ast.parse('x = "SELECT used FROM quotas_quotaaccount"\nTrip.objects.all()\n')
        assert [text for _, text in _strings(tree) if re.search(r"\bquotas_\w", text)]
        assert any(
            isinstance(node, ast.Attribute) and node.attr == "objects" for node in ast.walk(tree)
        )


# --- At run time: who writes the quota tables ----------------------------------------------------
_QUOTA_TABLE = re.compile(r"\bquotas_\w+", re.I)
_WRITES = re.compile(r"\b(INSERT\s+INTO|UPDATE|DELETE\s+FROM|COPY)\s+\"?quotas_\w+", re.I)
_LOCKS = re.compile(r"\bFOR\s+(NO\s+KEY\s+)?UPDATE\b", re.I)
_KERNEL = {ROOT / "dutyfree" / "db.py"}


def _issuer() -> str:
    """The innermost frame of the project's apps (not the tests, not the kernel's statement
    helpers) on the stack: ``<package>/<module>.py:<line>``."""
    for frame in reversed(traceback.extract_stack()):
        path = Path(frame.filename)
        if not path.is_relative_to(ROOT) or path.is_relative_to(ROOT / "tests"):
            continue
        if path in _KERNEL or path.parts[len(ROOT.parts)] not in ("shops", "quotas", "dutyfree"):
            continue
        return f"{path.relative_to(ROOT)}:{frame.lineno}"
    return "(no app frame)"


def _quota_parts() -> list[str]:
    """The SQL written in ``quotas/`` that writes a quota table (its string constants), longest
    first: what a statement issued elsewhere may carry."""
    parts = {
        text
        for path in sorted((ROOT / "quotas").rglob("*.py"))
        if "migrations" not in path.parts
        for _, text in _strings(ast.parse(path.read_text()))
        if _WRITES.search(text)
    }
    return sorted(parts, key=len, reverse=True)


def _without_quota_parts(sql: str) -> str:
    for part in _quota_parts():
        sql = sql.replace(part, "")
    return sql


def _writes_quota_table(sql: str) -> bool:
    if _WRITES.search(sql):
        return True
    # A row lock on a quota table (FOR [NO KEY] UPDATE [OF a]) in a statement that reads one.
    return bool(_LOCKS.search(sql) and _QUOTA_TABLE.search(sql.split("FOR")[0]))


@contextmanager
def quota_writers() -> Iterator[list[tuple[str, str]]]:
    """Every statement that writes or locks a quota table, with the app frame that issued it
    (``execute`` through Django's wrapper and ``COPY`` through psycopg's cursor); for one that
    writes quota tables only through parts written in ``quotas/`` (the sale's write statement),
    ``quotas/`` (parts), then the issuer."""
    seen: list[tuple[str, str]] = []

    def wrapper(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        text = sql if isinstance(sql, str) else str(sql)
        if _writes_quota_table(text):
            where = _issuer()
            if not _writes_quota_table(_without_quota_parts(text)):
                where = f"quotas/ (parts), run by {where}"
            seen.append((where, " ".join(text.split())[:80]))
        return execute(sql, params, many, context)

    original = psycopg.Cursor.copy

    def copy(self, statement, *args, **kwargs):  # type: ignore[no-untyped-def]
        text = statement if isinstance(statement, str) else str(statement)
        if _writes_quota_table(text):
            seen.append((_issuer(), " ".join(text.split())[:80]))
        return original(self, statement, *args, **kwargs)

    psycopg.Cursor.copy = copy  # type: ignore[method-assign]
    try:
        with connection.execute_wrapper(wrapper):
            yield seen
    finally:
        psycopg.Cursor.copy = original  # type: ignore[method-assign]


def test_a_quota_write_not_written_in_quotas_is_still_seen() -> None:
    """Only the parts' own text is set aside: a write of a quota table composed elsewhere stays."""
    hand_written = "WITH e AS (INSERT INTO quotas_quotaentry (account_id) VALUES (%s)) SELECT 1"
    assert _writes_quota_table(_without_quota_parts(hand_written))
    assert _quota_parts()  # and there are parts


# Real commits and the importer's writer threads: a transactional test, the shipped stores and
# policies restored afterwards.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
class TestOneWriter:
    def test_every_write_of_a_quota_table_comes_from_quotas(self, tmp_path: Path) -> None:
        product("LIP", "cosmetics", "320.00", immediate_kind="cosmetics")
        product("WATCH", "watches", "10000.00")
        term, _ = terminal()
        now = timezone.now()
        with quota_writers() as seen:
            # Sales (first of the year, then again on the same trip), a quote, a return,
            # a void, a pickup.
            first = commit(term, basket(("LIP", 2)), key="k1").sale
            second = commit(term, basket(("WATCH", 1), ("LIP", 1)), key="k2").sale
            checkout.sale_quote(basket=basket(("LIP", 1)), at=now)
            line = first.lines.get()
            returns.sale_return(
                terminal=term,
                sale_id=first.pk,
                idempotency_key="r1",
                fingerprint="f",
                lines=[(line.pk, 1)],
                reason="changed mind",
                now=timezone.now(),
            )
            returns.sale_void(terminal=term, sale_id=second.pk, now=timezone.now())
            # An immediate pickup, the departure deadline, a departure and a ban.
            commit(term, basket(("LIP", 1), pickup="immediate"), key="k3")
            departure_deadline_enforce(now=now + timedelta(days=40))
            who = shopper()
            departure_record(
                doc_type=who.doc_type,
                country=who.country,
                number=who.number,
                carrier_ref=trip().carrier_ref,
                departed_at=timezone.now(),
                now=timezone.now(),
            )
            ban, _ = shopper_ban(
                shopper_id=first.shopper_id,
                reason="customs_decision",
                starts_at=timezone.now(),
                now=timezone.now(),
                years=1,
                source="test:1",
                detail="a test",
            )
            ban_lift(ban_id=ban.pk, reason="test", now=timezone.now())
            # The shopper's look-up, an import, the rollups, the books.
            quota_lookup(
                query=LookupQuery(who.doc_type, who.country, who.number, who.name),
                now=timezone.now(),
                language="en",
            )
            path = tmp_path / "sales.csv"
            row = {
                "receipt_no": "LEGACY-1",
                "store_code": "SYA-HTB",
                "sold_at": (now - timedelta(days=1)).isoformat(),
                "doc_type": "passport",
                "doc_number": "E12345678",
                "name": "Li Si",
                "birth_date": "1985-05-05",
                "hainan_resident": "false",
                "trip_kind": "domestic",
                "trip_mode": "air",
                "carrier_ref": "CZ6701",
                "departs_at": (now + timedelta(days=2)).isoformat(),
                "pickup": "departure",
                "sku": "LIP",
                "category_code": "",
                "quantity": "1",
                "unit_price": "320.00",
            }
            path.write_text(",".join(COLUMNS) + "\n" + ",".join(row[c] for c in COLUMNS) + "\n")
            report = import_sales(path, now=timezone.now())
            refresh_all_dirty(now=timezone.now())
            books = check_books()
        assert report.imported == 1, report.errors
        assert books.differences == []
        issuers = {where for where, _ in seen}
        # The flows above did write every kind of quota row …
        statements = " ".join(sql for _, sql in seen)
        for table in ("quotas_shopper", "quotas_quotaaccount", "quotas_quotaentry", "quotas_trip"):
            assert table in statements, table
        # … and only quotas/ wrote them: itself, or by the parts it wrote for the sale's one
        # write statement (the scan of parts is not vacuous: that statement is among them).
        assert [where for where in sorted(issuers) if not where.startswith("quotas/")] == []
        assert any(where.startswith("quotas/ (parts), run by shops/") for where in issuers)
