"""A shopper's own view of the quota: this year's limit, use and purchases, open trips with
what each still allows, and any ban. Read only.

DESIGN.md places the lookup beside the quotas; its purchases and per-trip usage are sales,
and ``quotas`` never imports ``shops``, so it lives here and reads the quotas through their
models.

Nothing reveals whether a document is known: the document and the name must both match
(HMACs compared in constant time), and a non-match answers exactly like a shopper with no
purchases this year, after running the same statements (for shopper id 0, which matches no
row) — same fields, same timing class.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple

from django.conf import settings
from pydantic import Field

from dutyfree import throttle
from dutyfree.answers import Answer, LocalTime, Money
from quotas import identity
from quotas.api import ImmediateUnitValue
from quotas.models import Shopper
from quotas.rules import LOCAL_TZ
from quotas.selectors import (
    PolicyInForce,
    account_of_year,
    open_trips,
    policy_in_force_cached,
    shopper_by_id,
    shopper_of_document,
)
from quotas.services import shopper_rekey
from shops.models import Sale, SaleStatus, Store
from shops.pos.trip_usage import TripUsage, trips_with_usage

MAX_PURCHASES = 500
NOBODY = 0  # no shopper has id 0: the same statements run and find nothing


@dataclass(frozen=True)
class LookupQuery:
    doc_type: str
    country: str
    number: str
    name: str


def lookup_document_hit(query: LookupQuery) -> throttle.Verdict:
    """Count one look-up of the query's document, whatever the address asking
    (``QUOTA_LOOKUP_DOCUMENT_RATE``): the page and the API share the count, kept under the
    document's keyed HMAC (the key a shopper row holds), never the number."""
    key = identity.document_key(doc_type=query.doc_type, country=query.country, number=query.number)
    rate = throttle.Rate.parse(settings.QUOTA_LOOKUP_DOCUMENT_RATE)
    return throttle.hit("quota-lookup-document", key, rate)


def _matching_shopper(query: LookupQuery, *, now: datetime) -> Shopper | None:
    name_key = identity.name_key(query.name)  # computed whether or not the document is known
    fields = ("id", "name_key", "banned_from", "banned_until")
    shopper = shopper_of_document(
        doc_type=query.doc_type,
        country=query.country,
        number=query.number,
        fields=fields,
        retired=False,
    )
    if shopper is None and identity.retired_keys():
        # A rotation is under way: a match under an old key moves the shopper to the current one.
        # Not shopper_of_document's read-only fallback: the name must match under the old key.
        rekeyed = shopper_rekey(
            doc_type=query.doc_type,
            country=query.country,
            number=query.number,
            name=query.name,
            now=now,
        )
        if rekeyed is not None:
            shopper = shopper_by_id(rekeyed, fields=fields)
    stored_name = shopper.name_key if shopper is not None else "0" * len(name_key)
    if hmac.compare_digest(stored_name, name_key) and shopper is not None:
        return shopper
    return None


class PurchaseOut(Answer):
    receipt_no: str
    sold_at: LocalTime
    store: str
    store_name: str = Field(description="In the request's language.")
    amount: Money
    returned: Money
    counted: Money = Field(description="What counts against the quota: net of returns.")
    status: str
    pickup: str


class OpenTripLimitOut(Answer):
    category: str
    name: str = Field(description="In the request's language.")
    unit: str
    limit: int
    used: int
    remaining: int


class OpenTripImmediateOut(Answer):
    kind: str
    name: str = Field(description="In the request's language.")
    unit: ImmediateUnitValue
    unit_name: str = Field(description="件, 瓶, 副 … or piece, bottle, pair …")
    limit: int
    per_variety: int | None
    used: int
    remaining: int


class OpenTripOut(Answer):
    carrier_ref: str
    kind: str
    mode: str
    departs_at: LocalTime
    trip_limits: list[OpenTripLimitOut]
    immediate_limits: list[OpenTripImmediateOut] = Field(
        description="What the trip may still take away at once, per kind."
    )


class MaskedDocumentOut(Answer):
    type: str
    masked: str = Field(description="Only the last four characters: ****1234.")


class LookupOut(Answer):
    year: int
    limit: Money
    used: Money
    remaining: Money
    banned_until: LocalTime | None
    document: MaskedDocumentOut
    purchases: list[PurchaseOut]
    open_trips: list[OpenTripOut]


