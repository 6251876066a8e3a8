"""Pages and their assets as deployed: ``collectstatic`` into an empty STATIC_ROOT, DEBUG off,
the project's own storage (WhiteNoise's compressed manifest storage) and middleware.

Every ``<script src>``, ``<link href>`` and ``<img src>`` of the home page, the dashboard (a
signed-in staff member), ``/quota/``, the admin's sign-in page and ``/api/docs/`` (Swagger UI,
split view) is fetched, and every ``url()`` of every stylesheet they load: each answers 200
with its content type; static files carry hashed names with a cache lifetime of a year or more
(immutable), and come gzip- or brotli-compressed when the browser accepts it, decompressing to
the same bytes. ``/favicon.ico`` is a file served at the root (``WHITENOISE_ROOT``).
Nothing is loaded from outside the box, and every asset comes from an origin the page's
Content-Security-Policy allows ('self').

The rest of the suite serves source files (tests/conftest.py): the manifest storage needs
``collectstatic`` first, which is what the deployment steps in the README run.
"""

from __future__ import annotations

import gzip
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import brotli
import pytest
from django.contrib.auth import get_user_model
from django.contrib.staticfiles.storage import staticfiles_storage
from django.test import Client
from whitenoise.storage import CompressedManifestStaticFilesStorage

from dutyfree import settings as project_settings
from dutyfree.static_storage import StaticFilesStorage
from tests import background

PAGES = ("/", "/dashboard/", "/quota/", "/admin/login/", "/admin/", "/api/docs/")
HASHED = re.compile(r"\.[0-9a-f]{12}\.[A-Za-z0-9]+$")
CONTENT_TYPES = {
    ".css": ("text/css",),
    ".js": ("text/javascript", "application/javascript"),
    ".png": ("image/png",),
    ".svg": ("image/svg+xml",),
    ".ico": ("image/x-icon", "image/vnd.microsoft.icon"),
    ".woff2": ("font/woff2",),
    ".woff": ("font/woff",),
}
YEAR = 365 * 24 * 3600


class _Assets(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, str, str]] = []  # (tag, rel, url)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag in ("script", "img") and values.get("src"):
            self.found.append((tag, "", values["src"]))
        elif tag == "link" and values.get("href"):
            self.found.append((tag, values.get("rel", ""), values["href"]))


def _assets(html: str) -> list[tuple[str, str, str]]:
    parser = _Assets()
    parser.feed(html)
    return parser.found


def _body(response: object) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)  # type: ignore[attr-defined]
    return response.content  # type: ignore[attr-defined]


def _max_age(cache_control: str) -> int:
    match = re.search(r"max-age=(\d+)", cache_control)
    return int(match.group(1)) if match else 0


def _css_urls(css: str) -> list[str]:
    found = []
    for raw in re.findall(r"url\(\s*([^)]*?)\s*\)", css):
        url = raw.strip("'\"")
        if url and not url.startswith(("data:", "#")):
            found.append(url)
    return found


@pytest.fixture(scope="module")
def collected() -> Path:
    """collectstatic with the project's production storage into a fresh STATIC_ROOT, as the
    deployment runs it: a command of its own, started beside the suite (tests/background.py),
    since compressing every file takes a while."""
    result = background.result("collectstatic")
    assert result.returncode == 0, result.stdout + result.stderr
    assert (background.STATIC_ROOT / "staticfiles.json").is_file()
    return background.STATIC_ROOT


@pytest.fixture
def deployed(settings, collected: Path) -> Path:
    settings.STATIC_ROOT = collected
    settings.STORAGES = project_settings.STORAGES
    settings.DEBUG = False
    settings.WHITENOISE_USE_FINDERS = False  # as deployed: STATIC_ROOT only
    settings.WHITENOISE_AUTOREFRESH = False
    return collected


@pytest.fixture
def staff_client(deployed: Path) -> Client:
    # A client made after collectstatic: WhiteNoise indexes STATIC_ROOT when it starts.
    client = Client()
    staff = get_user_model().objects.create_user("ops-staff", password="x", is_staff=True)
    client.force_login(staff)
    return client


def test_the_production_storage_is_whitenoise_compressed_manifest() -> None:
    assert project_settings.STORAGES["staticfiles"]["BACKEND"] == (
        "dutyfree.static_storage.StaticFilesStorage"
    )
    assert issubclass(StaticFilesStorage, CompressedManifestStaticFilesStorage)
    assert StaticFilesStorage.support_js_module_import_aggregation is True
    middleware = project_settings.MIDDLEWARE
    # Right after SecurityMiddleware: static answers skip sessions, CSRF and the rest, and
    # still carry nosniff (and HSTS under TLS).
    assert middleware.index("whitenoise.middleware.WhiteNoiseMiddleware") == (
        middleware.index("django.middleware.security.SecurityMiddleware") + 1
    )


