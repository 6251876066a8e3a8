"""The home page ``/`` (where the admin's "View site" lands), the links between the admin and
the dashboard, and the site's icon: in both languages, under the site's CSP."""

from __future__ import annotations

import re
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client

pytestmark = pytest.mark.django_db

LOCALE = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES"
DESTINATIONS = ["/quota/", "/pos/", "/dashboard/", "/admin/", "/api/docs/"]


@pytest.fixture
def staff_client(client: Client) -> Client:
    client.force_login(get_user_model().objects.create_superuser("desk", None, None))
    return client


def links(html: str) -> list[str]:
    return re.findall(r'<a [^>]*href="([^"]+)"', html)


class TestHomePage:
    def test_chinese_by_default_with_a_link_to_each_page(self, client: Client) -> None:
        response = client.get("/")

        assert response.status_code == 200
        html = response.content.decode()
        assert '<html lang="zh-hans">' in html
        for text in (
            "海南离岛免税",
            "我的免税额度",
            "收银界面",
            "销售看板",
            "管理后台",
            "API 文档",
            "需登录",
        ):
            assert text in html, text
        for english in ("My duty-free quota", "Administration", "For staff"):
            assert english not in html, english
        assert [url for url in links(html) if url in DESTINATIONS] == DESTINATIONS

    def test_english_by_accept_language(self, client: Client) -> None:
        html = client.get("/", headers={"accept-language": "en"}).content.decode()

        assert '<html lang="en">' in html
        for text in (
            "My duty-free quota",
            "Sales dashboard",
            "Administration",
            "API documentation",
        ):
            assert text in html, text
        assert "我的免税额度" not in html

    def test_english_by_the_sites_language_switch(self, client: Client) -> None:
        switched = client.post("/i18n/setlang/", {"language": "en", "next": "/"})

        assert switched.status_code == 302
        assert switched["Location"] == "/"
        assert "My duty-free quota" in client.get("/").content.decode()

    def test_csp_clean_no_inline_script_or_style(self, client: Client) -> None:
        response = client.get("/")

        html = response.content.decode()
        assert "script-src 'self'" in response["Content-Security-Policy"]
        assert "<script" not in html
        assert "<style" not in html
        assert " style=" not in html

    def test_only_get(self, client: Client) -> None:
        assert client.post("/").status_code == 405

    def test_every_string_is_in_the_catalogue(self) -> None:
        known = {entry.msgid for entry in polib.pofile(str(LOCALE / "django.po"))}
        root = Path(settings.BASE_DIR) / "templates"
        for name in (
            "shops/home.html",
            "admin/base_site.html",
            "shops/dashboard.html",
            "shops/till.html",
            "shops/till_sign_in.html",
        ):
            texts = re.findall(
                r"""{% translate (?:"([^"]+)"|'([^']+)') %}""", (root / name).read_text()
            )
            assert texts, name
            for text in (double or single for double, single in texts):
                assert text in known, text


class TestAdminAndDashboardLinks:
    def test_view_site_goes_home(self, staff_client: Client) -> None:
        html = staff_client.get("/admin/", headers={"accept-language": "en"}).content.decode()

        assert '<a href="/">View site</a>' in html

    @pytest.mark.parametrize("page", ["/admin/", "/admin/quotas/policy/"])
    def test_the_admins_header_links_the_dashboard(self, staff_client: Client, page: str) -> None:
        html = staff_client.get(page).content.decode()

        tools = html[html.index('<div id="user-tools">') :]
        tools = tools[: tools.index("</div>")]
        assert '<a href="/dashboard/">销售看板</a>' in tools

    def test_the_header_of_staff_without_permissions_links_the_dashboard(
        self, client: Client
    ) -> None:
        client.force_login(get_user_model().objects.create_user("clerk", is_staff=True))

        html = client.get("/admin/").content.decode()

        assert '<a href="/dashboard/">销售看板</a>' in html  # the dashboard is for all staff

    def test_the_dashboard_links_the_admin(self, staff_client: Client) -> None:
        html = staff_client.get("/dashboard/").content.decode()

        header = html[: html.index("</header>")]
        assert re.search(r'<a href="/admin/"[^>]*>管理后台</a>', header)
        assert '<a class="brand" href="/">' in header


class TestIcon:
    def test_favicon_ico_is_served(self, client: Client) -> None:
        response = client.get("/favicon.ico")

        assert response.status_code == 200
        assert response["Content-Type"] in {"image/x-icon", "image/vnd.microsoft.icon"}
        body = b"".join(response.streaming_content)  # type: ignore[attr-defined]
        assert body[:4] == b"\x00\x00\x01\x00"  # an ICO file's header

    @pytest.mark.parametrize("page", ["/", "/quota/", "/admin/login/", "/admin/", "/dashboard/"])
    def test_pages_link_the_icon(self, staff_client: Client, page: str) -> None:
        client = staff_client if page in ("/admin/", "/dashboard/") else Client()
        html = client.get(page).content.decode()

        assert '<link rel="icon" href="/favicon.ico"' in html
        assert re.search(r'<link rel="icon" href="/static/shops/favicon[^"]*\.svg"', html)
