"""Policies in the database: shipped data, the policy in force, immutability, life cycle."""

from __future__ import annotations

import importlib
import json
from collections import Counter
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import translation

from quotas import services
from quotas.change_reasons import change_reason_text
from quotas.errors import (
    NoPolicyInForce,
    PolicyImmutable,
    PolicyNotPublishable,
    PolicyNotWithdrawable,
)
from quotas.models import Category, ImmediatePickupKind, Policy
from quotas.rules import LOCAL_TZ, ShopperFacts, Usage, judge_basket
from quotas.selectors import policy_in_force, policy_rules
from tests.conftest import local
from tests.support.policies import DATA, confirmations, confirmed_policies, shipped_rules

pytestmark = pytest.mark.django_db


def shipped(year: int) -> Policy:
    return Policy.objects.get(effective_from__year=year, status="published")


class TestShippedData:
    def test_two_published_versions(self) -> None:
        policies = list(Policy.objects.order_by("effective_from"))
        assert [(p.effective_from, p.categories.count(), p.min_age) for p in policies] == [
            (local(2023, 4, 1), 45, 16),
            (local(2025, 11, 1), 47, 18),
        ]
        assert all(p.status == "published" for p in policies)
        assert policies[1].traveller_kinds == ["domestic", "outbound", "resident_outbound_record"]

    def test_verification_state_is_kept(self) -> None:
        # As shipped (16, 22, 9), then 22, 24, 25 and 26 confirmed by quotas.0016.
        verified = Counter(shipped(2025).categories.values_list("verified", flat=True))
        assert verified == {"name_and_number": 20, "name": 18, "no": 9}
        diapers = shipped(2025).categories.get(code="diapers")
        assert diapers.verified == "no"
        assert "Serial L" in diapers.note

    def test_the_migration_and_the_pure_rules_agree(self) -> None:
        for year, key in ((2023, "2023-04-01"), (2025, "2025-11-01")):
            from_db = policy_rules(policy=shipped(year))
            from_file = shipped_rules(key)
            assert dict(from_db.categories) == dict(from_file.categories)
            assert dict(from_db.immediate_kinds) == dict(from_file.immediate_kinds)
            assert from_db.traveller_kinds == from_file.traveller_kinds
            assert from_db.annual_limit == from_file.annual_limit

    def test_the_database_holds_the_data_file(self) -> None:
        # The migrations (0002, 0010, 0014) leave every shipped category as the copy states it,
        # and 0016 as quotas/data/confirmations.json then confirms it.
        fields = ("number", "name_zh", "name_en", "verified", "added", "note")
        for item in confirmed_policies():
            policy = Policy.objects.get(
                effective_from=datetime.fromisoformat(item["effective_from"]), status="published"
            )
            assert policy.notes == item["notes"]
            in_db = {c.code: [getattr(c, f) for f in fields] for c in policy.categories.all()}
            assert in_db == {c["code"]: [c[f] for f in fields] for c in item["categories"]}

    def test_history_starts_with_the_shipped_rows(self) -> None:
        policy = shipped(2025)
        # The shipped row, then the amendment that gave it the immediate-pickup list (0010),
        # then the confirmation of its notes (0016).
        reasons = list(
            policy.history.order_by("history_date").values_list("history_change_reason", flat=True)
        )
        assert len(reasons) == 3
        with translation.override("zh-hans"):
            assert "公告2023年第25号" in change_reason_text(reasons[1])
            assert "事实确认" in change_reason_text(reasons[2])
        # 47 shipped rows, and one for each category 0016 confirmed in this version.
        version = "2025-11-01T00:00:00+08:00"
        confirmed = {
            e["category"] for e in confirmations() if e["category"] and version in e["policies"]
        }
        assert Category.history.filter(policy_id=policy.pk).count() == 47 + len(confirmed) == 55
        assert ImmediatePickupKind.history.filter(policy_id=policy.pk).count() == 15


