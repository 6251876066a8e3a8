"""The point of sale's refusals, each with its HTTP status and problem code (translated once,
in the RFC 9457 handler of ``dutyfree.errors``). The key's own refusals (a reused key, a request
in flight) are the idempotency mechanism's: ``shops.pos.idempotency``."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy
from django.utils.translation import gettext_lazy as _

from dutyfree.errors import ConflictError, DomainError, NotFoundError
from quotas import rules
from shops.pos.answers import violation_out


class PurchaseNotAllowed(DomainError):
    status = 422
    code = "purchase_not_allowed"
    title = _("Purchase not allowed")

    def __init__(self, verdict: rules.Verdict) -> None:
        super().__init__(
            _("The policy forbids this purchase; see violations. Nothing was written.")
        )
        self.verdict = verdict

    def extra_for(self, language: str | None) -> dict[str, Any]:
        return {"violations": [violation_out(v, language) for v in self.verdict.violations]}


class SaleNotFound(NotFoundError):
    code = "sale_not_found"
    title = gettext_lazy("No such sale in this store")


class ReturnExceedsSale(DomainError):
    status = 400
    code = "return_exceeds_sale"
    title = gettext_lazy("More returned than was sold")


class UnknownLine(DomainError):
    status = 400
    code = "unknown_line"
    title = gettext_lazy("No such line in this sale")


class SaleVoided(ConflictError):
    code = "sale_voided"
    title = gettext_lazy("The sale was voided")


class PickupTooEarly(ConflictError):
    code = "pickup_too_early"
    title = gettext_lazy("Not yet: the shopper's departure is not recorded")


class SalePickedUp(ConflictError):
    code = "sale_picked_up"
    title = gettext_lazy("The goods were already handed over")