@pytest.mark.django_db
def test_pages_and_every_asset_they_reference_are_served(staff_client: Client) -> None:
    anonymous = Client()
    fetched: dict[str, str] = {}
    for page in PAGES:
        client = staff_client if page in ("/dashboard/", "/admin/") else anonymous
        response = client.get(page, HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 200, page
        csp = response.headers["Content-Security-Policy"]
        assets = _assets(response.content.decode())
        # The pages that run scripts must reference them (the sign-in page and /quota/'s
        # form work without one of their own at first sight).
        if page in ("/dashboard/", "/admin/", "/api/docs/"):
            assert any(tag == "script" for tag, _, _ in assets), page
        assert any(rel == "stylesheet" for _, rel, _ in assets), page
        for tag, rel, url in assets:
            if url.startswith("data:"):
                continue
            parts = urlsplit(url)
            assert not parts.scheme, f"{page}: {url} is off the box"
            assert not parts.netloc, f"{page}: {url} is off the box"
            directive = "script-src" if tag == "script" else "img-src"
            if rel == "stylesheet":
                directive = "style-src"
            assert re.search(rf"{directive} [^;]*'self'", csp), (page, directive, csp)
            path = urljoin(page, url)
            asset = client.get(path)
            assert asset.status_code == 200, f"{page}: {tag} {url} → {asset.status_code}"
            body = _body(asset)
            assert body, url
            fetched[path] = page
            kind = asset.headers["Content-Type"].split(";")[0]
            suffix = Path(parts.path).suffix
            if tag == "script":
                assert kind in CONTENT_TYPES[".js"], (url, kind)
            elif rel == "stylesheet":
                assert kind == "text/css", (url, kind)
            elif tag == "img" or "icon" in rel:
                assert kind.startswith("image/"), (url, kind)
            if suffix in CONTENT_TYPES:
                assert kind in CONTENT_TYPES[suffix], (url, kind)
            if not parts.path.startswith("/static/"):
                continue  # a view (Swagger UI's start-up script, the CAPTCHA image)
            _check_static(client, parts.path, body)
            if rel == "stylesheet":
                for inner in _css_urls(body.decode()):
                    inner_path = urlsplit(urljoin(parts.path, inner)).path
                    found = client.get(inner_path)
                    assert found.status_code == 200, f"{url}: url({inner}) → {inner_path}"
                    _check_static(client, inner_path, _body(found))
                    fetched[inner_path] = url
    static = [path for path in fetched if path.startswith("/static/")]
    # The site's stylesheet, the dashboard's script and ECharts, Swagger UI, the admin's CSS.
    for expected in (
        "/static/shops/site.",
        "/static/shops/dashboard.",
        "/static/shops/vendor/echarts/echarts.min.",
        "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.",
        "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui.",
        "/static/admin/css/base.",
        "/static/shops/favicon.",
    ):
        assert any(path.startswith(expected) for path in static), (expected, sorted(fetched))
    assert "/favicon.ico" in fetched  # linked by every page, served from WHITENOISE_ROOT


@pytest.mark.django_db
def test_the_tills_modules_import_one_another_by_hashed_names(deployed: Path) -> None:
    """The page names main.js by its hash; every module it imports, and they import, is named
    by its hash too (one release's files together), served as JavaScript."""
    client = Client()
    seen: set[str] = set()
    todo = [staticfiles_storage.url("shops/till/main.js")]
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        assert HASHED.search(path), path
        answer = client.get(path)
        assert answer.status_code == 200, path
        assert answer.headers["Content-Type"].split(";")[0] in CONTENT_TYPES[".js"], path
        for imported in re.findall(r'^import .* from "([^"]+)";$', _body(answer).decode(), re.M):
            todo.append(urljoin(path, imported))
    names = {Path(path).name.split(".")[0] for path in seen}
    assert names == {"main", "after", "api", "receipt", "sale", "util", "qrcode"}


@pytest.mark.django_db
def test_favicon_ico_answers_at_the_root(deployed: Path) -> None:
    """Browsers ask for /favicon.ico whatever a page links: a file, not a 404."""
    response = Client().get("/favicon.ico")

    assert response.status_code == 200
    assert response.headers["Content-Type"] in CONTENT_TYPES[".ico"]
    assert _body(response)[:4] == b"\x00\x00\x01\x00"  # an ICO file's header
    assert _max_age(response.headers["Cache-Control"]) > 0


def _check_static(client: Client, path: str, body: bytes) -> None:
    """A hashed name cached for a year or more; compressed variants when accepted."""
    assert HASHED.search(path), f"{path}: not a hashed name"
    plain = client.get(path, HTTP_ACCEPT_ENCODING="identity")
    cache_control = plain.headers.get("Cache-Control", "")
    assert _max_age(cache_control) >= YEAR, (path, cache_control)
    assert "immutable" in cache_control, (path, cache_control)
    assert "Content-Encoding" not in plain.headers, path
    if Path(path).suffix not in (".css", ".js", ".svg"):
        return  # images and fonts are compressed already
    for encoding, decompress in (("gzip", gzip.decompress), ("br", brotli.decompress)):
        packed = client.get(path, HTTP_ACCEPT_ENCODING=encoding)
        assert packed.status_code == 200, (path, encoding)
        assert packed.headers.get("Content-Encoding") == encoding, (path, encoding)
        assert "Accept-Encoding" in packed.headers.get("Vary", ""), path
        data = _body(packed)
        assert len(data) < len(body), (path, encoding)
        assert decompress(data) == body, (path, encoding)


@pytest.mark.django_db
def test_an_unknown_static_file_is_404_not_a_page(deployed: Path) -> None:
    response = Client().get("/static/shops/nothing-here.css")
    assert response.status_code == 404