class TestShippedNotesCorrected:
    """quotas.0014 on a database that holds the notes as first shipped (a fresh database loads
    the corrected file in 0002 and has nothing to correct)."""

    migration = importlib.import_module("quotas.migrations.0014_shipped_notes_corrected")

    def _as_first_shipped(self, *policies: Policy) -> None:
        # The guard refuses any ORM write to a published policy's rows; this is the old data.
        with connection.cursor() as cursor:
            for code, note in self.migration.SHIPPED.items():
                cursor.execute(
                    "UPDATE quotas_category SET note = %s WHERE code = %s AND policy_id = ANY(%s)",
                    [note, code, [p.pk for p in policies]],
                )

    def _run(self) -> None:
        state = MigrationExecutor(connection).loader.project_state(
            ("quotas", "0014_shipped_notes_corrected")
        )
        self.migration.correct(state.apps, None)

    def test_both_versions_and_a_draft_get_the_notes_with_the_reason(self) -> None:
        draft = services.policy_clone(policy=shipped(2025))
        edited = services.policy_clone(policy=shipped(2025))
        self._as_first_shipped(shipped(2023), shipped(2025), draft, edited)
        Category.objects.filter(policy=edited, code="perfume").update(note="Our own wording.")

        self._run()

        for policy in (shipped(2023), shipped(2025), draft):
            notes = dict(policy.categories.values_list("code", "note"))
            assert notes["perfume"] == "On the 即购即提 list (2023 No. 25): 1 bottle per departure."
            assert "5 pieces per departure" in notes["cosmetics"]
            rows = Category.history.filter(
                policy_id=policy.pk, history_change_reason=self.migration.REASON
            )
            assert sorted(rows.values_list("code", "history_type", "note")) == sorted(
                (code, "~", notes[code]) for code in ("cosmetics", "perfume")
            )
        assert edited.categories.get(code="perfume").note == "Our own wording."
        assert "5 pieces per departure" in edited.categories.get(code="cosmetics").note
        with translation.override("zh-hans"):
            assert "公告2023年第25号" in change_reason_text(self.migration.REASON)
        with translation.override("en"):
            assert "announcement 2023 No. 25" in change_reason_text(self.migration.REASON)

    def test_a_second_run_changes_nothing(self) -> None:
        self._as_first_shipped(shipped(2025))
        self._run()
        count = Category.history.count()
        self._run()
        assert Category.history.count() == count


