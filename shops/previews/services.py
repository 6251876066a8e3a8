"""Policy previews: asked for, run (a Celery task, or a thread of this process in zero-config
mode, or ``manage.py preview_policy``), and their result.

A preview writes nothing but its own row: the sales are read in a snapshot of their own
(:mod:`shops.previews.reading`) and judged with the pure rules (:mod:`shops.previews.judging`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import asdict
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from dutyfree.db import MAX_ID
from quotas.models import Policy
from quotas.rules import LOCAL_TZ, PolicyRules
from quotas.selectors import (
    policy_limits,
    policy_rules,
    policy_with_parts,
    programme_policy_ids,
)
from shops.models import Store, StoreChannel
from shops.previews.judging import Judged, judge_all
from shops.previews.models import UNFINISHED, PolicyPreview, PreviewStatus
from shops.previews.reading import Counts, recorded_sales
from shops.reporting.stats import StatsError, check_period

logger = logging.getLogger(__name__)

# The default window: the last 30 local days, today included.
DEFAULT_DAYS = 30
# How often a run writes its progress (and shows it is alive).
PROGRESS_EVERY = timedelta(seconds=0.5)


class PreviewError(ValueError):
    """A preview that cannot be asked for, naming the field at fault (in the request's
    language)."""

    def __init__(self, message: str, *, field: str, code: str) -> None:
        super().__init__(message)
        self.field = field
        self.code = code


def default_window(
    now: datetime, *, start: date | None = None, end: date | None = None
) -> tuple[date, date]:
    """The window asked for, what is not given by default: ``end`` today (local), ``start``
    the first of the ``DEFAULT_DAYS`` days that end there."""
    end = end or now.astimezone(LOCAL_TZ).date()
    return start or end - timedelta(days=DEFAULT_DAYS - 1), end


def check_window(start: date, end: date) -> None:
    """The window's check is the statistics' (:func:`shops.reporting.stats.check_period`): in
    order, within the calendar they answer for, at most five years.

    :raises PreviewError: naming the field at fault.
    """
    try:
        check_period(start, end)
    except StatsError as exc:
        raise PreviewError(str(exc), field=exc.field or "start", code=exc.code) from None


def rules_digest(rules: PolicyRules) -> str:
    """What the version says, digested: equal for equal rules (its id and date left out)."""

    def plain(value: Any) -> Any:
        if isinstance(value, set | frozenset):
            return sorted(value)
        return str(value)

    facts = asdict(rules)
    facts.pop("id", None)
    facts.pop("effective_from", None)
    text = json.dumps(facts, sort_keys=True, default=plain, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _policy(policy_id: int) -> Policy:
    try:
        if not 0 < policy_id <= MAX_ID:
            raise Policy.DoesNotExist
        return policy_with_parts(policy_id)
    except Policy.DoesNotExist:
        raise PreviewError(
            _("There is no policy %(id)s.") % {"id": policy_id},
            field="policy",
            code="unknown_policy",
        ) from None


def preview_request(
    *,
    policy_id: int,
    start: date,
    end: date,
    now: datetime,
    user: Any = None,
    dispatch: bool = True,
) -> tuple[PolicyPreview, bool]:
    """The preview of ``policy_id`` over ``start``–``end`` (local days, inclusive): the one
    already queued or running for the same version, rules and window, else a new one, queued
    to run once the caller's transaction commits (``dispatch``; otherwise the caller runs it:
    :func:`preview_run`). Returns it and whether it is new.

    A preview that has shown no sign of life for ``PREVIEW_ABANDONED_AFTER`` (its process
    ended mid-run) is marked failed and a new one is queued.

    :raises PreviewError: naming the field at fault.
    """
    check_window(start, end)
    policy = _policy(policy_id)
    digest = rules_digest(policy_rules(policy=policy))
    same = Q(policy=policy, rules_digest=digest, start=start, end=end)
    abandoned_before = now - settings.PREVIEW_ABANDONED_AFTER
    PolicyPreview.objects.filter(
        same, status__in=UNFINISHED, updated_at__lt=abandoned_before
    ).update(
        status=PreviewStatus.FAILED,
        error=f"abandoned: no progress for {settings.PREVIEW_ABANDONED_AFTER}",
        finished_at=now,
        updated_at=now,
    )
    for _attempt in range(3):
        running = PolicyPreview.objects.filter(same, status__in=UNFINISHED).first()
        if running is not None:
            return running, False
        try:
            with transaction.atomic():
                preview = PolicyPreview.objects.create(
                    policy=policy,
                    rules_digest=digest,
                    start=start,
                    end=end,
                    requested_by=user if getattr(user, "pk", None) else None,
                    created_at=now,
                    updated_at=now,
                )
        except IntegrityError:  # another request queued the same one meanwhile: join it
            continue
        if dispatch:
            from shops.tasks import start_policy_preview_after_commit

            start_policy_preview_after_commit(preview.pk)
        return preview, True
    raise RuntimeError("policy preview: could neither create nor find the unfinished preview")


def _stores() -> dict[int, tuple[str, bool]]:
    return {
        pk: (code, channel == StoreChannel.PHYSICAL)
        for pk, code, channel in Store.objects.values_list("pk", "code", "channel")
    }


def _result(
    *,
    preview: PolicyPreview,
    policy: Policy,
    rules: PolicyRules,
    counts: Counts,
    judged: Judged,
    stores: dict[int, tuple[str, bool]],
) -> dict[str, Any]:
    refused = judged.refused
    return {
        "policy": {
            "id": policy.pk,
            "name_zh": policy.name_zh,
            "name_en": policy.name_en,
            "status": policy.status,
        },
        "start": preview.start.isoformat(),
        "end": preview.end.isoformat(),
        **judged.seen.as_json(),
        "refused": {
            **refused.as_json(),
            "by_code": {code: t.as_json() for code, t in sorted(judged.by_code.items())},
            "by_category": {code: t.as_json() for code, t in sorted(judged.by_category.items())},
            "by_store": dict(
                sorted((stores[pk][0], t.as_json()) for pk, t in judged.by_store.items())
            ),
            "examples": judged.examples(),
        },
        "imported": {"sales": judged.imported, "refused": judged.imported_refused},
        "approximated": judged.approximated,
        "quota": {
            "annual_limit": str(rules.annual_limit),
            "shoppers": counts.shoppers,
            "shoppers_over": counts.shoppers_over,
            "shoppers_at_limit": counts.shoppers_at_limit,
        },
    }


def _claim(preview_id: int, now: datetime) -> PolicyPreview | None:
    """Mark the preview running for this run: queued, or running but abandoned (a worker that
    died mid-run, its task delivered again). None: another run has it, or it is finished."""
    abandoned_before = now - settings.PREVIEW_ABANDONED_AFTER
    claimed = PolicyPreview.objects.filter(
        Q(status=PreviewStatus.QUEUED)
        | Q(status=PreviewStatus.RUNNING, updated_at__lt=abandoned_before),
        pk=preview_id,
    ).update(status=PreviewStatus.RUNNING, started_at=now, updated_at=now, done=0)
    if not claimed:
        return None
    return PolicyPreview.objects.get(pk=preview_id)


def preview_run(
    preview_id: int,
    *,
    clock: Callable[[], datetime],
    progress: Callable[[int, int], None] = lambda done, total: None,
) -> PolicyPreview | None:
    """Run a queued preview to its end: its status, progress and result on its row. None when
    another run has it or it is finished. ``progress(done, total)`` is told as the row is.

    A failure is recorded on the row (``failed``, with what went wrong) and raised again."""
    preview = _claim(preview_id, clock())
    if preview is None:
        return None
    # This run's row: once another run has claimed the preview (this one was taken for
    # abandoned), nothing this run writes lands on it.
    mine = PolicyPreview.objects.filter(
        pk=preview.pk, started_at=preview.started_at, status=PreviewStatus.RUNNING
    )
    try:
        policy = _policy(preview.policy_id)
        rules = policy_rules(policy=policy)
        if rules_digest(rules) != preview.rules_digest:
            raise PreviewError(
                _("The draft was changed after this preview was asked for; ask again."),
                field="policy",
                code="policy_changed",
            )
        versions = programme_policy_ids(policy=policy)
        stores = _stores()
        with recorded_sales(
            start=preview.start,
            end=preview.end,
            policies=versions,
            limits=policy_limits(versions),
            limit=rules.annual_limit,
        ) as (counts, sales):
            mine.update(total=counts.sales, updated_at=clock())
            progress(0, counts.sales)
            told = time.monotonic()

            def tell(done: int) -> None:
                nonlocal told
                if time.monotonic() - told < PROGRESS_EVERY.total_seconds():
                    return
                told = time.monotonic()
                mine.update(done=done, updated_at=clock())
                progress(done, counts.sales)

            judged = judge_all(policy=rules, sales=sales, stores=stores, progress=tell)
        result = _result(
            preview=preview, policy=policy, rules=rules, counts=counts, judged=judged, stores=stores
        )
        now = clock()
        mine.update(
            status=PreviewStatus.DONE,
            done=judged.seen.sales,
            total=judged.seen.sales,
            result=result,
            finished_at=now,
            updated_at=now,
        )
        progress(judged.seen.sales, judged.seen.sales)
    except Exception as exc:
        logger.exception("policy preview %s failed", preview_id)
        now = clock()
        mine.update(
            status=PreviewStatus.FAILED,
            error=str(exc) or type(exc).__name__,
            finished_at=now,
            updated_at=now,
        )
        raise
    return PolicyPreview.objects.get(pk=preview_id)


def preview_of(preview_id: int) -> PolicyPreview | None:
    """A preview by id (None: none such, an id beyond the column's range included)."""
    if not 0 < preview_id <= MAX_ID:
        return None
    return PolicyPreview.objects.filter(pk=preview_id).first()


def previews_of(policy_id: int) -> list[PolicyPreview]:
    """A version's previews, newest first."""
    return list(PolicyPreview.objects.filter(policy_id=policy_id).order_by("-created_at", "-id"))


def preview_is_stale(preview: PolicyPreview, policy: Policy) -> bool:
    """Whether the version's rules changed since ``preview`` judged them (a draft edited)."""
    return rules_digest(policy_rules(policy=policy)) != preview.rules_digest
