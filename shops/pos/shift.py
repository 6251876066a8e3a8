"""A terminal's day, as its shift summary (the X report) adds it up: the sales it made, the
returns it took and its sales voided, each in all and by pickup mode
(``GET /api/v1/terminal-report``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, TypeAlias

from django.db.models import Count, F, Sum
from pydantic import Field

from dutyfree import money
from dutyfree.answers import Answer, LocalTime, Money
from quotas.choices import PickupMode
from quotas.rules import LOCAL_TZ
from shops.models import Return, Sale, Terminal

# A member named ``date`` must not be annotated by the name it hides.
LocalDay: TypeAlias = date


class TallyOut(Answer):
    count: int
    amount: Money


class PickupTallyOut(Answer):
    pickup: str
    sales: TallyOut
    returns: TallyOut
    voids: TallyOut


class TerminalReportOut(Answer):
    """The X report: read at any time, it changes nothing and closes nothing."""

    date: LocalDay = Field(description="The local (Asia/Shanghai) day.")
    store: str
    terminal: str
    training: bool = Field(description="A training terminal: none of it counts anywhere else.")
    generated_at: LocalTime
    sales: TallyOut = Field(description="Sales made at this terminal that day, voided included.")
    returns: TallyOut = Field(description="Returns this terminal took that day.")
    voids: TallyOut = Field(
        description="This terminal's sales voided that day, each for what it still held."
    )
    net: Money = Field(description="Sales less returns and voids.")
    by_pickup: list[PickupTallyOut] = Field(description="Each pickup mode with any of the above.")


def _tallies(rows: Iterable[Mapping[str, Any]]) -> dict[str, TallyOut]:
    return {
        row["pickup"]: TallyOut(count=row["count"], amount=money.quantize(row["amount"]))
        for row in rows
    }


def _total(tallies: Mapping[str, TallyOut]) -> TallyOut:
    return TallyOut(
        count=sum(tally.count for tally in tallies.values()),
        amount=sum((tally.amount for tally in tallies.values()), money.ZERO),
    )


def terminal_report(*, terminal: Terminal, day: date, now: datetime) -> TerminalReportOut:
    """``terminal``'s ``day`` (local): three grouped queries."""
    start = datetime.combine(day, time(), tzinfo=LOCAL_TZ)
    # The calendar's last day has no next midnight to end at.
    end = start + timedelta(days=1) if day < date.max else datetime.max.replace(tzinfo=UTC)
    own = Sale.objects.filter(terminal=terminal)
    sales = _tallies(
        own.filter(local_date=day)
        .values("pickup")
        .annotate(count=Count("id"), amount=Sum("total"))
        .order_by()
    )
    voids = _tallies(
        own.filter(voided_at__gte=start, voided_at__lt=end)
        .values("pickup")
        .annotate(count=Count("id"), amount=Sum(F("total") - F("returned_amount")))
        .order_by()
    )
    returns = _tallies(
        Return.objects.filter(terminal=terminal, created_at__gte=start, created_at__lt=end)
        .values(pickup=F("sale__pickup"))
        .annotate(count=Count("id"), amount=Sum("amount"))
        .order_by()
    )
    none = TallyOut(count=0, amount=Decimal("0.00"))
    by_pickup = [
        PickupTallyOut(
            pickup=mode,
            sales=sales.get(mode, none),
            returns=returns.get(mode, none),
            voids=voids.get(mode, none),
        )
        for mode in PickupMode.values
        if mode in sales or mode in returns or mode in voids
    ]
    totals = {
        name: _total(tallies)
        for name, tallies in (("sales", sales), ("returns", returns), ("voids", voids))
    }
    return TerminalReportOut(
        date=day,
        store=terminal.store.code,
        terminal=terminal.name,
        training=terminal.training,
        generated_at=now,
        net=totals["sales"].amount - totals["returns"].amount - totals["voids"].amount,
        by_pickup=by_pickup,
        **totals,
    )
