"""Domain errors of the quotas app (translated to problem+json in one place: dutyfree.errors)."""

from dutyfree.errors import ConflictError, DomainError, NotFoundError


class NoPolicyInForce(NotFoundError):
    code = "no_policy_in_force"
    title = "No policy in force"


class PolicyImmutable(ConflictError):
    """A published or withdrawn policy (or one of its categories) was about to change."""

    code = "policy_immutable"
    title = "Published policies cannot be changed"


class PolicyNotPublishable(DomainError):
    code = "policy_not_publishable"
    title = "The policy cannot be published"


class PolicyNotWithdrawable(DomainError):
    code = "policy_not_withdrawable"
    title = "The policy cannot be withdrawn"


class QuotaConflict(ConflictError):
    code = "quota_conflict"
    title = "The quota changed; try again"


class ShopperNotFound(NotFoundError):
    code = "shopper_not_found"
    title = "No shopper with this document"


class BanAlreadyLifted(ConflictError):
    code = "ban_already_lifted"
    title = "The ban was already lifted"


class BanInvalid(DomainError):
    code = "ban_invalid"
    title = "The ban cannot be recorded"


class DepartureInFuture(DomainError):
    code = "departure_in_future"
    title = "A departure is recorded once the shopper has left"
