"""A policy preview as the API answers it (``/api/v1/policy-previews``)."""

from __future__ import annotations

from datetime import date
from typing import Any, TypeAlias

from pydantic import Field

from dutyfree.answers import Answer, LocalTime, Money
from quotas.models import Policy
from quotas.selectors import policy_with_parts
from shops.previews.models import PolicyPreview
from shops.previews.services import preview_is_stale

# A member named ``start`` or ``end`` annotated by a type alias, as elsewhere.
LocalDay: TypeAlias = date


class PreviewTallyOut(Answer):
    sales: int
    lines: int
    amount: Money


class PreviewPolicyOut(Answer):
    id: int
    name_zh: str
    name_en: str
    status: str


class PreviewExampleOut(Answer):
    receipt_no: str
    sold_at: LocalTime
    store: str
    amount: Money
    imported: bool
    codes: list[str] = Field(description="The violation codes the previewed version gives it.")


class PreviewRefusedOut(PreviewTallyOut):
    by_code: dict[str, PreviewTallyOut] = Field(
        description="Per violation code: the sales it refuses, their lines and yuan (a sale "
        "refused for two reasons counts under both)."
    )
    by_category: dict[str, PreviewTallyOut] = Field(
        description="Per category code: the refused sales with a line of it, and those lines "
        "with their yuan (a refused basket refuses all its lines)."
    )
    by_store: dict[str, PreviewTallyOut] = Field(description="Per store code: the refused sales.")
    examples: list[PreviewExampleOut] = Field(
        description="The earliest refused sales (at most 20)."
    )


class PreviewImportedOut(Answer):
    sales: int = Field(description="Judged sales from a legacy system (never judged before).")
    refused: int


class PreviewQuotaOut(Answer):
    annual_limit: Money = Field(description="The previewed version's annual limit.")
    shoppers: int = Field(description="Shoppers with a judged sale.")
    shoppers_over: int = Field(
        description="Of them, those whose year's spending went over the previewed limit."
    )
    shoppers_at_limit: int = Field(
        description="Of them, those who reached the limit of the version that judged them "
        "(who a raised limit would have let buy more)."
    )


class PreviewResultOut(Answer):
    policy: PreviewPolicyOut
    start: LocalDay
    end: LocalDay
    sales: int = Field(description="The window's completed sales, all judged again.")
    lines: int
    amount: Money
    refused: PreviewRefusedOut
    imported: PreviewImportedOut
    approximated: int = Field(
        description="Sales recorded before the age and residence were kept with each sale: "
        "judged with the oldest age the year of birth allows and the shopper's residence now."
    )
    quota: PreviewQuotaOut


class PolicyPreviewOut(Answer):
    id: int
    policy: int
    start: LocalDay = Field(description="The first local (Asia/Shanghai) day, included.")
    end: LocalDay = Field(description="The last local day, included.")
    status: str = Field(description="queued, running, done or failed.")
    progress: float = Field(ge=0, le=1, description="From 0 to 1.")
    done: int = Field(description="Sales judged so far.")
    total: int | None = Field(description="Sales to judge (known once the run starts).")
    created_at: LocalTime
    started_at: LocalTime | None
    finished_at: LocalTime | None
    stale: bool = Field(description="The draft was changed after this preview judged it.")
    error: str | None = Field(description="Why it failed.")
    result: PreviewResultOut | None = Field(description="When done.")


def preview_answer(preview: PolicyPreview, policy: Policy | None = None) -> PolicyPreviewOut:
    """``preview`` as the API answers it; ``policy``: its version, read if not given."""
    if policy is None:
        policy = policy_with_parts(preview.policy_id)
    result: Any = preview.result
    return PolicyPreviewOut(
        id=preview.pk,
        policy=preview.policy_id,
        start=preview.start,
        end=preview.end,
        status=preview.status,
        progress=round(preview.progress, 4),
        done=preview.done,
        total=preview.total,
        created_at=preview.created_at,
        started_at=preview.started_at,
        finished_at=preview.finished_at,
        stale=preview_is_stale(preview, policy),
        error=preview.error or None,
        result=PreviewResultOut.model_validate(result) if result is not None else None,
    )