def _purchases(*, account_id: int, language: str | None) -> list[PurchaseOut]:
    stores = {store.pk: store for store in Store.objects.all()}
    sales = (
        Sale.objects.filter(account_id=account_id, training=False)  # a training sale spent nothing
        .only("receipt_no", "store_id", "sold_at", "total", "returned_amount", "status", "pickup")
        .order_by("-sold_at", "-id")[:MAX_PURCHASES]
    )
    english = (language or "").startswith("en")
    found = []
    for sale in sales:
        store = stores.get(sale.store_id)
        net = sale.total - sale.returned_amount if sale.status == SaleStatus.COMPLETED else 0
        found.append(
            PurchaseOut(
                receipt_no=sale.receipt_no,
                sold_at=sale.sold_at,
                store=store.code if store else "",
                store_name=(store.name_en if english else store.name_zh) if store else "",
                amount=sale.total,
                returned=sale.returned_amount,
                counted=Decimal(net),
                status=sale.status,
                pickup=sale.pickup,
            )
        )
    return found


class _OpenTrip(NamedTuple):
    """An open trip's columns the look-up shows (``id`` first, as trips_with_usage wants)."""

    id: int
    carrier_ref: str
    kind: str
    mode: str
    departs_at: datetime


def _soonest_first(found: tuple[_OpenTrip, TripUsage]) -> tuple[datetime, int]:
    trip, _ = found
    return trip.departs_at, trip.id


def _open_trips(
    *, shopper_id: int, version: PolicyInForce, now: datetime, language: str | None
) -> list[OpenTripOut]:
    """Each open trip with what it still allows: per limited category, and per kind of the
    immediate-pickup list (shops.pos.trip_usage, one statement for all of them)."""
    policy = version.rules
    rows = trips_with_usage(
        trips=open_trips(shopper_id=shopper_id, now=now),
        columns=_OpenTrip._fields,
        policy=policy,
        immediate=bool(policy.immediate_kinds),
    )
    english = (language or "").startswith("en")
    kinds = sorted(policy.immediate_kinds.values(), key=lambda kind: kind.number)
    trips = []
    opened = [(_OpenTrip._make(head), usage) for head, usage in rows]
    for trip, usage in sorted(opened, key=_soonest_first):
        limits = []
        for category in policy.limited_categories:
            used = usage.categories.get(category.code, 0)
            limit = category.limit_value or 0
            limits.append(
                OpenTripLimitOut(
                    category=category.code,
                    name=category.name_en if english else category.name_zh,
                    unit=category.limit_unit or "",  # a limited category has one
                    limit=limit,
                    used=used,
                    remaining=max(limit - used, 0),
                )
            )
        immediate = []
        for rule in kinds:
            used = usage.immediate.get(rule.code, 0)
            immediate.append(
                OpenTripImmediateOut(
                    kind=rule.code,
                    name=rule.name_en if english else rule.name_zh,
                    unit=rule.unit,
                    unit_name=units_en(rule.unit_en, rule.per_trip) if english else rule.unit_zh,
                    limit=rule.per_trip,
                    per_variety=rule.per_variety,
                    used=used,
                    remaining=max(rule.per_trip - used, 0),
                )
            )
        trips.append(
            OpenTripOut(
                carrier_ref=trip.carrier_ref,
                kind=trip.kind,
                mode=trip.mode,
                departs_at=trip.departs_at,
                trip_limits=limits,
                immediate_limits=immediate,
            )
        )
    return trips


def units_en(unit: str, count: int) -> str:
    """An English unit word as a count reads it: "1 pair", "3 packs", "5 tins or packs"."""
    if count == 1:
        return unit
    return " ".join(word if word == "or" else f"{word}s" for word in unit.split())


def quota_lookup(*, query: LookupQuery, now: datetime, language: str | None) -> dict[str, Any]:
    """What the shopper holding this document and name may still buy this calendar year
    (Asia/Shanghai). A document and name that match nobody get the answer of a shopper with
    no purchases."""
    version = policy_in_force_cached(at=now)
    year = now.astimezone(LOCAL_TZ).year
    shopper = _matching_shopper(query, now=now)
    shopper_id = shopper.pk if shopper is not None else NOBODY
    account = account_of_year(
        shopper_id=shopper_id, programme_id=version.policy.programme_id, year=year
    )
    limit = account.limit if account is not None else version.rules.annual_limit
    used = account.used if account is not None else Decimal("0.00")
    purchases = _purchases(
        account_id=account.pk if account is not None else NOBODY, language=language
    )
    trips = _open_trips(shopper_id=shopper_id, version=version, now=now, language=language)
    banned = shopper is not None and shopper.banned_at(now)
    banned_until = shopper.banned_until if banned and shopper is not None else None
    return LookupOut(
        year=year,
        limit=limit,
        used=used,
        remaining=limit - used,
        banned_until=banned_until,
        document=MaskedDocumentOut(type=query.doc_type, masked=mask(query.number)),
        purchases=purchases,
        open_trips=trips,
    ).body()


def mask(number: str) -> str:
    """``****1234``: only the last four characters of a document number are ever shown."""
    return "****" + identity.normalise_document_number(number)[-4:]
