"""Property: a commit decides exactly as a quote of the same basket just before it would.

The commit takes shortcuts the quote does not (a new shopper skips the recount; a basket only
recounts the limited categories it asks for); whatever the history, the decision must match.
"""

from __future__ import annotations

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quotas.models import QuotaAccount, QuotaEntry, Shopper, Trip
from shops.models import DirtyDay, IdempotencyRecord, Sale, SaleLine
from shops.pos import checkout
from shops.pos.errors import PurchaseNotAllowed
from tests.support import basket, product, resident_id, shopper, terminal, trip

pytestmark = pytest.mark.django_db

SKUS = ["LIP", "SET5", "WINE", "PHONE", "TEA", "WATCH"]
steps = st.lists(
    st.tuples(
        st.integers(0, 1),  # shopper
        st.integers(0, 1),  # trip
        st.integers(0, 1),  # store
        st.lists(st.tuples(st.sampled_from(SKUS), st.integers(1, 15)), min_size=1, max_size=3),
    ),
    min_size=3,
    max_size=12,
)


@pytest.fixture
def shop() -> dict:
    product("LIP", "cosmetics", "320.00")
    product("SET5", "cosmetics", "1600.00", pieces=5)
    product("WINE", "alcohol", "600.00", volume_ml=375)
    product("PHONE", "mobile_phones", "5999.00")
    product("TEA", "tea", "88.00")
    product("WATCH", "watches", "30000.00")
    return {"terminals": [terminal("SYA-HTB")[0], terminal("HAK-IDFC")[0]]}


def _forget_sales() -> None:
    for model in (
        IdempotencyRecord,
        SaleLine,
        Sale,
        DirtyDay,
        QuotaEntry,
        QuotaAccount,
        Trip,
        Shopper,
    ):
        model.objects.all()._raw_delete(model.objects.db)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(history=steps)
def test_a_commit_decides_as_a_quote_would(shop: dict, history: list) -> None:
    _forget_sales()
    shoppers = [shopper(resident_id(1)), shopper(resident_id(2))]
    trips = [trip("HU7181"), trip("CZ6789")]
    committed = 0
    for n, (who, leg, store, lines) in enumerate(history):
        b = basket(*lines, who=shoppers[who], on=trips[leg])
        quote = checkout.sale_quote(basket=b, at=timezone.now()).verdict
        try:
            checkout.sale_commit(
                terminal=shop["terminals"][store],
                idempotency_key=f"k{n}",
                fingerprint=f"f{n}",
                basket=b,
                now=timezone.now(),
            )
        except PurchaseNotAllowed as refused:
            verdict = refused.verdict
        else:
            verdict = None
            committed += 1
        # Either outcome is legal; it must be the quote's.
        assert quote.allowed == (verdict is None)
        if verdict is not None:
            assert [v.code for v in verdict.violations] == [v.code for v in quote.violations]
    assert Sale.objects.count() == committed
