"""Domain errors of the quotas app (translated to problem+json in one place: dutyfree.errors)."""

from django.utils.translation import gettext_lazy as _

from dutyfree.errors import ConflictError, DomainError, NotFoundError


class NoPolicyInForce(NotFoundError):
    code = "no_policy_in_force"
    title = _("No policy in force")


class PolicyImmutable(ConflictError):
    """A published or withdrawn policy (or one of its categories) was about to change."""

    code = "policy_immutable"
    title = _("Published policies cannot be changed")


class PolicyNotPublishable(DomainError):
    code = "policy_not_publishable"
    title = _("The policy cannot be published")


class PolicyNotWithdrawable(DomainError):
    code = "policy_not_withdrawable"
    title = _("The policy cannot be withdrawn")


class QuotaConflict(ConflictError):
    code = "quota_conflict"
    title = _("The quota changed; try again")


class BanAlreadyLifted(ConflictError):
    code = "ban_already_lifted"
    title = _("The ban was already lifted")


class BanInvalid(DomainError):
    code = "ban_invalid"
    title = _("The ban cannot be recorded")


class DepartureInFuture(DomainError):
    code = "departure_in_future"
    title = _("A departure is recorded once the shopper has left")
