"""Handing the goods over (``POST /api/v1/sales/{id}/pickup``)."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils.translation import gettext as _

from quotas.choices import PickupMode
from quotas.selectors import departed_between
from shops.locks import sale_lock
from shops.models import EventType, Sale, SaleStatus, Terminal
from shops.pos.answers import sale_detail
from shops.pos.errors import PickupTooEarly, SaleVoided
from shops.pos.returns import tell
from shops.pos.search import sale_of_store

# Mail is shipped, and return-to-island goods are kept, until the shopper has left the island.
AFTER_DEPARTURE = (PickupMode.MAIL, PickupMode.RETURN_TO_ISLAND)


@transaction.atomic
def sale_pickup(*, terminal: Terminal, sale_id: int, now: datetime) -> Sale:
    """The goods were handed over. Recording it twice keeps the first time (and its one
    ``sale.picked_up`` event; none for a training sale). A training terminal hands over its
    store's training sales only.

    :raises SaleNotFound: not a sale of the terminal's store.
    :raises SaleVoided: the sale was voided.
    """
    found = sale_of_store(
        store_id=terminal.store_id, sale_id=sale_id, training_only=terminal.training
    )
    sale = sale_lock(found.pk)
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
        tell(EventType.SALE_PICKED_UP, sale=sale, body=sale_detail(sale), now=now)
    return sale