class TestFactsConfirmed:
    """quotas.0016 on a database that holds the values as first shipped (as before it ran): each
    confirmation of quotas/data/confirmations.json applied, with its history row."""

    migration = importlib.import_module("quotas.migrations.0016_facts_confirmed")
    newest = "2025-11-01T00:00:00+08:00"
    # The rows and their history (a draft's clone rows were written with what it copied).
    updates = {
        "notes": [
            "UPDATE quotas_policy SET notes = %s WHERE id = %s",
            "UPDATE quotas_historicalpolicy SET notes = %s WHERE id = %s",
        ],
        "verified": [
            "UPDATE quotas_category SET verified = %s WHERE policy_id = %s AND code = %s",
            "UPDATE quotas_historicalcategory SET verified = %s WHERE policy_id = %s AND code = %s",
        ],
        "note": [
            "UPDATE quotas_category SET note = %s WHERE policy_id = %s AND code = %s",
            "UPDATE quotas_historicalcategory SET note = %s WHERE policy_id = %s AND code = %s",
        ],
    }

    def _as_first_shipped(self, *policies: Policy) -> None:
        """The data before quotas.0016 ran (a test database has run it). The guard refuses any
        ORM write to a published policy's rows; a draft (a clone of the policy in force) holds
        the newest version's values."""
        reason = self.migration.REASON
        Policy.history.filter(
            id__in=[p.pk for p in policies], history_change_reason=reason
        ).delete()
        Category.history.filter(
            policy_id__in=[p.pk for p in policies], history_change_reason=reason
        ).delete()
        with connection.cursor() as cursor:
            for policy in policies:
                version = (
                    policy.effective_from.astimezone(LOCAL_TZ).isoformat()
                    if policy.status == "published"
                    else self.newest
                )
                for entry in confirmations():
                    if version not in entry["policies"]:
                        continue
                    for field, change in entry["change"].items():
                        where = (
                            [policy.pk]
                            if entry["category"] is None
                            else [policy.pk, entry["category"]]
                        )
                        for update in self.updates[field]:
                            cursor.execute(update, [change["from"], *where])

    def _run(self) -> None:
        state = MigrationExecutor(connection).loader.project_state(
            ("quotas", "0016_facts_confirmed")
        )
        self.migration.confirm(state.apps, None)

    def _expected(self) -> dict[str, dict]:
        return {item["effective_from"]: item for item in confirmed_policies()}

    def test_each_confirmation_is_applied_with_its_history_row(self) -> None:
        draft = services.policy_clone(policy=shipped(2025))
        self._as_first_shipped(shipped(2023), shipped(2025), draft)
        assert shipped(2025).categories.get(code="ginseng_products").verified == "name"

        self._run()

        expected = self._expected()
        for policy, item in (
            (shipped(2023), expected["2023-04-01T00:00:00+08:00"]),
            (shipped(2025), expected[self.newest]),
            (draft, expected[self.newest]),
        ):
            policy.refresh_from_db()
            assert policy.notes == item["notes"]
            assert (
                policy.history.filter(
                    history_change_reason=self.migration.REASON, notes=item["notes"]
                ).count()
                == 1
            )
            rows = {c["code"]: c for c in item["categories"]}
            codes = {
                e["category"]
                for e in confirmations()
                if e["category"] in rows and item["effective_from"] in e["policies"]
            }
            assert codes
            for category in policy.categories.filter(code__in=codes):
                assert (category.verified, category.note) == (
                    rows[category.code]["verified"],
                    rows[category.code]["note"],
                )
            history = Category.history.filter(
                policy_id=policy.pk, history_change_reason=self.migration.REASON
            )
            assert sorted(
                history.values_list("code", "history_type", "verified", "note")
            ) == sorted((code, "~", rows[code]["verified"], rows[code]["note"]) for code in codes)
        ginseng = shipped(2023).categories.get(code="ginseng_products")
        assert ginseng.verified == "name_and_number"
        assert "Serial 24 confirmed" in ginseng.note
        assert "not rail" in shipped(2025).notes
        assert "2021 No. 13" in shipped(2023).notes
        with translation.override("zh-hans"):
            assert change_reason_text(self.migration.REASON) == (
                "经数据发布后查阅的事实确认；来源见 quotas/data/confirmations.json"
                "（迁移 quotas.0016）"
            )
        with translation.override("en"):
            assert change_reason_text(self.migration.REASON) == (
                "confirmed by facts read since the data was shipped; the sources are in "
                "quotas/data/confirmations.json (migration quotas.0016)"
            )

    def test_a_draft_keeps_what_an_administrator_wrote(self) -> None:
        edited = services.policy_clone(policy=shipped(2025))
        self._as_first_shipped(edited)
        Category.objects.filter(policy=edited, code="pet_supplies").update(note="Our own wording.")
        Category.objects.filter(policy=edited, code="health_foods").update(verified="no")
        Policy.objects.filter(pk=edited.pk).update(notes="Reviewed against the annex.")

        self._run()

        edited.refresh_from_db()
        assert edited.notes == "Reviewed against the annex."
        assert not edited.history.filter(history_change_reason=self.migration.REASON).exists()
        pets = edited.categories.get(code="pet_supplies")
        assert pets.note == "Our own wording."
        assert not Category.history.filter(
            id=pets.pk, history_change_reason=self.migration.REASON
        ).exists()
        health = edited.categories.get(code="health_foods")
        # The verification the administrator set is kept; the note still read as shipped.
        assert health.verified == "no"
        assert "Serial 26 confirmed" in health.note
        assert edited.categories.get(code="cereal_foods").verified == "name_and_number"

    def test_a_second_run_changes_nothing(self) -> None:
        self._as_first_shipped(shipped(2025))
        self._run()
        count = Category.history.count() + Policy.history.count()
        self._run()
        assert Category.history.count() + Policy.history.count() == count

    def test_reversing_puts_back_the_shipped_values(self) -> None:
        draft = services.policy_clone(policy=shipped(2025))
        self._as_first_shipped(draft)
        self._run()
        Category.objects.filter(policy=draft, code="cereal_foods").update(note="Rewritten.")
        state = MigrationExecutor(connection).loader.project_state(
            ("quotas", "0016_facts_confirmed")
        )

        self.migration.restore(state.apps, None)

        as_shipped = {
            item["effective_from"]: item
            for item in json.loads(DATA.read_text(encoding="utf-8"))["policies"]
        }["2025-11-01T00:00:00+08:00"]
        rows = {c["code"]: c for c in as_shipped["categories"]}
        draft.refresh_from_db()
        assert draft.notes == as_shipped["notes"]
        ginseng = draft.categories.get(code="ginseng_products")
        assert (ginseng.verified, ginseng.note) == (
            rows["ginseng_products"]["verified"],
            rows["ginseng_products"]["note"],
        )
        cereal = draft.categories.get(code="cereal_foods")
        # An edit made since is kept; the verification it did not touch goes back.
        assert (cereal.verified, cereal.note) == ("name", "Rewritten.")
        assert not Category.history.filter(history_change_reason=self.migration.REASON).exists()
        assert not Policy.history.filter(history_change_reason=self.migration.REASON).exists()


