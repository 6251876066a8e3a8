"""What a sale needs before it is made: products, terminals, shoppers, trips.

``CATALOGUE`` is the point-of-sale catalogue, which ``stock`` makes for the ``catalogue`` fixture
(tests/shops/conftest.py); a test that needs other products makes them with ``product``."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import NamedTuple

from django.utils import timezone

from quotas import identity
from quotas.models import Shopper
from quotas.services import PresentedShopper
from shops.models import Operator, Product, Store, Terminal
from shops.pos.checkout import TripInput
from shops.pos.terminals import terminal_create

from .keys import serial

# One departure for every basket of a test run unless a test says otherwise.
DEPARTS = (timezone.now() + timedelta(days=3)).replace(minute=30, second=0, microsecond=0)
NUMBER = "460100199001011230"  # the default shopper's resident ID


def product(
    sku: str,
    category: str,
    price: str,
    *,
    volume_ml: int | None = None,
    pieces: int = 1,
    immediate_kind: str = "",
    operator: str | None = None,
) -> Product:
    """A product of the island catalogue, or of ``operator``'s (its code) own."""
    return Product.objects.create(
        operator=Operator.objects.get(code=operator) if operator else None,
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


class Stocked(NamedTuple):
    """A product of a catalogue, as ``product`` takes it."""

    sku: str
    category: str
    price: str
    volume_ml: int | None = None
    pieces: int = 1
    immediate_kind: str = ""


CATALOGUE: tuple[Stocked, ...] = (
    Stocked("LIP", "cosmetics", "320.00", immediate_kind="cosmetics"),
    Stocked("SET5", "cosmetics", "1600.00", pieces=5, immediate_kind="cosmetics"),
    Stocked("WINE750", "alcohol", "1200.00", volume_ml=750),
    Stocked("WINE751", "alcohol", "1300.00", volume_ml=751),
    Stocked("PHONE", "mobile_phones", "8999.00"),
    Stocked("WATCH", "watches", "10000.00"),
    Stocked("BIGWATCH", "watches", "99000.00"),  # guarantee pickup: 50,000 or more
    Stocked("PEN", "pens", "1000.01"),
    Stocked("DIAPERS", "diapers", "189.00", immediate_kind="diapers"),  # 3 packs at once
    # The immediate-pickup list (即购即提): sunglasses, cosmetics, diapers, bags.
    Stocked("RAYBAN", "eyewear", "1450.00", immediate_kind="sunglasses"),
    Stocked("GM-SUN", "eyewear", "2100.00", immediate_kind="sunglasses"),
    Stocked("READERS", "eyewear", "400.00"),  # eyewear, not sunglasses: never at once
    Stocked("DIOR-999", "cosmetics", "320.00", immediate_kind="cosmetics"),
    Stocked("YSL-1966", "cosmetics", "350.00", immediate_kind="cosmetics"),
    Stocked("SK2-TRIO", "cosmetics", "1800.00", pieces=3, immediate_kind="cosmetics"),
    Stocked("MERRIES", "diapers", "189.00", immediate_kind="diapers"),
    Stocked("BIRKIN", "bags_luggage", "98000.00", immediate_kind="bags"),
)


def stock(products: tuple[Stocked, ...] = CATALOGUE) -> list[Product]:
    """Every product of ``products`` (the point-of-sale catalogue unless said), created."""
    return [
        product(*p[:3], volume_ml=p.volume_ml, pieces=p.pieces, immediate_kind=p.immediate_kind)
        for p in products
    ]


def terminal(
    store: str = "SYA-HTB", name: str | None = None, *, training: bool = False
) -> tuple[Terminal, str]:
    """A terminal of ``store`` and its API key; a training terminal with ``training``."""
    return terminal_create(
        store=Store.objects.get(code=store), name=name or f"t{serial()}", training=training
    )


def shopper(
    number: str = NUMBER,
    *,
    birth: date = date(1990, 1, 1),
    resident: bool = False,
    name: str = "张三",
) -> PresentedShopper:
    """A shopper as a till presents one (resident ID, China)."""
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


def shopper_row(number: str = NUMBER, name: str = "张三") -> Shopper:
    """A shopper stored directly (no sale): keyed as the engine keys one."""
    return Shopper.objects.create(
        document_type="resident_id",
        document_country="CHN",
        document_key=identity.document_key(doc_type="resident_id", country="CHN", number=number),
        document_last4=identity.last_four(number),
        name_key=identity.name_key(name),
        birth_year=1990,
    )


def trip(
    carrier_ref: str = "HU7181", *, departs_at: datetime | None = None, kind: str = "domestic"
) -> TripInput:
    """A departure by air (``DEPARTS`` unless said)."""
    return TripInput(
        kind=kind,
        mode="air",
        carrier_ref=carrier_ref,
        departs_at=departs_at or DEPARTS,
    )
