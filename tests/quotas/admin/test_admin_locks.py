"""The policy admin around locked (published) policies: history versions, publishing a
planned draft, deleting the draft a published policy came from, and bans that start later.
None may be a 500 or a silent change: a published policy explains the sales it judged."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from quotas import services
from quotas.errors import PolicyImmutable
from quotas.models import Ban, Category, Policy
from tests.conftest import local
from tests.support import shopper_row
from tests.support.admin_forms import form_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def web() -> Client:
    # English pages: the tests below read the admin's messages (test_admin_i18n.py: Chinese).
    client = Client(raise_request_exception=False, headers={"Accept-Language": "en"})
    client.force_login(get_user_model().objects.create_superuser("root", "r@example.org", None))
    return client


def draft_of_2025() -> Policy:
    return services.policy_clone(
        policy=Policy.objects.get(effective_from__year=2025, status="published")
    )


def publish(policy: Policy) -> Policy:
    return services.policy_publish(
        policy=policy, effective_from=timezone.now() + timedelta(days=30), now=timezone.now()
    )


def version_page(obj: Policy | Category) -> str:
    record = obj.history.latest("history_id")
    name = f"admin:quotas_{obj._meta.model_name}_simple_history"
    return reverse(name, args=[obj.pk, record.history_id])


@pytest.mark.parametrize("published", [False, True], ids=["draft", "published"])
def test_a_policy_version_is_shown_read_only_and_never_saved(web: Client, published: bool) -> None:
    """A superuser included: a version page that saved a POST would let whoever may view a
    policy rewrite a draft (and bypass the draft's own page)."""
    draft = draft_of_2025()
    page = version_page(draft)
    if published:
        publish(draft)
    shown = web.get(page)
    assert shown.status_code == 200
    assert shown.context["revert_disabled"] is True  # no "Revert" button
    assert shown.context["adminform"].form.fields == {}  # every field shown as text
    assert 'name="annual_limit"' not in shown.content.decode()
    data = form_data(
        web.get(reverse("admin:quotas_policy_change", args=[draft.pk])).context["adminform"].form
    )
    data |= {"annual_limit": "9999999.00", "min_age": "0"}
    before = Policy.history.count()
    assert web.post(page, data).status_code == 405
    policy = Policy.objects.get(pk=draft.pk)
    assert (policy.annual_limit, policy.min_age) != (9999999, 0)
    assert Policy.history.count() == before


@pytest.mark.parametrize("published", [False, True], ids=["draft", "published"])
def test_a_category_version_is_shown_read_only_and_never_saved(
    web: Client, published: bool
) -> None:
    draft = draft_of_2025()
    category = draft.categories.get(code="cosmetics")
    page = version_page(category)
    if published:
        publish(draft)
    shown = web.get(page)
    assert shown.status_code == 200
    assert shown.context["adminform"].form.fields == {}
    change = web.get(reverse("admin:quotas_category_change", args=[category.pk]))
    data = form_data(change.context["adminform"].form)
    data["per_trip_limit_value"] = "100000"
    assert web.post(page, data).status_code == 405
    assert Category.objects.get(pk=category.pk).per_trip_limit_value == 30


def test_the_publish_page_offers_the_drafts_planned_date(web: Client) -> None:
    draft = draft_of_2025()
    planned = local(2027, 1, 1, 0, 0)
    Policy.objects.filter(pk=draft.pk).update(effective_from=planned)  # as the draft form saves
    page = reverse("admin:quotas_policy_publish", args=[draft.pk])
    shown = web.get(page)
    data = form_data(shown.context["form"])
    data["publish"] = "Publish"
    assert web.post(page, data).status_code == 302  # confirmed as shown
    published = Policy.objects.get(pk=draft.pk)
    assert published.status == "published"
    assert published.effective_from == planned


def test_the_draft_a_published_policy_came_from_is_kept(web: Client) -> None:
    first = draft_of_2025()
    second = services.policy_clone(policy=first)
    publish(second)
    before = Policy.objects.filter(pk=second.pk).values().get()
    answer = web.post(
        reverse("admin:quotas_policy_changelist"),
        {"action": "delete_drafts", "_selected_action": [str(first.pk)]},
        follow=True,
    )
    assert "Kept 1 policy. Published versions are never deleted" in answer.content.decode()
    assert Policy.objects.filter(pk=first.pk).exists()
    assert Policy.objects.filter(pk=second.pk).values().get() == before
    refused = web.get(reverse("admin:quotas_policy_delete", args=[first.pk]), follow=True)
    assert refused.redirect_chain == [(reverse("admin:quotas_policy_change", args=[first.pk]), 302)]
    assert "a published or withdrawn version was cloned from it" in refused.content.decode()
    with pytest.raises(PolicyImmutable):
        first.delete()
    with pytest.raises(PolicyImmutable):
        Policy.objects.filter(pk=first.pk).delete()
    # A draft nobody published from is deleted as before.
    lone = draft_of_2025()
    web.post(
        reverse("admin:quotas_policy_changelist"),
        {"action": "delete_drafts", "_selected_action": [str(lone.pk)]},
    )
    assert not Policy.objects.filter(pk=lone.pk).exists()


def test_a_ban_starting_later_is_a_form_error_not_a_500(web: Client) -> None:
    shopper = shopper_row()
    start = timezone.localtime() + timedelta(days=1)
    answer = web.post(
        reverse("admin:quotas_ban_add"),
        {
            "shopper": str(shopper.pk),
            "reason": "customs_decision",
            "detail": "Customs decision effective tomorrow",
            "source_receipt_no": "",
            "starts_at_0": start.strftime("%Y-%m-%d"),
            "starts_at_1": start.strftime("%H:%M:%S"),
            "years": "3",
            "ends_at_0": "",
            "ends_at_1": "",
        },
    )
    assert answer.status_code == 200
    assert "A ban starts now or in the past, not later." in answer.content.decode()
    assert not Ban.objects.exists()


def test_a_programmes_code_cannot_be_renamed_in_the_admin(web: Client) -> None:
    from quotas.models import Programme

    programme = Programme.objects.get()
    page = reverse("admin:quotas_programme_change", args=[programme.pk])
    shown = web.get(page)
    assert "code" not in shown.context["adminform"].form.fields
    data = form_data(shown.context["adminform"].form)
    web.post(page, {**data, "code": "renamed"})
    assert Programme.objects.get().code == programme.code


def test_a_ban_of_more_than_50_years_is_refused() -> None:
    from django.core.exceptions import ValidationError

    draft = draft_of_2025()
    draft.ban_years = 8000  # years_later would overflow the calendar in the daily watch
    with pytest.raises(ValidationError, match="ban_years"):
        draft.full_clean()
