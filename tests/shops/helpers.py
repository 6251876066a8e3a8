"""Builders shared by the point-of-sale tests."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import count

from captcha.models import CaptchaStore
from django.test import Client
from django.utils import timezone

from quotas.services import PresentedShopper
from shops.models import Product, Store, Terminal
from shops.pos.checkout import Basket, LineInput, TripInput
from shops.pos.terminals import terminal_create

_numbers = count(1)
# One departure for every basket of a test run unless a test says otherwise.
DEPARTS = (timezone.now() + timedelta(days=3)).replace(minute=30, second=0, microsecond=0)


def product(
    sku: str,
    category: str,
    price: str,
    *,
    volume_ml: int | None = None,
    pieces: int = 1,
    immediate_kind: str = "",
) -> Product:
    return Product.objects.create(
        sku=sku,
        name_zh=sku,
        name_en=sku,
        brand="Test",
        category_code=category,
        retail_price=Decimal(price),
        volume_ml=volume_ml,
        pieces=pieces,
        immediate_kind=immediate_kind,
    )


def terminal(store: str = "SYA-HTB", name: str | None = None) -> tuple[Terminal, str]:
    return terminal_create(store=Store.objects.get(code=store), name=name or f"t{next(_numbers)}")


def shopper(
    number: str = "460100199001011230",
    *,
    birth: date = date(1990, 1, 1),
    resident: bool = False,
    name: str = "张三",
) -> PresentedShopper:
    return PresentedShopper(
        doc_type="resident_id",
        country="CHN",
        number=number,
        name=name,
        birth_date=birth,
        hainan_resident=resident,
    )


def resident_id(serial: int, birth: date = date(1990, 1, 1)) -> str:
    """A resident-ID-shaped number whose birth digits match ``birth``."""
    return f"460100{birth:%Y%m%d}{serial:04d}"


def trip(
    carrier_ref: str = "HU7181", *, departs_at: datetime | None = None, kind: str = "domestic"
) -> TripInput:
    return TripInput(
        kind=kind,
        mode="air",
        carrier_ref=carrier_ref,
        departs_at=departs_at or DEPARTS,
    )


def basket(
    *lines: tuple[str, int],
    who: PresentedShopper | None = None,
    on: TripInput | None = None,
    pickup: str = "departure",
    no_trip: bool = False,
) -> Basket:
    return Basket(
        shopper=who or shopper(),
        trip=None if no_trip else (on or trip()),
        pickup=pickup,
        lines=tuple(LineInput(sku, quantity) for sku, quantity in lines),
    )


def json_basket(b: Basket) -> dict:
    """The API body of a basket."""
    body = {
        "shopper": {
            "document": {
                "type": b.shopper.doc_type,
                "number": b.shopper.number,
                "country": b.shopper.country,
            },
            "name": b.shopper.name,
            "birth_date": b.shopper.birth_date.isoformat(),
            "hainan_resident": b.shopper.hainan_resident,
        },
        "pickup": b.pickup,
        "lines": [{"sku": line.sku, "quantity": line.quantity} for line in b.lines],
    }
    if b.trip is not None:
        body["trip"] = {
            "mode": b.trip.mode,
            "kind": b.trip.kind,
            "carrier_ref": b.trip.carrier_ref,
            "departs_at": b.trip.departs_at.isoformat(),
        }
    return body


def captcha_answer(client: Client) -> dict[str, str]:
    """The page's CAPTCHA fields, answered: the key from a GET of /quota/, its response."""
    html = client.get("/quota/").content.decode()
    key = re.search(r'name="captcha_0" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    return {"captcha_0": key, "captcha_1": CaptchaStore.objects.get(hashkey=key).response}
