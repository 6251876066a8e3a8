"""N sales through the whole Django stack in this process (WSGI handler, middleware, DRF, the
checkout, PostgreSQL): the body that ``bench/sale_instructions.py`` runs under callgrind.

Run from a checkout's root with ``DATABASE_URL`` set and ``KEY`` the terminal's key:
``python bench/sale_loop.py N [hot]``. Twenty sales warm the process first (imports, the policy
cache, prepared statements); then N fresh shoppers with 3-line baskets, or with ``hot`` N sales
of one shopper (1 line each). Every answer must be a 201.
"""

from __future__ import annotations

import io
import json
import os
import random
import sys
from datetime import UTC, datetime, timedelta

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dutyfree.settings")

import django

django.setup()

from django.core.handlers.wsgi import WSGIHandler  # noqa: E402

KEY = os.environ["KEY"]
DEPARTS = (datetime.now(UTC) + timedelta(days=3)).strftime("%Y-%m-%dT10:00:00+08:00")
RUN = random.randrange(10**6)
THREE = [("PERF-PERFUME", 1), ("PERF-PEN", 2), ("PERF-SUN", 1)]
ONE = [("PERF-PEN", 1)]


def body(n: int, hot: bool) -> bytes:
    basket = {
        "shopper": {
            "document": {
                "type": "passport",
                "number": f"HOT{RUN}" if hot else f"P{RUN:06d}{n:06d}",
                "country": "CHN",
            },
            "name": "压测",
            "birth_date": "1990-01-01",
            "hainan_resident": False,
        },
        "trip": {
            "mode": "air",
            "kind": "domestic",
            "carrier_ref": f"HU{1 if hot else n % 9999:04d}",
            "departs_at": DEPARTS,
        },
        "pickup": "departure",
        "lines": [{"sku": sku, "quantity": q} for sku, q in (ONE if hot else THREE)],
    }
    return json.dumps(basket, ensure_ascii=False).encode()


def main() -> None:
    count, hot = int(sys.argv[1]), sys.argv[2:] == ["hot"]
    app = WSGIHandler()
    status: list[str] = []
    for n in range(20 + count):
        data = body(n, hot)
        environ = {
            "REQUEST_METHOD": "POST", "PATH_INFO": "/api/v1/sales", "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "80", "HTTP_HOST": "127.0.0.1", "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(data), "CONTENT_LENGTH": str(len(data)),
            "CONTENT_TYPE": "application/json", "HTTP_AUTHORIZATION": f"Bearer {KEY}",
            "HTTP_IDEMPOTENCY_KEY": f"loop-{RUN}-{n}", "wsgi.errors": sys.stderr,
            "REMOTE_ADDR": "127.0.0.1",
        }  # fmt: skip
        answer = app(environ, lambda code, headers, exc=None: status.append(code))
        b"".join(answer)
        answer.close()  # type: ignore[attr-defined]  # Django's response iterator has close()
        if not status[-1].startswith("201"):
            raise SystemExit(f"sale {n}: {status[-1]}")


if __name__ == "__main__":
    main()
