"""Historical sales from a legacy system: ``manage.py import_sales FILE.csv``, batch by batch.

One CSV row per sale line (UTF-8, a BOM allowed), the rows of a receipt sharing ``receipt_no``
anywhere in the file. Imported sales consume quota but are not judged again: the policy in
force at ``sold_at`` is recorded, the quota accounts are debited with ``import`` ledger entries,
and each touched (local day, store) slice is marked for the rollups.

The pipeline:

1. **Read** the whole file with the ``csv`` module (:mod:`shops.imports.reading`), grouping
   rows by receipt. What rows repeat is parsed once and shared: a line's (sku, category) and
   (quantity, price), a receipt's shopper (the HMACs of the document and the name), trip and
   store, the policy of each day.
2. **Check each receipt**: the fields every row of a receipt repeats (store, time, shopper,
   trip, pickup) must agree with its first row. Any error rejects the whole receipt; errors
   are reported with their CSV line number (the header is line 1) and field, never with a
   document number or a name.
3. **Order** the good receipts by ``sold_at`` (then line), so that each shopper's quota is
   spent in the order the sales happened, and write them in batches of ``BATCH_RECEIPTS``
   receipts, one transaction each (:mod:`shops.imports.writing`): receipts already in
   ``shops_sale`` are skipped; the shoppers' quota accounts are locked (``FOR NO KEY
   UPDATE``, the lock every live sale takes, in id order) and a receipt that would take its
   account over the limit is rejected; then shoppers, accounts, trips and ledger entries go in
   through :mod:`quotas.bulk`, sales and lines by ``COPY``, the dirty-day marks by one
   ``INSERT`` per batch.

``WORKERS`` connections write at once, each the receipts of its own shoppers
(split by document key): no two writers share a shopper, an account or a trip, and each
shopper's receipts still go in ``sold_at`` order. Every batch but a writer's last commits
without waiting for its WAL flush (``synchronous_commit = off``, for that transaction only);
the last batch's commit waits, and so flushes the WAL of all the batches before it. When the
command returns, everything it reported is durable; a crash of the database server during an
import may lose the batches committed last, which a re-run imports (receipts already in are
skipped).

A file that cannot be read as CSV (not UTF-8, a NUL byte, a missing column, a quoting error)
is refused whole: nothing is written. The whole file is held in memory (grouping receipts
whose rows are far apart and ordering them by time need it; how much: README, "Performance").
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from operator import attrgetter, itemgetter

from django.db import IntegrityError, OperationalError, connection, transaction

from quotas.services import shopper_rekey
from shops.imports.reading import (
    BATCH_RECEIPTS,
    RETRIES,
    WORKERS,
    ImportRefused,
    ImportReport,
    Reader,
    Receipt,
    Source,
    source_lines,
)
from shops.imports.writing import (
    AccountKey,
    Outcome,
    Retry,
    SalesTables,
    import_terminals,
    write_batch,
)
from shops.models import Operator


# --- The import -----------------------------------------------------------------------------------
def import_sales(
    path_or_file: Source,
    *,
    dry_run: bool = False,
    progress: Callable[[int], object] | None = None,
    now: datetime,
    batch_size: int = BATCH_RECEIPTS,
    workers: int | None = None,
    operator: Operator | None = None,
) -> ImportReport:
    """Import historical receipts (see the module docstring). A dry run checks everything,
    the quota included, and writes nothing.

    ``progress`` is called with numbers of CSV lines as they are settled (written, skipped or
    rejected). ``now`` (the caller's clock) stamps the rows written. Receipts go in batch by
    batch: if the database fails, the batches before stay written, and re-running the file
    skips them.

    ``operator``: run by (or for) that operator's people, the file may hold only its stores'
    receipts: a row of another operator's store is an error on its line, its receipt rejected.

    ``workers`` (PostgreSQL, outside a transaction; default ``WORKERS``): that many
    connections write at once, each the receipts of its own shoppers (by document key), so
    that no two share an account, a shopper or a trip and each shopper's receipts still go in
    ``sold_at`` order. Elsewhere, or inside a transaction, one writer.
    """
    started = time.perf_counter()
    report = ImportReport(dry_run=dry_run)
    try:
        reader = _read(path_or_file, now=now, report=report, operator=operator)
    except (ImportRefused, OSError) as exc:
        report.refused = True
        report.errors = [
            str(exc) if isinstance(exc, ImportRefused) else f"cannot read the file: {exc}"
        ]
        report.seconds = time.perf_counter() - started
        return report
    tally = _Tally(report=report, progress=progress)
    good, rejected_lines = _checked(reader, tally=tally)
    if not dry_run:
        for doc_type, country, number, name in reader.rekey:
            shopper_rekey(doc_type=doc_type, country=country, number=number, name=name, now=now)
    del reader  # the whole file, no longer needed while writing
    tally.lines(rejected_lines)
    good.sort(key=attrgetter("sold_at", "first_line"))
    _write_all(good, tally=tally, now=now, dry_run=dry_run, batch_size=batch_size, workers=workers)
    tally.close()
    report.seconds = time.perf_counter() - started
    return report


@dataclass
class _Tally:
    """What the import has settled, by the checks and then batch by batch from the writers'
    threads at once: the report's counts and the progress, and the errors and notes with
    their CSV line, put into the report in line order at the end."""

    report: ImportReport
    progress: Callable[[int], object] | None
    errors: list[tuple[int, str]] = field(default_factory=list)
    notes: list[tuple[int, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def lines(self, count: int) -> None:
        """``count`` lines settled outside a batch."""
        if self.progress and count:
            self.progress(count)

    def batch(self, batch: Sequence[Receipt], outcome: Outcome) -> None:
        """A batch written (or, in a dry run, checked); called from any writer's thread."""
        with self.lock:
            self.report.imported += len(outcome.accepted)
            self.report.lines_imported += sum(len(r.lines) for r in outcome.accepted)
            self.report.skipped += outcome.skipped
            self.report.rejected += len(outcome.errors)
            self.notes.extend(outcome.notes)
            self.errors.extend(outcome.errors)
            if self.progress:
                self.progress(sum(r.line_count for r in batch))

    def close(self) -> None:
        """Put the errors and notes into the report, in line order."""
        self.errors.sort(key=itemgetter(0))
        self.notes.sort(key=itemgetter(0))
        self.report.errors = [message for _, message in self.errors]
        self.report.notes = [message for _, message in self.notes]


def _read(
    path_or_file: Source, *, now: datetime, report: ImportReport, operator: Operator | None
) -> Reader:
    """The whole file read into receipts, rows grouped by receipt number.

    :raises ImportRefused: the file cannot be read as the CSV it should be.
    :raises OSError: the file cannot be opened or read.
    """
    reader = Reader(now=now, operator=operator)
    with source_lines(path_or_file) as lines:
        reader.read(lines, report)
    return reader


def _checked(reader: Reader, *, tally: _Tally) -> tuple[list[Receipt], int]:
    """The receipts without an error, resolved (shopper, trip, store, policy), and the number
    of lines rejected: the rows without a receipt number, and every line of a receipt with an
    error, which rejects it whole (each error reported with its line)."""
    tally.errors += reader.orphans
    tally.report.rejected += len(reader.orphans)
    rejected_lines = len(reader.orphans)
    good = []
    for receipt in reader.receipts.values():
        reader.resolve(receipt)
        if receipt.errors:
            tally.report.rejected += 1
            rejected_lines += receipt.line_count
            tally.errors += [(n, f"{receipt.where(n)}: {message}") for n, message in receipt.errors]
        else:
            good.append(receipt)
    return good, rejected_lines


def _write_all(
    receipts: list[Receipt],
    *,
    tally: _Tally,
    now: datetime,
    dry_run: bool,
    batch_size: int,
    workers: int | None,
) -> None:
    """Write the receipts (in ``sold_at`` order) through :func:`_writers` connections at once,
    each the receipts of its own shoppers (by document key), each batch settled in ``tally``."""
    terminals = import_terminals({r.store_id for r in receipts}, now=now, dry_run=dry_run)
    count = _writers(workers)
    groups: list[list[Receipt]] = [[] for _ in range(count)]
    for receipt in receipts:
        groups[int(receipt.account_key[0][:8], 16) % count].append(receipt)

    def write(group: list[Receipt]) -> None:
        _write_group(
            group,
            terminals=terminals,
            now=now,
            dry_run=dry_run,
            batch_size=batch_size,
            settle=tally.batch,
        )

    if count == 1:
        write(groups[0])
    else:
        with ThreadPoolExecutor(count, thread_name_prefix="import-sales") as pool:
            for future in [pool.submit(_in_own_connection, write, group) for group in groups]:
                future.result()


def _writers(requested: int | None) -> int:
    """How many connections write at once (see :func:`import_sales`)."""
    if connection.in_atomic_block:
        return 1  # a writer thread could not see the caller's uncommitted rows
    return max(1, WORKERS if requested is None else requested)


def _in_own_connection(work: Callable[[list[Receipt]], None], group: list[Receipt]) -> None:
    """Run ``work`` in this thread's own database connection, closed afterwards."""
    try:
        work(group)
    finally:
        connection.close()


def _write_group(
    receipts: list[Receipt],
    *,
    terminals: dict[int, int],
    now: datetime,
    dry_run: bool,
    batch_size: int,
    settle: Callable[[Sequence[Receipt], Outcome], None],
) -> None:
    """Write ``receipts`` (in ``sold_at`` order) batch by batch, one transaction each."""
    db = SalesTables()
    spent: dict[AccountKey, Decimal] = {}
    for start in range(0, len(receipts), batch_size):
        batch = receipts[start : start + batch_size]
        last = start + batch_size >= len(receipts)
        for attempt in range(RETRIES):
            try:
                with transaction.atomic(durable=True):
                    db.begin(last=last or dry_run)
                    outcome = write_batch(
                        batch,
                        db=db,
                        terminals=terminals,
                        spent_before=spent,
                        now=now,
                        dry_run=dry_run,
                    )
                break
            except (Retry, IntegrityError, OperationalError):
                # A concurrent writer created a row this batch meant to create, or a
                # deadlock: rolled back, read again. Anything else fails again and is raised.
                if attempt == RETRIES - 1:
                    raise
        spent.update(outcome.spent)
        settle(batch, outcome)
