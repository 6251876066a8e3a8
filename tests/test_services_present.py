"""Under REQUIRE_SERVICES=1 (CI) the suite must really run on PostgreSQL and Redis."""

import pytest
from django.core.cache import cache, caches
from django.db import connection


@pytest.mark.django_db
def test_the_database_is_postgresql() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        assert "PostgreSQL" in cursor.fetchone()[0]


def test_redis_cache_answers(require_redis: None) -> None:
    cache.set("services-present", "yes", timeout=5)
    assert cache.get("services-present") == "yes"
    assert caches["default"].__class__.__module__.startswith("django_redis")
