"""After the sale: returns, voids and pickups, and terminal credentials.

Each change to a sale takes the shopper's quota-account lock first (the same lock a sale
takes), so returns, voids and purchases of one shopper never interleave; the locks and their
order are in shops/locks.py.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from operator import attrgetter
from typing import Any

from django.db import transaction
from django.db.models import F, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from dutyfree import money
from dutyfree.db import MAX_ID
from dutyfree.errors import ConflictError, DomainError, NotFoundError
from quotas.choices import EntryKind, PickupMode
from quotas.models import QuotaAccount
from quotas.rules import LOCAL_TZ
from quotas.selectors import accounts_by_id, departed_between
from quotas.services import (
    ALREADY_RECORDED,
    CLOSED_OPEN_TRIP,
    DepartureRecorded,
    quota_credit,
)

from .checkout import first_answer, mark_dirty, quota_payload
from .deadline import departure_record
from .idempotency import Answer, Retry, answer, once
from .locks import account_then_sale_lock, sale_lock
from .models import (
    Return,
    ReturnLine,
    Sale,
    SaleLine,
    SaleStatus,
    Store,
    Terminal,
)


class SaleNotFound(NotFoundError):
    code = "sale_not_found"
    title = gettext_lazy("No such sale in this store")


class ReturnExceedsSale(DomainError):
    status = 400
    code = "return_exceeds_sale"
    title = gettext_lazy("More returned than was sold")


class UnknownLine(DomainError):
    status = 400
    code = "unknown_line"
    title = gettext_lazy("No such line in this sale")


class SaleVoided(ConflictError):
    code = "sale_voided"
    title = gettext_lazy("The sale was voided")


class PickupTooEarly(ConflictError):
    code = "pickup_too_early"
    title = gettext_lazy("Not yet: the shopper's departure is not recorded")


# Mail is shipped, and return-to-island goods are kept, until the shopper has left the island.
AFTER_DEPARTURE = (PickupMode.MAIL, PickupMode.RETURN_TO_ISLAND)


class SalePickedUp(ConflictError):
    code = "sale_picked_up"
    title = gettext_lazy("The goods were already handed over")


def sale_of_store(*, store_id: int, sale_id: int) -> Sale:
    """A sale of this store, with its store and terminal; another store's sale is not found
    (404, never 403, so ids cannot be probed).

    :raises SaleNotFound: no such sale in this store.
    """
    sale = None
    if 0 < sale_id <= MAX_ID:
        sale = (
            Sale.objects.select_related("store", "terminal")
            .filter(pk=sale_id, store_id=store_id)
            .first()
        )
    if sale is None:
        raise SaleNotFound(_("Sale %(id)s is not a sale of this store.") % {"id": sale_id})
    return sale


def _lock_sale(*, store: Store, sale_id: int) -> tuple[QuotaAccount, Sale]:
    """Lock the sale's quota account, then the sale (one order everywhere: no deadlocks)."""
    sale = sale_of_store(store_id=store.pk, sale_id=sale_id)
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
    gets the first answer (shops.idempotency).

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
    :raises IdempotencyKeyReused, RequestInProgress: as :func:`shops.idempotency.once`.
    """
    return once(
        retry=retry,
        now=now,
        act=lambda: answer(200, sale_detail(change(terminal=terminal, sale_id=sale_id, now=now))),
    )


def departure_record_once(*, retry: Retry, now: datetime, **departure: Any) -> Answer:
    """A departure recorded once per (terminal, key) (:func:`shops.deadline.departure_record`):
    a retry is told what the first call decided, never a new verdict. A document no shopper
    holds is answered, stored and replayed as any other (a replay must not tell it apart).

    :raises DepartureInFuture: as :func:`quotas.services.departure_record_outcome`.
    :raises IdempotencyKeyReused, RequestInProgress: as :func:`shops.idempotency.once`.
    """
    return once(
        retry=retry,
        now=now,
        act=lambda: answer(201, departure_answer(departure_record(now=now, **departure))),
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
    account, sale = _lock_sale(store=terminal.store, sale_id=sale_id)
    if sale.status == SaleStatus.VOIDED:
        raise SaleVoided(_("A voided sale has nothing left to return."))
    sold = {line.pk: line for line in SaleLine.objects.filter(sale=sale)}
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

    amounts = {line_id: money.line_total(sold[line_id].unit_price, q) for line_id, q in lines}
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
    quota_credit(
        account=account,
        amount=amount,
        kind=EntryKind.RETURN,
        reference=f"return:{refund.pk}",
        now=now,
    )
    mark_dirty(sale=sale, now=now)
    return {
        "id": refund.pk,
        "sale": sale.pk,
        "amount": money.to_str(amount),
        "reason": reason,
        "created_at": now.astimezone(LOCAL_TZ).isoformat(),
        "lines": [
            {
                "line": line_id,
                "sku": sold[line_id].sku,
                "quantity": q,
                "amount": money.to_str(amounts[line_id]),
            }
            for line_id, q in lines
        ],
        "quota": quota_payload(year=account.year, limit=account.limit, used=account.used),
    }


@transaction.atomic
def sale_void(*, terminal: Terminal, sale_id: int, now: datetime) -> Sale:
    """Cancel a whole sale whose goods were not handed over; credit what was not yet returned.
    Voiding a voided sale changes nothing.

    :raises SaleNotFound: not a sale of the terminal's store.
    :raises SalePickedUp: the goods were handed over (return them instead).
    """
    account, sale = _lock_sale(store=terminal.store, sale_id=sale_id)
    if sale.status == SaleStatus.VOIDED:
        return sale
    if sale.picked_up_at is not None:
        raise SalePickedUp(_("The goods were handed over; take them back as a return."))
    outstanding = sale.total - sale.returned_amount
    sale.status = SaleStatus.VOIDED
    sale.voided_at = now
    sale.save(update_fields=["status", "voided_at"])
    if outstanding:
        quota_credit(
            account=account,
            amount=outstanding,
            kind=EntryKind.VOID,
            reference=f"void:{sale.pk}",
            now=now,
        )
    mark_dirty(sale=sale, now=now)
    return sale


@transaction.atomic
def sale_pickup(*, terminal: Terminal, sale_id: int, now: datetime) -> Sale:
    """The goods were handed over. Recording it twice keeps the first time.

    :raises SaleNotFound: not a sale of the terminal's store.
    :raises SaleVoided: the sale was voided.
    """
    sale = sale_lock(sale_of_store(store_id=terminal.store_id, sale_id=sale_id).pk)
    if sale.status == SaleStatus.VOIDED:
        raise SaleVoided(_("A voided sale cannot be handed over."))
    if sale.picked_up_at is None and sale.pickup in AFTER_DEPARTURE:
        left = departed_between(shopper_id=sale.shopper_id, start=sale.sold_at, end=now)
        if not left:
            raise PickupTooEarly(
                _(
                    "Goods sent by mail or kept for the shopper's return are handed over only "
                    "after a departure is recorded for the shopper."
                )
            )
    if sale.picked_up_at is None:
        sale.picked_up_at = now
        sale.save(update_fields=["picked_up_at"])
    return sale


def terminal_create(*, store: Store, name: str) -> tuple[Terminal, str]:
    """A new terminal and its key (shown once; only its hash is kept)."""
    key, prefix, key_hash = Terminal.new_key()
    terminal = Terminal.objects.create(store=store, name=name, key_prefix=prefix, key_hash=key_hash)
    return terminal, key


def sale_detail(sale: Sale, *, account: QuotaAccount | None = None) -> dict[str, Any]:
    """A sale as it stands now: the first answer plus status, pickup, returns, and the quota of
    the sale's year as the shopper's account stands now (after every return and void since),
    not as it stood at the sale. ``lines``/``returns`` may be prefetched, ``account`` given."""
    if account is None:
        account = accounts_by_id([sale.account_id])[sale.account_id]
    lines = sorted(sale.lines.all(), key=attrgetter("line_no"))
    body = first_answer(sale, lines=lines)
    returned = {line.pk: line.returned_quantity for line in lines}
    for line in body["lines"]:
        line["returned_quantity"] = returned[line["id"]]
    body.update(
        status=sale.status,
        returned_amount=money.to_str(sale.returned_amount),
        picked_up_at=sale.picked_up_at.astimezone(LOCAL_TZ).isoformat()
        if sale.picked_up_at
        else None,
        voided_at=sale.voided_at.astimezone(LOCAL_TZ).isoformat() if sale.voided_at else None,
        returns=[
            {
                "id": r.pk,
                "amount": money.to_str(r.amount),
                "created_at": r.created_at.astimezone(LOCAL_TZ).isoformat(),
            }
            for r in sorted(sale.returns.all(), key=attrgetter("pk"))
        ],
        quota=quota_payload(year=account.year, limit=account.limit, used=account.used),
    )
    return body


def _departure_message(outcome: DepartureRecorded) -> str:
    ref = {"carrier_ref": outcome.carrier_ref}
    if outcome.reason == ALREADY_RECORDED:
        return _("This departure was recorded before; nothing changed.")
    if outcome.reason == CLOSED_OPEN_TRIP:
        return _("Closed the shopper's trip %(carrier_ref)s.") % ref
    return (
        _(
            "No open trip %(carrier_ref)s scheduled within 12 hours of this departure: "
            "nothing closed."
        )
        % ref
    )


def departure_answer(outcome: DepartureRecorded) -> dict[str, Any]:
    """What the departure decided — whether it closed a trip on the request's carrier, and
    which — in one shape for every document: nothing of the shopper's other trips, and no
    sign of whether a document no shopper holds was known."""
    closed = outcome.closed
    return {
        "matched": outcome.matched,
        "reason": outcome.reason,
        "message": _departure_message(outcome),
        "carrier_ref": outcome.carrier_ref,
        "departed_at": outcome.departed_at.astimezone(LOCAL_TZ).isoformat(),
        "closed_trip": None
        if closed is None
        else {
            "carrier_ref": closed.carrier_ref,
            "departs_at": closed.departs_at.astimezone(LOCAL_TZ).isoformat(),
        },
    }


# --- A till looks up its store's sales (GET /api/v1/sales) -----------------------------------
def sales_find(*, store_id: int, receipt_no: str = "", day: date | None = None) -> QuerySet[Sale]:
    """The store's sales with this receipt number and/or of this local day, their lines and
    returns prefetched (unordered: the caller's pagination orders them)."""
    sales = (
        Sale.objects.filter(store_id=store_id)
        .select_related("store", "terminal")
        .prefetch_related("lines", "returns")
    )
    if receipt_no:
        sales = sales.filter(receipt_no=receipt_no)
    if day is not None:
        sales = sales.filter(local_date=day)
    return sales


def sale_details(sales: Sequence[Sale]) -> list[dict[str, Any]]:
    """:func:`sale_detail` of each sale; their quota accounts read in one query."""
    accounts = accounts_by_id(sale.account_id for sale in sales)
    return [sale_detail(sale, account=accounts[sale.account_id]) for sale in sales]
