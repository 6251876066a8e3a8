"""Fixed-window request counters per client address, shared by every process through Redis.

``hit(scope, ident)`` counts one request atomically (Redis ``INCR`` through the cache; the
local-memory cache's ``incr`` holds a lock) and says whether it is within the limit. Without
Redis (``make run``) the default cache is local memory. When Redis is configured but does not
answer, counting falls back to a per-process local-memory cache: each process then enforces the
limit on its own (at most limit × processes per window) — looser, never open, and never an
error for the person asking (documented in README, "Guarantees").
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.cache.backends.locmem import LocMemCache
from django.http import HttpRequest

log = logging.getLogger(__name__)
_fallback = LocMemCache("dutyfree-throttle-fallback", {"OPTIONS": {"MAX_ENTRIES": 100_000}})


@dataclass(frozen=True)
class Rate:
    limit: int
    seconds: int

    @classmethod
    def parse(cls, text: str) -> Rate:
        """``"10/60"``: 10 requests per 60 seconds."""
        limit, _, seconds = text.partition("/")
        rate = cls(int(limit), int(seconds or 60))
        if rate.limit < 1 or rate.seconds < 1:
            raise ValueError(f"A rate is a positive count per positive seconds, not {text!r}.")
        return rate


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    count: int
    retry_after: int  # seconds until the window turns


def client_address(request: HttpRequest) -> str:
    """The address of the client: ``REMOTE_ADDR``, or with ``TRUSTED_PROXIES = n`` behind n
    proxies, the n-th address from the right of ``X-Forwarded-For`` (the one the outermost
    trusted proxy saw)."""
    proxies = settings.TRUSTED_PROXIES
    if proxies:
        forwarded = [
            part.strip()
            for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if part.strip()
        ]
        if len(forwarded) >= proxies:
            return forwarded[-proxies][:64]
    return request.META.get("REMOTE_ADDR", "")[:64] or "unknown"


def _count_in(store: Any, key: str, seconds: int) -> int:
    store.add(key, 0, timeout=seconds + 1)
    try:
        return store.incr(key)
    except ValueError:  # expired between add and incr: a new window
        store.set(key, 1, timeout=seconds + 1)
        return 1


def _count(key: str, seconds: int) -> int:
    try:
        return _count_in(cache, key, seconds)
    except Exception:  # Redis down or slow: count in this process rather than fail
        log.warning("throttle: the shared cache did not answer; counting in this process")
        return _count_in(_fallback, key, seconds)


def hit(scope: str, ident: str, rate: Rate, *, now: float | None = None) -> Verdict:
    """Count one request of ``ident`` in ``scope``; allowed while the window holds ≤ limit."""
    now = time.time() if now is None else now
    window = math.floor(now / rate.seconds)
    count = _count(f"throttle:{scope}:{ident}:{window}", rate.seconds)
    retry_after = max(1, math.ceil((window + 1) * rate.seconds - now))
    return Verdict(allowed=count <= rate.limit, count=count, retry_after=retry_after)


def reset_fallback() -> None:
    """Forget the per-process counts (tests)."""
    _fallback.clear()
