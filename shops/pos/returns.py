"""Goods and quota given back: a return (some lines of a sale) and a void (the whole sale,
before its goods were handed over).

Each takes the shopper's quota-account lock first (the same lock a sale takes), then the sale,
so returns, voids and purchases of one shopper never interleave; the locks and their order are
in shops/locks.py. A training sale is returned and voided as any other, but it spent no quota:
nothing is credited, no day is marked for the rollups and no event is told."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from dutyfree import money
from quotas.choices import EntryKind
from quotas.models import QuotaAccount
from quotas.services import (
    quota_credit,
)
from shops.feed import events as feed_events
from shops.locks import account_then_sale_lock
from shops.models import (
    EventType,
    Return,
    ReturnLine,
    Sale,
    SaleLine,
    SaleStatus,
    Terminal,
)
from shops.pos.answers import QuotaOut, ReturnLineOut, ReturnOut, sale_detail
from shops.pos.checkout import mark_dirty
from shops.pos.errors import ReturnExceedsSale, SalePickedUp, SaleVoided, UnknownLine
from shops.pos.idempotency import Answer, Retry, answer, once, render
from shops.pos.search import sale_of_store
from shops.tasks import pump_feed_after_commit


def _lock_sale(*, terminal: Terminal, sale_id: int) -> tuple[QuotaAccount, Sale]:
    """Lock the sale's quota account, then the sale (one order everywhere: no deadlocks). A
    training terminal finds its store's training sales only (``sale_of_store``)."""
    sale = sale_of_store(
        store_id=terminal.store_id, sale_id=sale_id, training_only=terminal.training
    )
    return account_then_sale_lock(account_id=sale.account_id, sale_id=sale.pk)


def sale_return(
    *,
    terminal: Terminal,
    sale_id: int,
    idempotency_key: str,
    fingerprint: str,
    lines: Sequence[tuple[int, int]],
    reason: str,
    now: datetime,
) -> Answer:
    """Take goods back once per (terminal, key): credit the quota of the sale's year and the
    trip's per-trip counts. ``lines`` are (sale line id, quantity). All or nothing. A retry
    gets the first answer (shops.pos.idempotency).

    :raises SaleNotFound: not a sale of the terminal's store.
    :raises UnknownLine: a line is not a line of this sale.
    :raises ReturnExceedsSale: a line returns more than is left of it, or is listed twice.
    :raises SaleVoided: the sale was voided.
    :raises IdempotencyKeyReused: the key answered another request.
    :raises RequestInProgress: the first request with the key is still running.
    """

    return once(
        retry=Retry(terminal_id=terminal.pk, key=idempotency_key, fingerprint=fingerprint),
        now=now,
        act=lambda: answer(
            201, _take_back(terminal=terminal, sale_id=sale_id, lines=lines, reason=reason, now=now)
        ),
    )


def tell(type: EventType, *, sale: Sale, body: Any, now: datetime) -> None:
    """A change to ``sale``'s event in the outbox, in the change's transaction: its data the
    body its answer has (:func:`shops.pos.idempotency.render`, the same bytes). Nothing for a
    training sale: the feed never hears of one."""
    if sale.training:
        return
    feed_events.record(
        type=type, store_id=sale.store_id, sale_id=sale.pk, data=render(body).decode(), at=now
    )
    pump_feed_after_commit()


def sale_change_once(
    *,
    retry: Retry,
    change: Callable[..., Sale],
    terminal: Terminal,
    sale_id: int,
    now: datetime,
) -> Answer:
    """A change to a sale — :func:`sale_void` or :func:`sale_pickup` — once per (terminal,
    key), answering the sale as it then stands.

    :raises SaleNotFound, SalePickedUp, SaleVoided, PickupTooEarly: as ``change``.
    :raises IdempotencyKeyReused, RequestInProgress: as :func:`shops.pos.idempotency.once`.
    """
    return once(
        retry=retry,
        now=now,
        act=lambda: answer(200, sale_detail(change(terminal=terminal, sale_id=sale_id, now=now))),
    )


@transaction.atomic
def _take_back(
    *,
    terminal: Terminal,
    sale_id: int,
    lines: Sequence[tuple[int, int]],
    reason: str,
    now: datetime,
) -> dict[str, Any]:
    """A return's work and its answer's body (see :func:`sale_return`).

    :raises SaleNotFound: not a sale of the terminal's store.
    :raises UnknownLine: a line is not a line of this sale.
    :raises ReturnExceedsSale: a line returns more than is left of it, or is listed twice.
    :raises SaleVoided: the sale was voided.
    """
    account, sale = _lock_sale(terminal=terminal, sale_id=sale_id)
    if sale.status == SaleStatus.VOIDED:
        raise SaleVoided(_("A voided sale has nothing left to return."))
    sold = {line.pk: line for line in SaleLine.objects.filter(sale=sale)}
    _check_returnable(sale=sale, sold=sold, lines=lines)
    amounts = {line_id: money.line_total(sold[line_id].unit_price, q) for line_id, q in lines}
    refund = _record_return(
        terminal=terminal,
        account=account,
        sale=sale,
        lines=lines,
        amounts=amounts,
        reason=reason,
        now=now,
    )
    body = ReturnOut(
        id=refund.pk,
        sale=sale.pk,
        amount=refund.amount,
        reason=reason,
        created_at=now,
        lines=[
            ReturnLineOut(line=line_id, sku=sold[line_id].sku, quantity=q, amount=amounts[line_id])
            for line_id, q in lines
        ],
        quota=QuotaOut.of(year=account.year, limit=account.limit, used=account.used),
    ).body()
    tell(EventType.SALE_RETURNED, sale=sale, body=body, now=now)
    return body


