"""Browser tests: Debian's Chromium driven by Playwright against pytest-django's ``live_server``.

Playwright's own browser download is not used (and must never be run here): the fixtures launch
the system Chromium (``/usr/bin/chromium``, or ``$CHROMIUM``). Without it the tests skip, or
fail under ``REQUIRE_SERVICES=1`` (CI installs it with apt-get in ``.ci/run``).

``live_server`` listens on loopback only and makes the test transactional (pytest-django asks for
``transactional_db``): the server thread has its own database connection, so data a test seeds
must be committed to be seen. Tests that seed data say so with
``@pytest.mark.django_db(transaction=True)``.

Every transactional test ends by flushing all tables. Unless it has ``serialized_rollback``, that
flush re-creates content types and permissions under new ids, and the next
``serialized_rollback`` test (tests/shops/pos/test_concurrency.py) then fails to restore the
migrations' rows with an IntegrityError. So ``pytest_collection_modifyitems`` below gives every
test here that uses ``live_server`` ``transaction=True, serialized_rollback=True``: each starts
with the rows shipped by data migrations (policies, licensed stores) and leaves the database as
the other transactional tests expect.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import need_service

# Playwright's sync API keeps an asyncio event loop *running* in the main thread from
# ``sync_playwright().start()`` until ``stop()`` -- i.e. for the rest of the session once the
# session-scoped ``browser`` fixture exists, including during later, non-browser tests. Django
# sees that running loop and raises SynchronousOnlyOperation on any ORM call from this thread
# (seeding data in a test, fixture teardown flushing the database). The loop only belongs to
# Playwright and never runs Django code, so the check is a false alarm here: turn it off for the
# test process. Django reads the variable on every call; setting it at import time puts it in
# place before any fixture or test touches the database. (The same running loop also changes
# which database connections the thread sees: see ``browser``.)
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

DEFAULT_CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-dev-shm-usage"]
# A phone: shoppers and sales staff use the pages on one.
PHONE_VIEWPORT = {"width": 390, "height": 844}
DEFAULT_TIMEOUT_MS = 10_000

NewPage = Callable[..., Any]  # (*, locale=..., viewport=..., **context_options) -> Page


# The positional parameters of the django_db marker, in order.
_DJANGO_DB_ARGS = (
    "transaction",
    "reset_sequences",
    "databases",
    "serialized_rollback",
    "available_apps",
)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests get ``django_db(transaction=True, serialized_rollback=True)`` (see above).

    A conftest hook sees the whole session's items: only those under this directory change. The
    test's own ``django_db`` arguments (``databases``, ...) are kept.
    """
    here = Path(__file__).parent
    for item in items:
        if here not in item.path.parents or "live_server" not in getattr(item, "fixturenames", ()):
            continue
        marker = item.get_closest_marker("django_db")
        options: dict[str, Any] = {}
        if marker:
            options.update(zip(_DJANGO_DB_ARGS, marker.args, strict=False), **marker.kwargs)
        options.update(transaction=True, serialized_rollback=True)
        # Prepended, so it is the closest django_db marker pytest-django reads.
        item.add_marker(pytest.mark.django_db(**options), append=False)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """The Chromium executable (``$CHROMIUM`` overrides ``/usr/bin/chromium``)."""
    path = os.environ.get("CHROMIUM") or DEFAULT_CHROMIUM
    need_service(
        "Chromium",
        Path(path).is_file() and os.access(path, os.X_OK),
        f"no executable at {path}; apt-get install chromium (or set CHROMIUM)",
    )
    return path


@pytest.fixture(scope="session")
def browser(chromium_path: str) -> Iterator[Any]:
    """One headless Chromium for the whole session (a ``playwright.sync_api.Browser``)."""
    from django.db import connections
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    # Django keeps database connections in an asgiref ``Local(thread_critical=True)``: a plain
    # thread-local while no event loop runs in the thread, but a separate, context-variable
    # store while one does. Once Playwright's loop runs, this thread would get new connection
    # objects: a second connection to the test database, without the snapshot pytest-django took
    # for ``serialized_rollback`` -- later tests then silently start with empty tables
    # (tests/shops/pos/test_concurrency.py failed so after a browser test in a full run). Hand the
    # existing objects over to the loop-time store so the thread keeps using the same ones.
    before = {alias: connections[alias] for alias in connections}
    playwright = sync_playwright().start()
    for alias, connection in before.items():
        connections[alias] = connection
    try:
        try:
            chromium = playwright.chromium.launch(
                executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS
            )
        except PlaywrightError as exc:
            need_service("Chromium", False, f"{chromium_path} did not start: {exc.message}")
        yield chromium
        chromium.close()
    finally:
        playwright.stop()


@pytest.fixture
def new_page(browser: Any) -> Iterator[NewPage]:
    """Factory: ``new_page(locale="zh-CN", viewport={"width": 390, "height": 844}, **options)``.

    Each call opens a fresh browser context (own cookies and storage) with the given locale
    (sent as Accept-Language) and viewport; extra keyword arguments go to
    ``Browser.new_context``. Every context is closed when the test ends.
    """
    contexts: list[Any] = []

    def make(
        *,
        locale: str = "zh-CN",
        viewport: dict[str, int] | None = None,
        **context_options: Any,
    ) -> Any:
        context_options.setdefault("timezone_id", "Asia/Shanghai")
        context = browser.new_context(
            locale=locale, viewport=viewport or PHONE_VIEWPORT, **context_options
        )
        contexts.append(context)
        context.set_default_timeout(DEFAULT_TIMEOUT_MS)
        context.set_default_navigation_timeout(DEFAULT_TIMEOUT_MS)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page: NewPage) -> Any:
    """A page in a fresh zh-CN, phone-sized context (a ``playwright.sync_api.Page``)."""
    return new_page()
