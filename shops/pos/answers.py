"""What the point of sale answers: the bodies of quotes, sales, returns' quotas and
departures, built from what was judged or stored. A sale's first answer is rendered before the
sale is written (the write records it for replays), so it is rebuilt here from columns that
never change after the commit."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from operator import attrgetter
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext as _

from dutyfree import money
from dutyfree.language import in_language
from quotas import rules
from quotas.choices import PickupMode
from quotas.models import QuotaAccount
from quotas.rules import LOCAL_TZ
from quotas.selectors import PolicyInForce, accounts_by_id, policy_by_id_cached
from quotas.services import ALREADY_RECORDED, CLOSED_OPEN_TRIP, DepartureRecorded
from shops.models import Sale, SaleLine, SaleStatus

if TYPE_CHECKING:
    from shops.pos.checkout import Judgement


@dataclass(frozen=True)
class WrittenLine:
    """What an answer shows of a sale line just written (no model instance needed)."""

    pk: int
    sku: str
    category_code: str
    quantity: int
    unit_price: Decimal
    amount: Decimal


# --- Answers ---------------------------------------------------------------------------------
def category_ref(categories: Mapping[str, rules.CategoryRule], code: str) -> dict[str, str]:
    """A category as answers name it, by the policy's ``categories``; by its code alone when
    that policy does not list it (the product is not duty-free under it). ``name`` is in the
    active language (the request's)."""
    category = categories.get(code)
    if category is None:
        return {"code": code, "name": code, "name_zh": code, "name_en": code}
    return {
        "code": code,
        "name": in_language(zh=category.name_zh, en=category.name_en),
        "name_zh": category.name_zh,
        "name_en": category.name_en,
    }


def _category(version: PolicyInForce, code: str) -> dict[str, str]:
    return category_ref(version.rules.categories, code)


def _number(value: object) -> object:
    return money.to_str(value) if isinstance(value, Decimal) else value


def violation_payload(violation: rules.Violation, language: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {"code": violation.code, "message": violation.message(language)}
    for name in ("category", "kind", "unit", "limit", "already", "requested", "sku", "reason"):
        value = getattr(violation, name)
        if value is not None:
            body[name] = _number(value)
    return body


def quota_payload(*, year: int, limit: Decimal, used: Decimal) -> dict[str, Any]:
    return {
        "year": year,
        "limit": money.to_str(limit),
        "used": money.to_str(used),
        "remaining": money.to_str(limit - used),
    }


def quote_payload(judgement: Judgement, language: str | None) -> dict[str, Any]:
    verdict, version = judgement.verdict, judgement.version
    policy = version.policy
    return {
        "allowed": verdict.allowed,
        "policy": {
            "id": policy.pk,
            "name": policy.name,
            "name_zh": policy.name_zh,
            "name_en": policy.name_en,
            "effective_from": policy.effective_from.astimezone(LOCAL_TZ).isoformat()
            if policy.effective_from
            else None,
        },
        "total": money.to_str(verdict.total),
        "lines": [
            {
                "sku": line.sku,
                "category": _category(version, line.product.category_code)
                if line.product
                else None,
                "quantity": line.quantity if isinstance(line.quantity, int) else None,
                "unit_price": money.to_str(line.product.unit_price) if line.product else None,
                "amount": money.to_str(line.amount) if line.amount is not None else None,
                "allowed": line.allowed,
                "violations": [violation_payload(v, language) for v in line.violations],
            }
            for line in verdict.lines
        ],
        "violations": [violation_payload(v, language) for v in verdict.violations],
        "quota": {
            **quota_payload(
                year=judgement.year, limit=verdict.annual_limit, used=verdict.annual_used
            ),
            "remaining_after": money.to_str(verdict.remaining_after),
        },
        "trip_limits": [
            {
                "category": limit.category.code,
                "unit": limit.unit,
                "limit": limit.limit,
                "used": limit.used,
                "requested": limit.requested,
                "remaining_after": limit.remaining_after,
            }
            for limit in verdict.trip_limits
        ],
        **(
            {"immediate_limits": immediate_limits_payload(verdict.immediate_limits)}
            if judgement.pickup == PickupMode.IMMEDIATE
            else {}
        ),
    }


_IMMEDIATE_KEYS = ("kind", "unit", "limit", "used", "requested", "remaining_after")


def _in_order(row: Mapping[str, Any]) -> dict[str, Any]:
    """A stored cap in the answer's key order (jsonb keeps its own order)."""
    return {key: row[key] for key in _IMMEDIATE_KEYS}


def immediate_limits_payload(limits: Sequence[rules.ImmediateLimit]) -> list[dict[str, Any]]:
    return [
        {
            "kind": limit.kind.code,
            "unit": limit.unit,
            "limit": limit.limit,
            "used": limit.used,
            "requested": limit.requested,
            "remaining_after": limit.remaining_after,
        }
        for limit in limits
    ]


def first_answer(
    sale: Sale, lines: Sequence[SaleLine] | Sequence[WrittenLine] | None = None
) -> dict[str, Any]:
    """The 201 body of a sale, rebuilt from columns that never change after the commit, so a
    replay is byte-for-byte the first answer whatever happened to the sale since."""
    version = policy_by_id_cached(sale.policy_id)
    if lines is None:
        lines = list(sale.lines.order_by("line_no"))
    return {
        "id": sale.pk,
        "receipt_no": sale.receipt_no,
        "store": sale.store.code,
        "terminal": sale.terminal.name,
        "sold_at": sale.sold_at.astimezone(LOCAL_TZ).isoformat(),
        "status": SaleStatus.COMPLETED.value,
        "pickup": sale.pickup,
        "total": money.to_str(sale.total),
        "lines": [
            {
                "id": line.pk,
                "sku": line.sku,
                "category": _category(version, line.category_code),
                "quantity": line.quantity,
                "unit_price": money.to_str(line.unit_price),
                "amount": money.to_str(line.amount),
            }
            for line in lines
        ],
        "quota": quota_payload(
            year=sale.sold_at.astimezone(LOCAL_TZ).year,
            limit=version.policy.annual_limit,
            used=sale.quota_used_after,
        ),
        **(
            {"immediate_limits": [_in_order(row) for row in sale.immediate_limits]}
            if sale.immediate_limits is not None
            else {}
        ),
    }


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


def sale_details(sales: Sequence[Sale]) -> list[dict[str, Any]]:
    """:func:`sale_detail` of each sale; their quota accounts read in one query."""
    accounts = accounts_by_id(sale.account_id for sale in sales)
    return [sale_detail(sale, account=accounts[sale.account_id]) for sale in sales]
