"""A category edit of a draft racing the draft's publication (PostgreSQL, two connections):
the edit locks the policy row, so the publish waits for it and publishes the edit, instead of
the edit landing on a policy published meanwhile, which would change published rules."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from quotas import services
from quotas.models import Category, Policy

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_a_publish_waits_for_a_category_edit_in_progress() -> None:
    draft = services.policy_clone(
        policy=Policy.objects.get(effective_from__year=2025, status="published")
    )
    outcome: list[object] = []

    def publish() -> None:
        try:
            outcome.append(
                services.policy_publish(
                    policy=Policy.objects.get(pk=draft.pk),
                    effective_from=timezone.now() + timedelta(days=1),
                    now=timezone.now(),
                )
            )
        except Exception as exc:
            outcome.append(exc)
        finally:
            connection.close()

    # Administrator A saves a category of the draft (the admin's change view is one
    # transaction); administrator B publishes the draft before A's request commits.
    with transaction.atomic():
        cosmetics = Category.objects.get(policy=draft, code="cosmetics")
        cosmetics.per_trip_limit_value = 25
        cosmetics.save()
        worker = threading.Thread(target=publish)
        worker.start()
        worker.join(timeout=1.0)
        waited = worker.is_alive()
    worker.join(timeout=30)

    assert waited, "the publish did not wait for the category edit in progress"
    assert len(outcome) == 1
    assert not isinstance(outcome[0], Exception), outcome
    assert Policy.objects.get(pk=draft.pk).status == "published"
    # What was published is what the edit wrote (the history shows it before publication).
    assert Category.objects.get(policy=draft, code="cosmetics").per_trip_limit_value == 25


def test_an_edit_after_the_publish_is_refused() -> None:
    draft = services.policy_clone(
        policy=Policy.objects.get(effective_from__year=2025, status="published")
    )
    services.policy_publish(
        policy=draft, effective_from=timezone.now() + timedelta(days=1), now=timezone.now()
    )
    cosmetics = Category.objects.get(policy=draft, code="cosmetics")
    cosmetics.per_trip_limit_value = 25
    with pytest.raises(services.PolicyImmutable):
        cosmetics.save()
    with pytest.raises(services.PolicyImmutable):
        cosmetics.delete()
