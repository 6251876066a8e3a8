"""A resident identity card is issued by China: the country a caller sends with it changes nothing.

Before, the stored identity hashed whatever country came with a resident ID, so the same card
sent with "USA" was a second shopper with a fresh 100,000-yuan year and its own per-trip counts.
"""

from __future__ import annotations

import dataclasses

import pytest
from django.utils import timezone

from quotas import identity
from quotas.models import QuotaAccount, Shopper
from shops.pos import checkout, errors
from tests.support import basket, product, shopper, terminal

pytestmark = pytest.mark.django_db


class TestResidentIdCountry:
    def test_the_key_of_a_resident_id_ignores_the_country(self) -> None:
        number = "460100199001011230"
        assert identity.document_key(
            doc_type="resident_id", country="USA", number=number
        ) == identity.document_key(doc_type="resident_id", country="CHN", number=number)

    def test_other_documents_keep_their_issuing_country(self) -> None:
        assert identity.document_key(
            doc_type="passport", country="USA", number="E12345678"
        ) != identity.document_key(doc_type="passport", country="CHN", number="E12345678")

    def test_two_sales_with_different_countries_use_one_account(self) -> None:
        product("LIP", "cosmetics", "320.00")
        term, _ = terminal()
        chn = shopper()
        usa = dataclasses.replace(chn, country="USA")
        for number, who in enumerate((usa, chn)):  # first seen under "USA"
            checkout.sale_commit(
                terminal=term,
                idempotency_key=f"k-{number}",
                fingerprint=f"fp-{number}",
                basket=basket(("LIP", 10), who=who),
                now=timezone.now(),
            )
        assert Shopper.objects.count() == 1
        assert Shopper.objects.get().document_country == "CHN"  # as kept, whatever was sent
        assert QuotaAccount.objects.count() == 1
        # And the trip's 30 cosmetics pieces are counted across both: 10 + 10 + 11 is refused.
        with pytest.raises(errors.PurchaseNotAllowed):
            checkout.sale_commit(
                terminal=term,
                idempotency_key="k-3",
                fingerprint="fp-3",
                basket=basket(("LIP", 11), who=dataclasses.replace(chn, country="HKG")),
                now=timezone.now(),
            )
