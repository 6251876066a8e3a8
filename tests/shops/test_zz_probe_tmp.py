import json
from datetime import timedelta
from decimal import Decimal
import pytest
from django.test import Client
from django.utils import timezone
from shops.models import Product, Store
from shops.services import terminal_create

pytestmark = pytest.mark.django_db

def body():
    return {"shopper": {"document": {"type": "resident_id", "number": "460100199001011234", "country": "CHN"}, "name": "张三", "birth_date": "1990-01-01", "hainan_resident": False}, "trip": {"mode": "air", "kind": "domestic", "carrier_ref": "HU7181", "departs_at": (timezone.now()+timedelta(days=3)).isoformat()}, "pickup": "departure", "lines": [{"sku": "LIP-1", "quantity": 2}]}

@pytest.mark.parametrize("raw", ["deep", "surrogate", "authu", "big", "nan", "ctrl", "at0001", "at9999", "dep9999"])
def test_probe(client: Client, raw):
    Product.objects.create(sku="LIP-1", name_zh="口红", name_en="Lipstick", brand="X", category_code="cosmetics", retail_price=Decimal("320.00"))
    t, key = terminal_create(store=Store.objects.get(code="SYA-HTB"), name="t1")
    h = {"authorization": f"Bearer {key}", "idempotency-key": "k1"}
    b = body()
    data = None
    if raw == "deep":
        data = "[" * 100000 + "]" * 100000
    elif raw == "surrogate":
        data = json.dumps(b).replace("\\u5f20\\u4e09", "\\ud800").replace('"张三"', '"\\ud800"')
    elif raw == "authu":
        h["authorization"] = "Bearer 密钥"
    elif raw == "big":
        b["shopper"]["name"] = "x" * 3_000_000
    elif raw == "nan":
        data = json.dumps(b).replace('"quantity": 2', '"quantity": NaN')
    elif raw == "ctrl":
        b["shopper"]["document"]["number"] = "4601001990010\x001234"
    elif raw == "at0001":
        b["at"] = "0001-01-01T00:00:00+08:00"
    elif raw == "at9999":
        b["at"] = "9999-12-31T23:59:59-10:00"
    elif raw == "dep9999":
        b["trip"]["departs_at"] = "9999-12-31T23:59:59-10:00"
    data = data if data is not None else json.dumps(b)
    for url in ["/api/v1/quotes", "/api/v1/sales"]:
        try:
            r = client.post(url, data=data, content_type="application/json", headers=h)
            print(raw, url, r.status_code, r.get("Content-Type"), r.content[:300])
        except Exception as e:
            print(raw, url, "EXC", type(e), str(e)[:200])
