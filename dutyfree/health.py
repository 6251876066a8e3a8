"""``/healthz``: is this process able to serve? Database and cache, each timed.

200 when every check passes, 503 otherwise; always JSON. Load balancers poll it, so it stays
cheap and never raises.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Literal

from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from pydantic import Field

from dutyfree.answers import MISSING, Absent, Answer


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        if cursor.fetchone() != (1,):
            raise RuntimeError("unexpected answer")


def _cache() -> None:
    key = f"healthz:{uuid.uuid4().hex}"
    cache.set(key, "ok", timeout=5)
    if cache.get(key) != "ok":
        raise RuntimeError("cache did not return what was stored")
    cache.delete(key)


CHECKS: dict[str, Callable[[], None]] = {"database": _database, "cache": _cache}


class CheckOut(Answer):
    ok: bool
    ms: float | Absent = Field(default=MISSING, description="How long the check took.")
    error: str | Absent = Field(default=MISSING, description="The error's class name.")


class HealthOut(Answer):
    status: Literal["ok", "unavailable"]
    checks: dict[str, CheckOut]


def _run(check: Callable[[], None]) -> CheckOut:
    started = time.perf_counter()
    try:
        check()
    except Exception as exc:
        return CheckOut(ok=False, error=exc.__class__.__name__)
    return CheckOut(ok=True, ms=round((time.perf_counter() - started) * 1000, 1))


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    results = {name: _run(check) for name, check in CHECKS.items()}
    healthy = all(result.ok for result in results.values())
    answer = HealthOut(status="ok" if healthy else "unavailable", checks=results)
    return JsonResponse(answer.body(), status=200 if healthy else 503)


@require_GET
def ping(request: HttpRequest) -> JsonResponse:
    """A plain Django view returning a small JSON: the benchmarks' yardstick (bench/pos_load.py)."""
    return JsonResponse({"ok": True})
