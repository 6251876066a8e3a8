"""A policy version that changes the annual limit mid-year (as 2020-07-01 raised 30,000 to
100,000) applies to accounts opened before it: the account's limit follows the policy in force
under the account lock, so the database check agrees with the rules (else a sale the rules allow
breaks the account's check constraint)."""

from decimal import Decimal

import pytest
from django.db import transaction

from quotas import services as quota_services
from quotas.models import QuotaAccount
from quotas.selectors import policy_in_force
from shops.pos import checkout, errors
from tests.conftest import local
from tests.support import basket, product, terminal, trip

pytestmark = pytest.mark.django_db


def test_raised_annual_limit_applies_to_accounts_opened_earlier() -> None:
    product("WATCH", "watches", "60000.00")
    term, _ = terminal()
    publish_at = local(2026, 7, 1)
    draft = quota_services.policy_clone(policy=policy_in_force(at=local(2026, 6, 1)))
    draft.annual_limit = Decimal("150000.00")
    draft.save()
    quota_services.policy_publish(policy=draft, effective_from=publish_at, now=local(2026, 6, 1))

    on = trip(departs_at=local(2026, 7, 10, 10))
    checkout.sale_commit(
        terminal=term,
        idempotency_key="a",
        fingerprint="a",
        basket=basket(("WATCH", 1), on=on),
        now=local(2026, 6, 15),
    )
    b = basket(("WATCH", 1), on=on)
    quote = checkout.sale_quote(basket=b, at=local(2026, 7, 2))
    assert quote.verdict.allowed  # 60,000 + 60,000 <= 150,000: the quote says yes
    # ... and the sale the quote allowed goes through (it was a QuotaConflict, 409, before).
    result = checkout.sale_commit(
        terminal=term, idempotency_key="b", fingerprint="b", basket=b, now=local(2026, 7, 2)
    )
    assert result.body["quota"]["used"] == "120000.00"
    account = QuotaAccount.objects.get()
    assert account.limit == Decimal("150000.00")


def test_a_lowered_limit_refuses_more_but_never_goes_below_what_is_used() -> None:
    product("WATCH", "watches", "60000.00")
    term, _ = terminal()
    draft = quota_services.policy_clone(policy=policy_in_force(at=local(2026, 6, 1)))
    draft.annual_limit = Decimal("50000.00")
    draft.save()
    quota_services.policy_publish(
        policy=draft, effective_from=local(2026, 7, 1), now=local(2026, 6, 1)
    )
    on = trip(departs_at=local(2026, 7, 10, 10))
    checkout.sale_commit(
        terminal=term, idempotency_key="a", fingerprint="a",
        basket=basket(("WATCH", 1), on=on), now=local(2026, 6, 15),
    )  # fmt: skip
    refused = checkout.sale_quote(basket=basket(("WATCH", 1), on=on), at=local(2026, 7, 2))
    assert not refused.verdict.allowed
    product("TEA", "tea", "10.00")
    with pytest.raises(errors.PurchaseNotAllowed):  # the rules: over the new limit, not a 409
        checkout.sale_commit(
            terminal=term, idempotency_key="b", fingerprint="b",
            basket=basket(("TEA", 1), on=on), now=local(2026, 7, 2),
        )  # fmt: skip
    # A return still fits under the account's limit, which never drops below what is used.
    with transaction.atomic():
        account, _ = quota_services.quota_account_lock(
            presented=basket(("TEA", 1), on=on).shopper, programme_id=account_programme(),
            year=2026, limit=Decimal("50000.00"), now=local(2026, 7, 3),
        )  # fmt: skip
        assert (account.used, account.limit) == (Decimal("60000.00"), Decimal("60000.00"))
    stored = QuotaAccount.objects.get()
    assert (stored.used, stored.limit) == (Decimal("60000.00"), Decimal("60000.00"))


def account_programme() -> int:
    return QuotaAccount.objects.get().programme_id
