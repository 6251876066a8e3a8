"""A store's short names: the licensed twelve ship with short names each distinct in its
language, a blank short name is the full name, and the database keeps two stores from sharing
one."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest
from django.apps import apps
from django.db import IntegrityError, transaction

from shops.models import Store

pytestmark = pytest.mark.django_db

SHIPPED = Path(__file__).resolve().parents[2] / "shops" / "data" / "stores.json"
migration = importlib.import_module("shops.migrations.0014_store_short_names")


class TestShippedStores:
    def test_every_licensed_store_has_a_short_name_in_each_language(self) -> None:
        codes = {item["code"] for item in json.loads(SHIPPED.read_text("utf-8"))["stores"]}
        stores = Store.objects.filter(code__in=codes)

        assert stores.count() == len(codes) == 12
        for store in stores:
            for short, full in (
                (store.short_name_zh, store.name_zh),
                (store.short_name_en, store.name_en),
            ):
                assert short, store.code
                assert len(short) <= 20, short
                assert len(short) <= len(full), (short, full)

    @pytest.mark.parametrize("field", ["short_name_zh", "short_name_en"])
    def test_the_short_names_are_distinct_in_each_language(self, field: str) -> None:
        names = list(Store.objects.values_list(field, flat=True))

        assert len(set(names)) == len(names), names

    def test_the_english_short_names_tell_the_sanya_stores_apart(self) -> None:
        """The full names cut to 30 characters read alike; the short names do not."""
        stores = {s.code: s for s in Store.objects.filter(code__in=("SYA-HTB", "SYA-CNSC"))}

        assert stores["SYA-HTB"].names("en") == (
            "cdf Sanya International Duty Free City (Haitang Bay)",
            "cdf Sanya Intl.",
        )
        assert stores["SYA-CNSC"].names("en")[1] == "CNSC Sanya"
        assert stores["SYA-CNSC"].names("zh-hans")[1] == "中服三亚免税购物公园"

    def test_the_migration_keeps_a_short_name_already_given(self) -> None:
        Store.objects.filter(code="HAK-T1").update(short_name_en="T1", short_name_zh="")

        migration.fill(apps, None)

        store = Store.objects.get(code="HAK-T1")
        assert (store.short_name_zh, store.short_name_en) == ("美兰机场T1免税店", "T1")


class TestConstraint:
    def test_two_stores_cannot_share_a_short_name(self) -> None:
        with pytest.raises(IntegrityError), transaction.atomic():
            Store.objects.create(
                code="HAK-NEW", name_zh="新店", name_en="New", city="Haikou",
                short_name_en="cdf Sanya Intl.",
            )  # fmt: skip

        assert not Store.objects.filter(code="HAK-NEW").exists()

    def test_many_stores_may_leave_it_blank(self) -> None:
        for code in ("HAK-NEW1", "HAK-NEW2"):
            Store.objects.create(code=code, name_zh=code, name_en=code, city="Haikou")

        assert Store.objects.filter(short_name_en="", short_name_zh="").count() == 2
