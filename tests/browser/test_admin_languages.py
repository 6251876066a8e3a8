"""The admin in one language per page, as a browser shows it: in English no Chinese chrome
(the site's title, the sections, the models, a policy's status and name, its categories), in
Chinese none of the English names django-axes and knox give their sections and models, nor our
fields' bare names ("Sku", "Name zh").

``SHOTS_DIR=/some/folder`` keeps a screenshot of each page (desktop and phone) for a person to
look at."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from quotas import services
from quotas.models import Policy

CJK = re.compile(r"[\u4e00-\u9fff]")
DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}
LOCALES = {"en": "en-US", "zh-hans": "zh-CN"}
# What a Chinese page must not show: other apps' English names, our fields' bare names.
ENGLISH_NAMES = (
    "Access attempts",
    "Access failures",
    "Access logs",
    "Auth tokens",
    "Axes",
    "Knox",
    "Sku",
    "Name zh",
    "Name en",
    "Policy and quotas",
    "Stores and sales",
)


def _log_in(page: Any, live_server: Any) -> None:
    user = get_user_model().objects.create_superuser("lang_admin_yu", "yu@example.com", None)
    client = Client()
    client.force_login(user)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )


def _shot(page: Any, name: str) -> None:
    folder = os.environ.get("SHOTS_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def _chrome(page: Any) -> str:
    """What a page says in its own words: not the data shown (a policy's rows, their notes,
    the Chinese columns of a bilingual list) nor the language switch, which names each language
    in itself."""
    return page.evaluate(
        """() => {
            const copy = document.body.cloneNode(true);
            copy.querySelectorAll(
                'textarea, .field-notes, .inline-group tbody, #language-switch, '
                + '.field-name_zh, .field-unit_zh, #change-history td:first-child, '
                + '#category-history td:first-child, #kind-history td:first-child'
            ).forEach(node => node.remove());
            return copy.innerText;
        }"""
    )


@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_admin_pages_speak_one_language(
    live_server: Any, new_page: Any, language: str, viewport: dict[str, int]
) -> None:
    policy = Policy.objects.get(effective_from__year=2025, status="published")
    draft = services.policy_clone(policy=policy)
    page = new_page(locale=LOCALES[language], viewport=viewport)
    _log_in(page, live_server)
    device = "desktop" if viewport is DESKTOP else "phone"
    pages = {
        "index": "/admin/",
        "policies": "/admin/quotas/policy/",
        "policy": f"/admin/quotas/policy/{policy.pk}/change/",
        "draft": f"/admin/quotas/policy/{draft.pk}/change/",
        "history": f"/admin/quotas/policy/{draft.pk}/history/",
        "product": "/admin/shops/product/add/",
    }

    problems = []
    for name, path in pages.items():
        page.goto(f"{live_server.url}{path}")
        _shot(page, f"{name}-{language}-{device}")
        text = _chrome(page)
        if language == "en":
            chinese = sorted(set(CJK.findall(text)))
            if chinese:
                problems.append((name, "".join(chinese)))
        else:
            problems += [(name, english) for english in ENGLISH_NAMES if english in text]
    assert not problems
