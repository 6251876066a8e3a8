"""Shared test fixtures.

Services: with ``REQUIRE_SERVICES=1`` (CI) a test that needs PostgreSQL or Redis fails when the
service is missing instead of skipping.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from datetime import datetime
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings as django_settings
from hypothesis import settings

from tests import background

SHANGHAI = ZoneInfo("Asia/Shanghai")

# Shared, noisy machines: no per-example deadline. CI explores more examples.
settings.register_profile("default", deadline=None, max_examples=150)
settings.register_profile("ci", deadline=None, max_examples=400)
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "default")
)
REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"


def local(*args: int) -> datetime:
    """An aware instant in Asia/Shanghai: ``local(2025, 11, 1, 0, 0)``."""
    return datetime(*args, tzinfo=SHANGHAI)  # type: ignore[misc]


def database_url(settings_dict: dict) -> str:
    """A ``DATABASE_URL`` for a child process on the same database as this connection's
    settings (a server on a host and port, or the embedded one on its Unix socket)."""
    host = quote(settings_dict["HOST"] or "127.0.0.1", safe="")
    port = settings_dict["PORT"] or 5432
    return f"postgres://{settings_dict['USER']}@{host}:{port}/{settings_dict['NAME']}"


def need_service(name: str, available: bool, why: str = "") -> None:
    """Skip (or, under REQUIRE_SERVICES=1, fail) a test whose service is not there."""
    if available:
        return
    message = f"{name} is required for this test{': ' + why if why else ''}"
    if REQUIRE_SERVICES:
        pytest.fail(f"{message} (REQUIRE_SERVICES=1)")
    pytest.skip(message)


@pytest.fixture
def require_redis() -> None:
    need_service("Redis", bool(django_settings.REDIS_URL), "set REDIS_URL")


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    from django.core.cache import cache

    # A test that needs the cache checks it itself; a missing Redis must not break the others.
    with contextlib.suppress(Exception):
        cache.clear()


@pytest.fixture(autouse=True)
def _fresh_policy_cache() -> None:
    """Tests publish policies in transactions that roll back: never keep them cached."""
    from quotas.selectors import policy_cache_clear

    policy_cache_clear()


@pytest.fixture(autouse=True, scope="session")
def _static_files_from_the_apps() -> Iterator[None]:
    """Static files as the apps hold them, served as `make run` serves them (WhiteNoise from
    the apps' folders): the production storage (hashed names from collectstatic's manifest)
    needs a collectstatic first, which only tests/dutyfree/test_static_production.py runs."""
    from django.test import override_settings

    source = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    with override_settings(
        STORAGES={**django_settings.STORAGES, "staticfiles": source},
        WHITENOISE_USE_FINDERS=True,
        WHITENOISE_AUTOREFRESH=True,
        # A preview asked for runs as a worker's task (eagerly without a broker), never in a
        # thread of the test process that would outlive the test's data.
        PREVIEW_IN_PROCESS=False,
    ):
        yield


def pytest_collection_finish(session: pytest.Session) -> None:
    """Start the slow jobs that need no database (tests/background.py) on the other core."""
    background.start_for(item.nodeid for item in session.items)


def pytest_sessionfinish(session: pytest.Session) -> None:
    background.stop()


def pytest_configure(config: pytest.Config) -> None:
    """Under pytest-xdist, each worker on a Redis database of its own (the next numbers after
    REDIS_URL's): every test clears the cache, which must not clear another worker's. The
    test databases are already each worker's own (pytest-django)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not worker.startswith("gw") or not django_settings.REDIS_URL:
        return
    base, _, number = django_settings.REDIS_URL.rpartition("/")
    own = f"{base}/{(int(number or 0) + 1 + int(worker[2:])) % 16}"
    django_settings.REDIS_URL = own
    django_settings.CACHES["default"]["LOCATION"] = own
    django_settings.CELERY_BROKER_URL = own