class TestPolicyInForce:
    def test_switch_at_midnight_of_2025_11_01_shanghai(self) -> None:
        assert policy_in_force(at=local(2025, 10, 31, 23, 59, 59)).min_age == 16
        assert policy_in_force(at=local(2025, 11, 1, 0, 0)).min_age == 18

    def test_nothing_before_the_first_version(self) -> None:
        with pytest.raises(NoPolicyInForce):
            policy_in_force(at=local(2023, 3, 31, 23, 59, 59))

    def test_drafts_and_withdrawn_versions_are_never_in_force(self) -> None:
        draft = services.policy_clone(policy=shipped(2025))
        draft.effective_from = local(2026, 1, 1)
        draft.save()
        assert policy_in_force(at=local(2026, 6, 1)).pk == shipped(2025).pk

    def test_a_scheduled_version_takes_over_at_its_instant(self) -> None:
        now = local(2026, 5, 1, 9, 0)
        draft = services.policy_clone(policy=shipped(2025))
        services.policy_publish(policy=draft, effective_from=local(2026, 7, 1), now=now)
        assert policy_in_force(at=local(2026, 6, 30, 23, 59, 59)).pk == shipped(2025).pk
        assert policy_in_force(at=local(2026, 7, 1)).pk == draft.pk

    def test_one_basket_judged_either_side_of_the_switch(self) -> None:
        from datetime import date

        from quotas.rules import BasketLine, ProductFacts, TripFacts

        pet_bed = ProductFacts("PET-BED", "pet_supplies", Decimal("499.00"))
        seventeen = ShopperFacts(birth_date=date(2008, 6, 1))
        trip = TripFacts(kind="domestic", mode="air", departs_at=local(2025, 11, 2, 9))
        verdicts = {}
        for at in (local(2025, 10, 31, 23, 59, 59), local(2025, 11, 1, 0, 0)):
            policy = policy_rules(policy=policy_in_force(at=at))
            verdict = judge_basket(
                policy=policy,
                shopper=seventeen,
                trip=trip,
                pickup="departure",
                lines=[BasketLine("PET-BED", 1, pet_bed)],
                usage=Usage(),
                at=at,
            )
            verdicts[at.day] = [v.code for v in verdict.violations]
        assert verdicts == {31: ["not_duty_free_category"], 1: ["underage"]}


