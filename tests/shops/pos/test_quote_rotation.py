"""During an identity-key rotation a quote finds a shopper not yet re-keyed under the retired
keys, so it judges against their real history, as the sale does: a quote that allows what the
sale then refuses misleads the till."""

import pytest
from django.test import override_settings
from django.utils import timezone

from shops.pos import checkout
from tests import support
from tests.support.identity import BEFORE, ROTATING

NUMBER = support.resident_id(2468)

pytestmark = pytest.mark.django_db


def test_quote_during_rotation_sees_the_shoppers_usage() -> None:
    support.product("LIP", "cosmetics", "300.00")
    term, _ = support.terminal()
    who = support.shopper(NUMBER)
    with override_settings(**BEFORE):
        checkout.sale_commit(
            terminal=term,
            idempotency_key="a",
            fingerprint="a",
            basket=support.basket(("LIP", 30), who=who),
            now=timezone.now(),
        )
    with override_settings(**ROTATING):
        quote = checkout.sale_quote(basket=support.basket(("LIP", 1), who=who), at=timezone.now())
        # the trip already holds 30 cosmetics pieces: the 31st must be refused
        assert [v.code for v in quote.verdict.violations] == ["per_trip_limit_exceeded"], (
            quote.verdict.allowed,
            quote.verdict.annual_used,
        )
