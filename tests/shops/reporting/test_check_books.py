"""``shops.reporting.audit`` and ``check_books``: clean books balance; every kind of corruption — an
UPDATE of ``used``, a deleted ledger entry, a tampered line, a changed rollup, a trip taken
over its limit behind the engine's back — is found, named by id, and fails the command.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db.models import F
from django.utils import timezone
from pyroaring import BitMap

from quotas.choices import EntryKind
from quotas.models import QuotaAccount, QuotaEntry, Shopper, Trip
from shops.imports.batching import import_sales
from shops.models import (
    DailyCategorySales,
    DailyStoreSales,
    DirtyDay,
    Return,
    ReturnLine,
    Sale,
    SaleLine,
    Terminal,
)
from shops.pos import returns
from shops.pos.checkout import sale_commit
from shops.reporting import audit as books
from shops.reporting import rollups
from tests import support
from tests.conftest import local
from tests.support.books import check
from tests.support.legacy import LEGACY_DEPARTS, LEGACY_NUMBER, legacy_csv, legacy_row

pytestmark = pytest.mark.django_db

DEPARTS = LEGACY_DEPARTS
IMPORTED_NUMBER = LEGACY_NUMBER


@dataclass
class Shop:
    terminal: Terminal
    sale: Sale  # two lipsticks and a bottle of wine, one lipstick returned
    midnight: Sale  # one second after local midnight, another shopper
    voided: Sale
    imported: Sale

    @property
    def trip(self) -> Trip:
        return Trip.objects.get(pk=self.sale.trip_id)


def sell(term: Terminal, *lines: tuple[str, int], number: int, at, key: str) -> Sale:
    return support.sell(term, *lines, number=number, departs_at=DEPARTS, at=at, key=key).sale


@pytest.fixture
def shop(db: None) -> Shop:
    """Books that balance: live sales, a return, a void, an imported receipt, refreshed."""
    support.product("BK-LIP", "cosmetics", "320.00")
    support.product("BK-SET5", "cosmetics", "1500.00", pieces=5)
    support.product("BK-WINE", "alcohol", "1200.00", volume_ml=750)
    support.product("BK-WATCH", "watches", "9000.00")
    term, _ = support.terminal("SYA-HTB")
    sale = sell(term, ("BK-LIP", 2), ("BK-WINE", 1), number=1, at=local(2026, 3, 1, 10), key="a")
    midnight = sell(term, ("BK-WATCH", 1), number=2, at=local(2026, 1, 1, 0, 0, 1), key="b")
    voided = sell(term, ("BK-SET5", 1), number=1, at=local(2026, 3, 1, 11), key="c")
    returns.sale_return(
        terminal=term,
        sale_id=sale.pk,
        idempotency_key="ret",
        fingerprint="ret",
        lines=[(sale.lines.get(sku="BK-LIP").pk, 1)],
        reason="",
        now=local(2026, 3, 2, 9),
    )
    returns.sale_void(terminal=term, sale_id=voided.pk, now=local(2026, 3, 1, 12))
    report = import_sales(
        legacy_csv(legacy_row("LEGACY-1", "BK-SET5", 2, "1400.00")), now=timezone.now()
    )
    assert report.imported == 1, report.errors
    rollups.refresh_all_dirty(now=timezone.now())
    return Shop(
        terminal=term,
        sale=Sale.objects.get(pk=sale.pk),
        midnight=midnight,
        voided=voided,
        imported=Sale.objects.get(receipt_no="LEGACY-1"),
    )


def differences(**options: bool) -> list[str]:
    return books.check_books(**options).differences


# --- Clean books ----------------------------------------------------------------------------------
def test_clean_books_balance_and_the_command_exits_normally(shop: Shop) -> None:
    report = books.check_books()
    assert report.differences == []
    assert report.notes == []
    assert (report.accounts, report.sales, report.returns) == (3, 4, 1)
    assert report.trips == 3
    assert report.dirty_slices == 0
    assert report.rollup_rows > 0
    out, error = check()
    assert error is None
    assert "Checked 3 accounts, 4 sales, 1 returns, 3 trips" in out
    assert "0 difference(s)" in out
    assert out.rstrip().endswith("The books balance.")


def test_the_checks_run_on_empty_books(db: None) -> None:
    report = books.check_books()
    assert report.differences == []
    assert (report.accounts, report.sales, report.trips) == (0, 0, 0)


def test_each_check_is_a_plain_function_returning_differences(shop: Shop) -> None:
    for check_function in (
        books.account_differences,
        books.ledger_differences,
        books.sale_differences,
        books.trip_differences,
        books.rollup_differences,
    ):
        assert check_function() == []
    assert books.dirty_slices() == 0
    assert books.differences() == []


# --- Corruptions, each found and named by id -----------------------------------------------------
def test_an_update_of_used_is_found(shop: Shop) -> None:
    account = QuotaAccount.objects.get(pk=shop.sale.account_id)
    QuotaAccount.objects.filter(pk=account.pk).update(used=F("used") + Decimal("0.01"))
    found = differences()
    assert found == [
        f"account {account.pk}: used {account.used + Decimal('0.01')} ≠ ledger sum {account.used}",
        f"account {account.pk}: used {account.used + Decimal('0.01')} ≠ completed sales net "
        f"of returns {account.used}",
    ]
    out, error = check()
    assert error is not None
    assert "2 difference(s)" in error
    assert f"DIFFERENCE account {account.pk}: used" in out


def test_a_deleted_ledger_entry_is_found(shop: Shop) -> None:
    QuotaEntry.objects.filter(reference=f"sale:{shop.midnight.pk}").delete()
    found = differences()
    assert f"sale {shop.midnight.pk}: no ledger debit" in found
    assert any(f.startswith(f"account {shop.midnight.account_id}: used") for f in found)
    assert check()[1] is not None


def test_a_deleted_return_credit_is_found(shop: Shop) -> None:
    refund = Return.objects.get()
    QuotaEntry.objects.filter(reference=f"return:{refund.pk}").delete()
    found = differences()
    assert f"return {refund.pk} (sale {shop.sale.pk}): no ledger credit" in found
    assert any(f.startswith(f"account {shop.sale.account_id}: used") for f in found)


def test_a_missing_void_credit_is_found(shop: Shop) -> None:
    QuotaEntry.objects.filter(reference=f"void:{shop.voided.pk}").delete()
    found = differences()
    assert any(f.startswith(f"sale {shop.voided.pk}: void credits 0.00") for f in found)


def test_a_ledger_entry_that_refers_to_nothing_is_found(shop: Shop) -> None:
    account = QuotaAccount.objects.get(pk=shop.sale.account_id)
    entry = QuotaEntry.objects.create(
        account=account, kind=EntryKind.SALE, amount=Decimal("0.00"), reference="sale:999999"
    )
    assert differences() == [
        f"ledger entry {entry.pk} (account {account.pk}, sale): refers to no sale 999999"
    ]


def test_a_debit_on_another_account_or_twice_is_found(shop: Shop) -> None:
    entry = QuotaEntry.objects.get(reference=f"sale:{shop.midnight.pk}")
    QuotaEntry.objects.filter(pk=entry.pk).update(account_id=shop.sale.account_id)
    found = differences()
    assert f"sale {shop.midnight.pk}: ledger debit on another account than " in " ".join(found)
    assert any(f.startswith(f"account {shop.midnight.account_id}: used") for f in found)
    assert any(f.startswith(f"account {shop.sale.account_id}: used") for f in found)

    QuotaEntry.objects.filter(pk=entry.pk).update(account_id=shop.midnight.account_id)
    assert differences() == []
    QuotaEntry.objects.create(
        account_id=shop.midnight.account_id,
        kind=EntryKind.SALE,
        amount=Decimal("0.00"),
        reference=f"sale:{shop.midnight.pk}",
    )  # the sums still agree: the number of entries does not
    assert differences() == [f"sale {shop.midnight.pk}: 2 ledger debits"]


def test_a_tampered_line_amount_is_found(shop: Shop) -> None:
    line = shop.sale.lines.get(sku="BK-WINE")
    SaleLine.objects.filter(pk=line.pk).update(amount=Decimal("1100.00"))
    found = differences(rollups=False)
    assert found == [
        f"sale {shop.sale.pk}: total 1840.00 ≠ Σ line amounts 1740.00",
        f"sale {shop.sale.pk} line {line.pk}: amount 1100.00 ≠ 1 × 1200.00",
    ]
    assert check(no_rollups=True)[1] is not None


def test_a_tampered_sale_total_is_found(shop: Shop) -> None:
    Sale.objects.filter(pk=shop.midnight.pk).update(total=F("total") + 1)
    found = differences()
    assert f"sale {shop.midnight.pk}: total 9001.00 ≠ Σ line amounts 9000.00" in found
    assert f"sale {shop.midnight.pk}: ledger debit 9000.00 ≠ sale total 9001.00" in found


def test_a_tampered_return_is_found(shop: Shop) -> None:
    line = shop.sale.lines.get(sku="BK-LIP")
    SaleLine.objects.filter(pk=line.pk).update(returned_quantity=2)
    assert differences(rollups=False) == [
        f"sale {shop.sale.pk} line {line.pk}: returned quantity 2 ≠ Σ return lines 1"
    ]


def test_a_deleted_return_line_is_found(shop: Shop) -> None:
    refund = Return.objects.get()
    ReturnLine.objects.filter(sale_return=refund).delete()
    found = differences(rollups=False)
    assert f"return {refund.pk} (sale {shop.sale.pk}): no lines" in found
    assert any("returned quantity 1 ≠ Σ return lines 0" in f for f in found)


def test_a_sale_on_the_wrong_local_day_is_found(shop: Shop) -> None:
    Sale.objects.filter(pk=shop.midnight.pk).update(
        local_date=shop.midnight.local_date - timedelta(days=1)
    )
    found = differences(rollups=False)
    assert found == [
        f"sale {shop.midnight.pk}: account {shop.midnight.account_id} is of 2026, the sale of 2025",
        f"sale {shop.midnight.pk}: local date 2025-12-31, sold on 2026-01-01 locally",
    ]


def test_a_changed_rollup_row_is_found_unless_its_slice_is_dirty(shop: Shop) -> None:
    row = DailyCategorySales.objects.get(day=shop.sale.local_date, category_code="cosmetics")
    DailyCategorySales.objects.filter(pk=row.pk).update(items=F("items") + 1)
    where = f"category rollup {row.day} store {row.store_id} cosmetics domestic"
    assert differences() == [f"{where}: items {row.items + 1}, sales say {row.items}"]
    out, error = check()
    assert error is not None
    assert f"DIFFERENCE {where}" in out
    assert check(no_rollups=True)[1] is None  # the rollups left out

    # Marked dirty, the slice waits for the refresh: skipped, and counted.
    DirtyDay.objects.create(day=row.day, store_id=row.store_id, marked_at=timezone.now())
    report = books.check_books()
    assert report.differences == []
    assert report.dirty_slices == 1
    rollups.refresh_all_dirty(now=timezone.now())
    assert differences() == []


def test_a_deleted_or_extra_rollup_row_is_found(shop: Shop) -> None:
    row = DailyCategorySales.objects.get(day=shop.midnight.local_date)
    DailyCategorySales.objects.filter(pk=row.pk).delete()
    assert differences() == [
        f"category rollup {row.day} store {row.store_id} watches domestic: missing (sales "
        "hold 9000.00, 1 receipts)"
    ]
    DailyCategorySales.objects.create(
        day=row.day,
        store_id=row.store_id,
        category_code="watches",
        traveller_kind="domestic",
        amount=Decimal("9000.00"),
        items=1,
        sales=1,
    )
    assert differences() == []
    store = DailyStoreSales.objects.get(day=row.day)
    DailyStoreSales.objects.filter(pk=store.pk).update(sales=2, amount=Decimal("1.00"))
    assert differences() == [
        f"store rollup {row.day} store {row.store_id} domestic: amount 1.00, sales say 9000.00",
        f"store rollup {row.day} store {row.store_id} domestic: receipts 2, sales say 1",
    ]
    DailyStoreSales.objects.filter(pk=store.pk).delete()
    DailyCategorySales.objects.create(
        day=row.day - timedelta(days=3),
        store_id=row.store_id,
        category_code="watches",
        traveller_kind="domestic",
        amount=Decimal("5.00"),
        items=1,
        sales=1,
    )
    found = differences()
    assert (
        f"store rollup {row.day} store {row.store_id} domestic: missing (sales hold 9000.00, "
        "1 receipts)" in found
    )
    assert (
        f"category rollup {row.day - timedelta(days=3)} store {row.store_id} watches domestic: "
        "no completed sales, the rollup holds 5.00"
    ) in found


def test_a_changed_rollup_set_is_found(shop: Shop) -> None:
    store = DailyStoreSales.objects.get(day=shop.sale.local_date)
    shoppers = BitMap.deserialize(bytes(store.shoppers))
    DailyStoreSales.objects.filter(pk=store.pk).update(
        shoppers=BitMap([*shoppers, 424242]).serialize(), trips=BitMap().serialize()
    )
    assert differences() == [
        f"store rollup {store.day} store {store.store_id} domestic: shoppers set of 2 ≠ the "
        "sales' 1 (1 extra, 0 missing)",
        f"store rollup {store.day} store {store.store_id} domestic: trips set of 0 ≠ the "
        "sales' 1 (0 extra, 1 missing)",
    ]


# --- Trips ----------------------------------------------------------------------------------------
def sneak(shop: Shop, *lines: tuple[str, int, str, int], imported: bool = False) -> Sale:
    """A sale on the shop's trip written behind the engine's back, unjudged, but with a
    consistent ledger, balance and rollups: (sku, quantity, unit price, pieces) lines."""
    first = shop.sale
    account = QuotaAccount.objects.get(pk=first.account_id)
    amounts = [Decimal(price) * quantity for _, quantity, price, _ in lines]
    total = sum(amounts, Decimal("0.00"))
    sale = Sale.objects.create(
        receipt_no=f"SNEAK-{Sale.objects.count()}",
        store_id=first.store_id,
        terminal_id=first.terminal_id,
        shopper_id=first.shopper_id,
        trip_id=first.trip_id,
        account_id=account.pk,
        policy_id=first.policy_id,
        sold_at=first.sold_at + timedelta(hours=1),
        local_date=first.local_date,
        pickup="departure",
        traveller_kind="domestic",
        total=total,
        quota_used_after=account.used + total,
        idempotency_key=f"sneak-{Sale.objects.count()}",
        request_fingerprint="sneak",
        imported=imported,
    )
    for number, ((sku, quantity, price, pieces), amount) in enumerate(
        zip(lines, amounts, strict=True), start=1
    ):
        SaleLine.objects.create(
            sale=sale,
            line_no=number,
            sku=sku,
            category_code="cosmetics",
            quantity=quantity,
            unit_price=Decimal(price),
            amount=amount,
            pieces=pieces,
        )
    QuotaEntry.objects.create(
        account=account,
        kind=EntryKind.IMPORT if imported else EntryKind.SALE,
        amount=total,
        reference=f"sale:{sale.pk}",
    )
    QuotaAccount.objects.filter(pk=account.pk).update(used=F("used") + total)
    DirtyDay.objects.create(day=sale.local_date, store_id=sale.store_id, marked_at=timezone.now())
    rollups.refresh_all_dirty(now=timezone.now())
    return sale


def test_a_trip_over_its_limit_written_behind_the_engines_back_is_found(shop: Shop) -> None:
    # The trip holds one lipstick; 29 more pieces are within the limit, 30 are over it.
    sneak(shop, ("BK-SET5", 5, "100.00", 5), ("BK-LIP", 4, "10.00", 1))
    assert differences() == []
    sneak(shop, ("BK-LIP", 1, "10.00", 1))
    assert differences() == [
        f"trip {shop.trip.pk}: cosmetics 31 pieces held by judged sales, over the limit of 30"
    ]
    out, error = check()
    assert error is not None
    assert f"DIFFERENCE trip {shop.trip.pk}: cosmetics 31 pieces" in out


def test_millilitres_over_the_limit_are_found(shop: Shop) -> None:
    line = shop.sale.lines.get(sku="BK-WINE")
    SaleLine.objects.filter(pk=line.pk).update(volume_ml=1501)
    assert differences() == [
        f"trip {shop.trip.pk}: alcohol 1501 ml held by judged sales, over the limit of 1500"
    ]


def test_a_trip_over_its_limit_by_imported_sales_is_a_note_not_a_difference(
    shop: Shop,
) -> None:
    # The imported receipt's trip is its shopper's own; push it over with another import.
    report = import_sales(
        legacy_csv(legacy_row("LEGACY-2", "BK-SET5", 5, "100.00")), now=timezone.now()
    )
    assert report.imported == 1, report.errors
    rollups.refresh_all_dirty(now=timezone.now())
    result = books.check_books()
    assert result.differences == []
    trip = Sale.objects.get(receipt_no="LEGACY-2").trip_id
    assert result.notes == [
        f"trip {trip}: cosmetics 35 pieces held with imported sales (judged sales 0), over the "
        "limit of 30: imported sales are not judged"
    ]
    out, error = check()
    assert error is None
    assert f"note trip {trip}: cosmetics 35 pieces" in out


def test_judged_sales_on_a_trip_already_over_by_imports_are_still_judged(shop: Shop) -> None:
    sneak(shop, ("BK-SET5", 6, "100.00", 5), imported=True)  # 1 + 30 pieces: a note
    result = books.check_books()
    assert result.differences == []
    assert len(result.notes) == 1
    sneak(shop, ("BK-LIP", 30, "10.00", 1))  # judged sales alone: 31 pieces
    assert differences() == [
        f"trip {shop.trip.pk}: cosmetics 31 pieces held by judged sales, over the limit of 30"
    ]


# --- Identities -----------------------------------------------------------------------------------
def test_differences_name_ids_never_receipts_documents_or_names(shop: Shop) -> None:
    Sale.objects.filter(pk=shop.sale.pk).update(total=F("total") + 1)
    Sale.objects.filter(pk=shop.imported.pk).update(returned_amount=Decimal("1.00"))
    QuotaEntry.objects.filter(reference=f"sale:{shop.midnight.pk}").delete()
    out, error = check()
    assert error is not None
    secrets = [s.receipt_no for s in Sale.objects.all()]
    secrets += [support.resident_id(1), support.resident_id(2), IMPORTED_NUMBER, "张三", "李四"]
    secrets += list(Shopper.objects.values_list("document_key", flat=True))
    for secret in secrets:
        assert secret not in out
    assert f"sale {shop.sale.pk}:" in out
    assert f"sale {shop.imported.pk}:" in out


@pytest.mark.parametrize(
    "corrupt",
    [
        pytest.param(
            lambda s: QuotaAccount.objects.filter(pk=s.imported.account_id).update(used=0),
            id="used",
        ),
        pytest.param(lambda s: QuotaEntry.objects.order_by("pk").first().delete(), id="ledger"),
        pytest.param(
            lambda s: SaleLine.objects.filter(sale=s.imported).update(unit_price=1), id="line"
        ),
        pytest.param(
            lambda s: DailyStoreSales.objects.filter(day=s.imported.local_date).update(items=0),
            id="rollup",
        ),
        pytest.param(
            lambda s: SaleLine.objects.filter(sale=s.sale, sku="BK-LIP").update(pieces=40),
            id="trip",
        ),
    ],
)
def test_every_corruption_fails_the_command(shop: Shop, corrupt: Callable[[Shop], object]) -> None:
    assert check()[1] is None
    corrupt(shop)
    out, error = check()
    assert error is not None
    assert error.startswith("The books do not balance")
    assert "DIFFERENCE " in out


def test_a_return_listing_a_line_twice_is_refused_and_leaves_no_trace(db: None) -> None:
    """Found by the books: the service summed the quantities but not the money of a line
    listed twice. It is refused now, as the API's schema refuses it."""
    from django.utils import timezone, translation

    from shops.pos import returns
    from shops.pos.errors import ReturnExceedsSale

    support.product("DUP-LIP", "cosmetics", "100.00")
    terminal, _ = support.terminal()
    sale = sale_commit(
        terminal=terminal,
        idempotency_key="dup",
        fingerprint="dup",
        basket=support.basket(("DUP-LIP", 3)),
        now=timezone.now(),
    ).sale
    line = sale.lines.get()
    with translation.override("en"), pytest.raises(ReturnExceedsSale, match="listed twice"):
        returns.sale_return(
            terminal=terminal,
            sale_id=sale.pk,
            idempotency_key="r",
            fingerprint="r",
            lines=[(line.pk, 1), (line.pk, 1)],
            reason="",
            now=timezone.now(),
        )
    line.refresh_from_db()
    assert line.returned_quantity == 0