class TestImmutability:
    def test_a_published_policy_cannot_be_saved_changed(self) -> None:
        policy = shipped(2025)
        policy.annual_limit = Decimal("1.00")
        with pytest.raises(PolicyImmutable):
            policy.save()
        assert shipped(2025).annual_limit == Decimal("100000.00")

    def test_nor_deleted(self) -> None:
        with pytest.raises(PolicyImmutable):
            shipped(2025).delete()
        with pytest.raises(PolicyImmutable):
            Policy.objects.all().delete()
        assert Policy.objects.count() == 2

    def test_nor_bulk_updated(self) -> None:
        with pytest.raises(PolicyImmutable):
            Policy.objects.filter(pk=shipped(2025).pk).update(min_age=1)
        assert shipped(2025).min_age == 18

    def test_its_categories_cannot_change(self) -> None:
        category = shipped(2025).categories.get(code="cosmetics")
        category.per_trip_limit_value = 300
        with pytest.raises(PolicyImmutable):
            category.save()
        with pytest.raises(PolicyImmutable):
            category.delete()
        with pytest.raises(PolicyImmutable):
            Category.objects.filter(code="cosmetics").update(per_trip_limit_value=1)
        with pytest.raises(PolicyImmutable):
            Category.objects.filter(code="cosmetics").delete()
        with pytest.raises(PolicyImmutable):
            Category.objects.create(
                policy=shipped(2025), number=48, code="x", name_zh="x", name_en="x"
            )
        with pytest.raises(PolicyImmutable):
            Category.objects.bulk_create(
                [Category(policy=shipped(2025), number=48, code="x", name_zh="x", name_en="x")]
            )
        assert shipped(2025).categories.get(code="cosmetics").per_trip_limit_value == 30
        assert shipped(2025).categories.count() == 47

    def test_a_draft_category_cannot_be_moved_into_a_published_policy(self) -> None:
        draft = services.policy_clone(policy=shipped(2025))
        category = draft.categories.get(code="tea")
        category.policy = shipped(2023)
        with pytest.raises(PolicyImmutable):
            category.save()

    def test_drafts_are_freely_edited_and_deleted(self) -> None:
        draft = services.policy_clone(policy=shipped(2025))
        draft.min_age = 20
        draft.save()
        Category.objects.filter(policy=draft, code="tea").update(name_en="Tea leaves")
        assert draft.categories.get(code="tea").name_en == "Tea leaves"
        draft.delete()
        assert not Category.objects.filter(policy_id=draft.pk).exists()


