"""A client generated from the served ``/api/schema/`` with openapi-python-client (offline, as
a store's IT department would) quotes a basket and makes a real sale against a live server.
"""

from __future__ import annotations

import datetime as dt
import importlib
import io
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from shops.management.commands.seed_demo import DEMO_TERMINAL_PREFIX, DEMO_TERMINAL_SECRET
from shops.models import Sale

DEMO_TERMINAL_KEY = f"df_{DEMO_TERMINAL_PREFIX}_{DEMO_TERMINAL_SECRET}"
PACKAGE = "dutyfree_client"
GENERATOR = Path(sys.executable).with_name("openapi-python-client")
CONFIG = f"post_hooks: []\npackage_name_override: {PACKAGE}\n"  # no formatter runs: offline


@pytest.fixture
def generated(live_server: Any, tmp_path: Path) -> Iterator[Any]:
    """The client package, generated from the live server's schema and imported."""
    with urllib.request.urlopen(f"{live_server.url}/api/schema/?format=json") as answer:  # noqa: S310 - the test's own server
        (tmp_path / "schema.json").write_bytes(answer.read())
    (tmp_path / "config.yml").write_text(CONFIG)
    run = subprocess.run(  # noqa: S603 - fixed arguments
        [
            str(GENERATOR),
            "generate",
            "--path",
            str(tmp_path / "schema.json"),
            "--config",
            str(tmp_path / "config.yml"),
            "--meta",
            "none",
            "--output-path",
            str(tmp_path / PACKAGE),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Warning" not in run.stdout + run.stderr, run.stdout + run.stderr
    sys.path.insert(0, str(tmp_path))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(tmp_path))
        for name in [name for name in sys.modules if name.split(".")[0] == PACKAGE]:
            del sys.modules[name]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_generated_client_quotes_and_makes_a_sale(live_server: Any, generated: Any) -> None:
    with override_settings(DEBUG=True):
        call_command("seed_demo", "--days", "0", stdout=io.StringIO())
    quote = importlib.import_module(f"{PACKAGE}.api.quotes.quote")
    sale_create = importlib.import_module(f"{PACKAGE}.api.sales.sale_create")
    models = importlib.import_module(f"{PACKAGE}.models")
    client = generated.AuthenticatedClient(base_url=live_server.url, token=DEMO_TERMINAL_KEY)
    departs = (timezone.localtime() + dt.timedelta(days=3)).replace(hour=10, minute=30, second=0)
    basket = {
        "shopper": models.ShopperIn(
            document=models.DocumentIn(
                type_=models.TypeEnum.RESIDENT_ID, number="460100199001011230"
            ),
            name="张三",
            birth_date=dt.date(1990, 1, 1),
        ),
        "trip": models.TripIn(
            mode=models.ModeEnum.AIR,
            kind=models.KindEnum.DOMESTIC,
            carrier_ref="HU7181",
            departs_at=departs,
        ),
        "pickup": models.PickupEnum.DEPARTURE,
        "lines": [
            models.LineIn(sku="COSMETICS-0301", quantity=2),
            models.LineIn(sku="PERFUME-0101", quantity=1),
        ],
    }

    with client:  # closes its connections (the live server's threads end with them)
        quoted = quote.sync_detailed(client=client, body=models.QuoteIn(**basket))
        sold = sale_create.sync_detailed(
            client=client, body=models.BasketIn(**basket), idempotency_key="it-dept-client-0001"
        )
        again = sale_create.sync_detailed(
            client=client, body=models.BasketIn(**basket), idempotency_key="it-dept-client-0001"
        )

    assert quoted.status_code == 200, quoted.content
    assert isinstance(quoted.parsed, models.QuoteOut)
    assert quoted.parsed.allowed is True
    assert [line.sku for line in quoted.parsed.lines] == ["COSMETICS-0301", "PERFUME-0101"]
    assert sold.status_code == 201, sold.content
    sale = sold.parsed
    assert isinstance(sale, models.SaleOut)
    assert sale.total == quoted.parsed.total
    assert sold.headers["location"] == f"/api/v1/sales/{sale.id}"
    stored = Sale.objects.get(pk=sale.id)
    assert (stored.receipt_no, str(stored.total), stored.lines.count()) == (
        sale.receipt_no,
        sale.total,
        2,
    )
    assert again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.parsed.id == sale.id
    assert Sale.objects.filter(terminal__name="demo-1").count() == 1