def _check_returnable(
    *, sale: Sale, sold: dict[int, SaleLine], lines: Sequence[tuple[int, int]]
) -> None:
    """Each returned line is a line of the sale (``sold``, by id), listed once, returning no
    more than is left of it. Every problem is listed at once, under the field it is in, so that
    the till corrects them all in one go.

    :raises UnknownLine: a line is not a line of this sale (the other problems listed with it).
    :raises ReturnExceedsSale: a line returns more than is left of it, or is listed twice.
    """
    unknown: dict[str, list[str]] = {}
    exceeding: dict[str, list[str]] = {}
    seen: set[int] = set()
    for index, (line_id, quantity) in enumerate(lines):
        line = sold.get(line_id)
        if line_id in seen:  # (the API refuses it too; direct callers must not slip past)
            exceeding[f"lines.{index}.line"] = [
                _("Line %(line)s is listed twice: each line once.") % {"line": line_id}
            ]
        elif line is None:
            unknown[f"lines.{index}.line"] = [
                _("Line %(line)s is not a line of sale %(sale)s.")
                % {"line": line_id, "sale": sale.pk}
            ]
        elif quantity > line.quantity - line.returned_quantity:
            exceeding[f"lines.{index}.quantity"] = [
                _("Line %(line)s: %(quantity)s returned, %(left)s left to return.")
                % {
                    "line": line_id,
                    "quantity": quantity,
                    "left": line.quantity - line.returned_quantity,
                }
            ]
        seen.add(line_id)
    if unknown:  # what the sale does not hold at all comes first; every problem is listed
        errors = {**unknown, **exceeding}
        raise UnknownLine(" ".join(m for ms in errors.values() for m in ms), errors=errors)
    if exceeding:
        raise ReturnExceedsSale(
            " ".join(m for ms in exceeding.values() for m in ms), errors=exceeding
        )


def _record_return(
    *,
    terminal: Terminal,
    account: QuotaAccount,
    sale: Sale,
    lines: Sequence[tuple[int, int]],
    amounts: dict[int, Decimal],
    reason: str,
    now: datetime,
) -> Return:
    """Write a return of ``lines`` (checked), priced at ``amounts`` by sale line id: the return
    and its lines, the sale's returned quantities and amount, the quota credited back and the
    day marked dirty (neither for a training sale)."""
    amount = money.total(amounts.values())
    refund = Return.objects.create(
        sale=sale, terminal=terminal, amount=amount, reason=reason, created_at=now
    )
    ReturnLine.objects.bulk_create(
        ReturnLine(sale_return=refund, sale_line_id=line_id, quantity=q, amount=amounts[line_id])
        for line_id, q in lines
    )
    for line_id, quantity in lines:
        SaleLine.objects.filter(pk=line_id).update(
            returned_quantity=F("returned_quantity") + quantity
        )
    Sale.objects.filter(pk=sale.pk).update(returned_amount=F("returned_amount") + amount)
    if not sale.training:
        quota_credit(
            account=account,
            amount=amount,
            kind=EntryKind.RETURN,
            reference=f"return:{refund.pk}",
            now=now,
        )
    mark_dirty(sale=sale, now=now)
    return refund


@transaction.atomic
def sale_void(*, terminal: Terminal, sale_id: int, now: datetime) -> Sale:
    """Cancel a whole sale whose goods were not handed over; credit what was not yet returned
    (nothing for a training sale). Voiding a voided sale changes nothing.

    :raises SaleNotFound: not a sale of the terminal's store.
    :raises SalePickedUp: the goods were handed over (return them instead).
    """
    account, sale = _lock_sale(terminal=terminal, sale_id=sale_id)
    if sale.status == SaleStatus.VOIDED:
        return sale
    if sale.picked_up_at is not None:
        raise SalePickedUp(_("The goods were handed over; take them back as a return."))
    outstanding = sale.total - sale.returned_amount
    sale.status = SaleStatus.VOIDED
    sale.voided_at = now
    sale.save(update_fields=["status", "voided_at"])
    if outstanding and not sale.training:
        quota_credit(
            account=account,
            amount=outstanding,
            kind=EntryKind.VOID,
            reference=f"void:{sale.pk}",
            now=now,
        )
    mark_dirty(sale=sale, now=now)
    tell(EventType.SALE_VOIDED, sale=sale, body=sale_detail(sale), now=now)
    return sale