class TestLifeCycle:
    def test_clone_copies_rules_and_categories(self) -> None:
        source = shipped(2025)
        user = get_user_model().objects.create_user("editor")
        draft = services.policy_clone(policy=source, user=user)
        assert (draft.status, draft.effective_from, draft.cloned_from_id) == (
            "draft",
            None,
            source.pk,
        )
        fields = (
            "number",
            "code",
            "name_zh",
            "name_en",
            "per_trip_limit_unit",
            "per_trip_limit_value",
            "verified",
            "note",
        )
        assert list(draft.categories.order_by("number").values_list(*fields)) == list(
            source.categories.order_by("number").values_list(*fields)
        )
        assert [c.immediate_pickup for c in draft.categories.order_by("number")] == [
            c.immediate_pickup for c in source.categories.order_by("number")
        ]
        assert draft.immediate_kinds.count() == 15
        assert draft.history.first().history_user == user
        assert Category.history.filter(policy_id=draft.pk, history_user=user).count() == 47

    def test_publish_now_or_later_never_in_the_past(self) -> None:
        now = local(2026, 5, 1, 9, 0)
        draft = services.policy_clone(policy=shipped(2025))
        with pytest.raises(PolicyNotPublishable, match="past"):
            services.policy_publish(
                policy=draft, effective_from=now - timedelta(seconds=1), now=now
            )
        draft.refresh_from_db()
        assert draft.status == "draft"
        published = services.policy_publish(policy=draft, effective_from=now, now=now)
        assert (published.status, published.effective_from, published.published_at) == (
            "published",
            now,
            now,
        )
        reason = json.loads(published.history.first().history_change_reason)
        assert reason["code"] == "published"

    def test_publish_refuses_an_instant_taken_by_another_version(self) -> None:
        now = local(2026, 5, 1, 9, 0)
        first = services.policy_clone(policy=shipped(2025))
        services.policy_publish(policy=first, effective_from=local(2026, 7, 1), now=now)
        second = services.policy_clone(policy=shipped(2025))
        with pytest.raises(PolicyNotPublishable, match="that instant"):
            services.policy_publish(policy=second, effective_from=local(2026, 7, 1), now=now)

    def test_publish_refuses_an_empty_or_broken_draft(self) -> None:
        now = local(2026, 5, 1, 9, 0)
        draft = services.policy_clone(policy=shipped(2025))
        draft.categories.all().delete()
        with pytest.raises(PolicyNotPublishable, match="without categories"):
            services.policy_publish(policy=draft, effective_from=now, now=now)
        broken = services.policy_clone(policy=shipped(2025))
        broken.pickup_modes = ["teleport"]
        broken.save()
        from django.core.exceptions import ValidationError

        with pytest.raises(ValidationError):
            services.policy_publish(policy=broken, effective_from=now, now=now)
        broken.refresh_from_db()
        assert broken.status == "draft"

    def test_publish_is_once(self) -> None:
        now = local(2026, 5, 1, 9, 0)
        draft = services.policy_clone(policy=shipped(2025))
        services.policy_publish(policy=draft, effective_from=local(2026, 8, 1), now=now)
        with pytest.raises(PolicyNotPublishable, match="not a draft"):
            services.policy_publish(policy=draft, effective_from=local(2026, 9, 1), now=now)

    def test_withdraw_only_before_taking_effect(self) -> None:
        now = local(2026, 5, 1, 9, 0)
        draft = services.policy_clone(policy=shipped(2025))
        scheduled = services.policy_publish(policy=draft, effective_from=local(2026, 7, 1), now=now)
        with pytest.raises(PolicyNotWithdrawable, match="taken effect"):
            services.policy_withdraw(policy=shipped(2025), now=now)
        withdrawn = services.policy_withdraw(policy=scheduled, now=now)
        assert withdrawn.status == "withdrawn"
        assert policy_in_force(at=local(2026, 7, 2)).pk == shipped(2025).pk
        withdrawn.name_en = "changed"
        with pytest.raises(PolicyImmutable):
            withdrawn.save()
        with pytest.raises(PolicyImmutable):
            withdrawn.delete()

    def test_replace_categories_keeps_unchanged_rows_and_their_history(self) -> None:
        draft = services.policy_clone(policy=shipped(2025))
        rows = [
            {
                k: getattr(c, k)
                for k in (
                    "number",
                    "code",
                    "name_zh",
                    "name_en",
                    "per_trip_limit_unit",
                    "per_trip_limit_value",
                    "verified",
                    "added",
                    "note",
                )
            }
            for c in draft.categories.order_by("number")
        ]
        tea_pk = draft.categories.get(code="tea").pk
        # swap the numbers of two categories and rename a third
        rows[0]["number"], rows[1]["number"] = rows[1]["number"], rows[0]["number"]
        rows[2]["name_en"] = "Watches and clocks"
        assert services.policy_categories_replace(policy=draft, rows=rows) == 47
        assert draft.categories.get(code="jewellery").number == 2
        assert draft.categories.get(code="handicrafts").number == 1
        assert draft.categories.get(code="watches").name_en == "Watches and clocks"
        assert draft.categories.get(code="tea").pk == tea_pk

    def test_replace_categories_refuses_a_published_policy(self) -> None:
        with pytest.raises(PolicyImmutable):
            services.policy_categories_replace(policy=shipped(2025), rows=[])
        assert shipped(2025).categories.count() == 47
