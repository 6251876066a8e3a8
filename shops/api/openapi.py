"""The OpenAPI document as a store's IT department reads it: a drf-spectacular postprocessing
hook (``SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]``).

It gives every operation a tag and a summary (keyed by method and path, so an operation added
to the URLs gets them here), declares the response headers the views send (``Location``,
``Idempotent-Replayed``, ``Retry-After``, ``WWW-Authenticate``), spells out the credentials,
documents ``/healthz``, and adds request and response examples that succeed as they are sent
against the demo data (``manage.py seed_demo``): the demo shopper, the demo catalogue's SKUs,
sale 1 (the demo shopper's first purchase, made at the demo terminal's store), a departure
three days ahead. Times in the examples are relative to the moment the document is generated,
so a trip is always in the future and a departure in the past.

Human-readable text (summaries, descriptions) follows the request's language; tags,
operation ids and examples do not.
"""

from __future__ import annotations

import copy
import importlib
import json
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from dutyfree.health import HealthOut
from quotas.rules import LOCAL_TZ, ImmediateKindRule
from shops.demo.seed import _DEMO_BASKETS, DEMO_SHOPPER, demo_products

# --- Tags and summaries ------------------------------------------------------------------------
TAGS: dict[str, Any] = {
    "quotes": gettext_lazy("Judge a basket before selling it: nothing is written."),
    "sales": gettext_lazy(
        "Sales at a till: make one (exactly once, with an Idempotency-Key), find, read, void "
        "and hand over."
    ),
    "returns": gettext_lazy("Goods brought back: the quota of the sale's year is credited."),
    "departures": gettext_lazy(
        "A shopper left the island: closes the 30-day watch on immediate and guarantee pickups."
    ),
    "catalogue": gettext_lazy("The store's products, for a till: by SKU, barcode or words."),
    "shoppers": gettext_lazy("A shopper's own quota, without credentials (throttled)."),
    "policy": gettext_lazy("The duty-free policy in force: limits, categories, pickup rules."),
    "stats": gettext_lazy("Year-on-year sales figures for staff."),
    "health": gettext_lazy("For load balancers and monitoring."),
}

# (method, path) → (tag, summary). Keyed by path so that operations still to come get theirs.
OPERATIONS: dict[tuple[str, str], tuple[str, Any]] = {
    ("post", "/api/v1/quotes"): ("quotes", gettext_lazy("Judge a basket (writes nothing)")),
    ("post", "/api/v1/sales"): ("sales", gettext_lazy("Make a sale")),
    ("get", "/api/v1/sales"): (
        "sales",
        gettext_lazy("Find the store's sales by receipt number or day"),
    ),
    ("get", "/api/v1/sales/{sale_id}"): ("sales", gettext_lazy("Read a sale as it stands now")),
    ("post", "/api/v1/sales/{sale_id}/void"): ("sales", gettext_lazy("Void a whole sale")),
    ("post", "/api/v1/sales/{sale_id}/pickup"): (
        "sales",
        gettext_lazy("Record that the goods were handed over"),
    ),
    ("post", "/api/v1/sales/{sale_id}/returns"): (
        "returns",
        gettext_lazy("Take goods of a sale back"),
    ),
    ("post", "/api/v1/departures"): (
        "departures",
        gettext_lazy("Record that a shopper left the island"),
    ),
    ("get", "/api/v1/products"): (
        "catalogue",
        gettext_lazy("Find products by SKU, barcode or words"),
    ),
    ("post", "/api/v1/quota-lookup"): ("shoppers", gettext_lazy("Look up a shopper's own quota")),
    ("get", "/api/v1/policy"): ("policy", gettext_lazy("Read the policy in force")),
    ("get", "/api/v1/stats/sales"): ("stats", gettext_lazy("Sales figures, year on year")),
    ("get", "/healthz"): ("health", gettext_lazy("Check that this process can serve")),
}

# (method, path) → what its success answer is, where drf-spectacular leaves it blank.
ANSWERS: dict[tuple[str, str], Any] = {
    ("post", "/api/v1/quotes"): gettext_lazy("The verdict: allowed or not, and every reason."),
    ("post", "/api/v1/sales"): gettext_lazy(
        "The sale, committed; the same key and body again answer it again."
    ),
    ("get", "/api/v1/sales"): gettext_lazy("The store's sales, newest first, a page at a time."),
    ("get", "/api/v1/sales/{sale_id}"): gettext_lazy("The sale as it stands now."),
    ("post", "/api/v1/sales/{sale_id}/void"): gettext_lazy("The sale, voided."),
    ("post", "/api/v1/sales/{sale_id}/pickup"): gettext_lazy("The sale, handed over."),
    ("post", "/api/v1/sales/{sale_id}/returns"): gettext_lazy("The return, recorded."),
    ("post", "/api/v1/departures"): gettext_lazy("The departure, recorded."),
    ("get", "/api/v1/products"): gettext_lazy("The products found, a page at a time."),
    ("post", "/api/v1/quota-lookup"): gettext_lazy("The shopper's quota this year."),
    ("get", "/api/v1/policy"): gettext_lazy("The policy in force."),
    ("get", "/api/v1/stats/sales"): gettext_lazy("The figures and last year's."),
}

HEALTH_PATH = "/healthz"
DEMO_TERMINAL_STORE = "SYA-HTB"  # seed_demo's terminal demo-1
DEMO_SALE_ID = 1  # the demo shopper's first purchase: the first sale of a fresh demo database
DEMO_FLIGHT = "HU7181"  # the demo shopper's flight (shops.demo.seed.load_demo_shopper)
DEMO_DAYS_AHEAD = 3


def postprocess(result: dict[str, Any], generator: Any = None, **kwargs: Any) -> dict[str, Any]:
    """The hook: drf-spectacular calls it with the generated document."""
    _drop_impossible_null_defaults(result.get("components", {}).get("schemas", {}))
    result["info"]["description"] = str(DESCRIPTION)
    _add_health(result)
    _describe_security(result)
    used = set()
    for path, item in result["paths"].items():
        for method, operation in item.items():
            tag, summary = OPERATIONS.get((method, path), (None, None))
            if tag is not None:
                operation["tags"] = [tag]
                operation["summary"] = str(summary)
            used.update(operation.get("tags", ()))
            answer = ANSWERS.get((method, path))
            for status, response in operation.get("responses", {}).items():
                if answer is not None and status.startswith("2") and not response["description"]:
                    response["description"] = str(answer)
    # The tags in use, in this order (Swagger UI lists them so; no empty group).
    result["tags"] = [
        {"name": name, "description": str(text)} for name, text in TAGS.items() if name in used
    ]
    _declare_headers(result)
    _add_examples(result, Examples(now=timezone.now()))
    return result


DESCRIPTION = gettext_lazy(
    "Hainan offshore duty-free (离岛免税) sales and shopper-quota engine.\n\n"
    "**Credentials.** Terminals send `Authorization: Bearer <key>` (`manage.py "
    "create_terminal`); staff send `Authorization: Token <key>` (`manage.py "
    "create_staff_token`). The shopper's quota look-up needs none.\n\n"
    "**Exactly once.** Every POST that writes (sales, returns, void, pickup, departures) needs "
    "an `Idempotency-Key` header (1–255 printable ASCII characters, spaces included): the same "
    "key and body again answer the first answer byte for byte (status, body, `Location`), "
    "with `Idempotent-Replayed: true`, whatever changed in between.\n\n"
    "**Errors** are RFC 9457 `application/problem+json` with a stable `code`; 400 names the "
    "fields in `errors`, 422 lists what the policy forbids in `violations`. Messages follow "
    "`Accept-Language` (zh-hans by default, or en).\n\n"
    "**Examples** succeed as they are against the demo data (`manage.py seed_demo`, terminal "
    "`demo-1` of SYA-HTB): the demo shopper, the demo catalogue, sale 1."
)


# --- Validity ----------------------------------------------------------------------------------
def _admits_null(schema: dict[str, Any]) -> bool:
    kinds = schema.get("type")
    if kinds == "null" or (isinstance(kinds, list) and "null" in kinds):
        return True
    if schema.get("nullable") is True:
        return True
    return any(
        isinstance(member, dict) and _admits_null(member)
        for keyword in ("anyOf", "oneOf")
        for member in schema.get(keyword, ())
    )


def _drop_impossible_null_defaults(node: Any) -> None:
    """``default: null`` on a schema that refuses null makes the document invalid (pydantic
    writes it for a field that may be left out but not sent as null, such as a quote's
    ``at``). Absent means "not sent": the description says what applies then."""
    if isinstance(node, dict):
        if "default" in node and node["default"] is None and not _admits_null(node):
            del node["default"]
        for value in node.values():
            _drop_impossible_null_defaults(value)
    elif isinstance(node, list):
        for value in node:
            _drop_impossible_null_defaults(value)


# --- Credentials -------------------------------------------------------------------------------
def _describe_security(result: dict[str, Any]) -> None:
    schemes = result.setdefault("components", {}).setdefault("securitySchemes", {})
    if "terminalKey" in schemes:
        schemes["terminalKey"].update(
            bearerFormat="df_<prefix>_<secret>",
            description=_(
                "Terminals: `Authorization: Bearer df_<prefix>_<secret>`, the key that "
                "`manage.py create_terminal --store CODE --name NAME` prints once. A terminal "
                "sees only its own store's sales."
            ),
        )
    if "tokenAuth" in schemes:
        schemes["tokenAuth"]["description"] = _(
            "Staff: the header's value is the word `Token`, a space and the key that "
            "`manage.py create_staff_token USERNAME` prints once: `Authorization: Token "
            "<key>`. In the Authorize dialog, type `Token ` before the key; a generated "
            'client takes prefix="Token".'
        )
    if "cookieAuth" in schemes:
        schemes["cookieAuth"]["description"] = _(
            "A staff member signed in to the site (browsers: the dashboard)."
        )


# --- Health ------------------------------------------------------------------------------------
def _add_health(result: dict[str, Any]) -> None:
    """``/healthz`` is a plain Django view (dutyfree.health), outside DRF's schema."""
    schemas = result["components"].setdefault("schemas", {})
    schema = HealthOut.model_json_schema(
        ref_template="#/components/schemas/{model}", mode="serialization"
    )
    schemas.update(schema.pop("$defs", {}), HealthOut=schema)
    answer = {"application/json": {"schema": {"$ref": "#/components/schemas/HealthOut"}}}
    result["paths"][HEALTH_PATH] = {
        "get": {
            "operationId": "health",
            "description": _(
                "The database and the cache, each timed. 200 when every check passes, 503 "
                "otherwise; never cached."
            ),
            "security": [],
            "responses": {
                "200": {"description": _("Every check passed."), "content": answer},
                "503": {"description": _("A check failed."), "content": copy.deepcopy(answer)},
            },
        }
    }


# --- Response headers --------------------------------------------------------------------------
def _headers() -> dict[str, dict[str, Any]]:
    return {
        "Location": {
            "description": _("The sale's URL: /api/v1/sales/{id}."),
            "required": True,
            "schema": {"type": "string", "example": f"/api/v1/sales/{DEMO_SALE_ID}"},
        },
        "Idempotent-Replayed": {
            "description": _(
                "`true` when this is the stored first answer to the same key and body, sent "
                "again; absent on the first answer."
            ),
            "schema": {"type": "string", "enum": ["true"]},
        },
        "Retry-After": {
            "description": _("Seconds to wait before trying again."),
            "required": True,
            "schema": {"type": "integer", "minimum": 0},
        },
        "WWW-Authenticate": {
            "description": _("The scheme expected: Bearer (terminals) or Token (staff)."),
            "schema": {"type": "string"},
        },
    }


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/headers/{name}"}


def _declare_headers(result: dict[str, Any]) -> None:
    result["components"]["headers"] = _headers()
    for path, item in result["paths"].items():
        for method, operation in item.items():
            responses = operation.get("responses", {})
            for status, response in responses.items():
                headers = response.setdefault("headers", {})
                if status in {"429", "503"} and path != HEALTH_PATH:
                    headers["Retry-After"] = _ref("Retry-After")
                if status == "401":
                    headers["WWW-Authenticate"] = _ref("WWW-Authenticate")
                if status in {"200", "201"} and (method, path) in {
                    ("post", "/api/v1/sales"),
                    ("post", "/api/v1/sales/{sale_id}/returns"),
                    ("post", "/api/v1/sales/{sale_id}/void"),
                    ("post", "/api/v1/sales/{sale_id}/pickup"),
                    ("post", "/api/v1/departures"),
                }:
                    headers["Idempotent-Replayed"] = _ref("Idempotent-Replayed")
                    if path == "/api/v1/sales":
                        headers["Location"] = _ref("Location")
                if not headers:
                    del response["headers"]


# --- Examples ----------------------------------------------------------------------------------
def _policy_names() -> dict[str, str]:
    """The names of the shipped policy in force, as an answer in Chinese (the default) shows
    them: its Chinese name is given by migration quotas.0012, which named it."""
    named = importlib.import_module("quotas.migrations.0012_policy_names")
    english = _policy_data()["name"]
    chinese = named.chinese_name(english)
    return {"name": chinese, "name_zh": chinese, "name_en": english}


@cache
def _policy_data() -> dict[str, Any]:
    """The policy shipped as data that is in force today (quotas/data, migration 0002)."""
    data = json.loads(
        (
            Path(__file__).resolve().parents[2] / "quotas" / "data" / "hainan-offshore.json"
        ).read_text(encoding="utf-8")
    )
    return max(data["policies"], key=lambda policy: policy["effective_from"])


@cache
def _immediate_kinds() -> list[ImmediateKindRule]:
    """The shipped immediate-pickup list, by number, as the migration that shipped it reads
    the annex."""
    amend = importlib.import_module("quotas.migrations.0010_immediate_pickup_kinds_shipped")
    rows: list[dict[str, Any]] = amend.kind_rows(_policy_data()["immediate_pickup_kinds"])
    return [
        ImmediateKindRule(
            **{name: value for name, value in row.items() if name not in ("note", "category_code")},
            category_code=row["category_code"] or None,
        )
        for row in sorted(rows, key=lambda row: row["number"])
    ]


def _money(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01'))}"


class Examples:
    """The examples, consistent with one another and with the demo data at ``now``."""

    def __init__(self, *, now: datetime) -> None:
        self.now = now.astimezone(LOCAL_TZ).replace(microsecond=0)
        self.categories = {c["code"]: c for c in _policy_data()["categories"]}
        self.products = {
            product.sku: product
            for product in demo_products(
                codes=set(self.categories),
                kinds={kind.code: kind.category_code for kind in _immediate_kinds()},
            )
        }
        store, pickup, lines = _DEMO_BASKETS[0]
        self.store, self.pickup, self.lines = store, pickup, list(lines)
        self.departs_at = (self.now + timedelta(days=DEMO_DAYS_AHEAD)).replace(
            hour=10, minute=30, second=0
        )
        number = DEMO_SHOPPER["number"]
        self.document = {
            "type": DEMO_SHOPPER["doc_type"],
            "number": number,
            "country": DEMO_SHOPPER["country"],
        }
        # A resident identity number holds the birth date (digits 7 to 14).
        self.birth_date = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
        # What the demo shopper bought (seed_demo): every demo basket, on the demo trip.
        self.demo_used = sum(
            (self._amount(sku, quantity) for _, _, basket in _DEMO_BASKETS
             for sku, quantity in basket),
            Decimal(0),
        )  # fmt: skip
        self.limit = Decimal(_policy_data()["annual_limit"])

    # -- pieces
    def _amount(self, sku: str, quantity: int) -> Decimal:
        return self.products[sku].retail_price * quantity

    def _category(self, sku: str) -> dict[str, str]:
        category = self.categories[self.products[sku].category_code]
        return {
            "code": category["code"],
            "name": category["name_zh"],
            "name_zh": category["name_zh"],
            "name_en": category["name_en"],
        }

    @property
    def total(self) -> Decimal:
        return sum((self._amount(sku, quantity) for sku, quantity in self.lines), Decimal(0))

    def quota(self, used: Decimal) -> dict[str, Any]:
        return {
            "year": self.now.year,
            "limit": _money(self.limit),
            "used": _money(used),
            "remaining": _money(self.limit - used),
        }

    def shopper(self) -> dict[str, Any]:
        return {
            "document": dict(self.document),
            "name": DEMO_SHOPPER["name"],
            "birth_date": self.birth_date.isoformat(),
            "hainan_resident": False,
        }

    def basket(self) -> dict[str, Any]:
        return {
            "shopper": self.shopper(),
            "trip": {
                "mode": "air",
                "kind": "domestic",
                "carrier_ref": DEMO_FLIGHT,
                "departs_at": self.departs_at.isoformat(),
            },
            "pickup": self.pickup,
            "lines": [{"sku": sku, "quantity": quantity} for sku, quantity in self.lines],
        }

    def _counted(self, sku: str, quantity: int, unit: str) -> int:
        product = self.products[sku]
        return quantity * (product.volume_ml or 0 if unit == "ml" else product.pieces)

    def trip_limits(self) -> list[dict[str, Any]]:
        """Per-trip limits as a quote answers them: every limited category of the policy, with
        what the demo shopper's purchases for the demo trip already hold."""
        bought = [line for _, _, basket in _DEMO_BASKETS for line in basket]
        rows = []
        for category in sorted(self.categories.values(), key=lambda c: c["number"]):
            per_trip = category["per_trip_limit"]
            if not per_trip:
                continue
            code, unit = category["code"], per_trip["unit"]

            def counted(lines: list[tuple[str, int]], code: str = code, unit: str = unit) -> int:
                return sum(
                    self._counted(sku, quantity, unit)
                    for sku, quantity in lines
                    if self.products[sku].category_code == code
                )

            used, requested = counted(bought), counted(self.lines)
            rows.append(
                {
                    "category": code,
                    "unit": unit,
                    "limit": per_trip["value"],
                    "used": used,
                    "requested": requested,
                    "remaining_after": per_trip["value"] - used - requested,
                }
            )
        return rows

    def open_trip_immediate(self) -> list[dict[str, Any]]:
        """The demo trip's immediate-pickup allowance, whole: the demo shopper's purchases are
        all picked up at departure (the examples' test replays them against the demo data)."""
        return [
            {
                "kind": kind.code,
                "name": kind.name_zh,
                "unit": kind.unit,
                "unit_name": kind.unit_zh,
                "limit": kind.per_trip,
                "per_variety": kind.per_variety,
                "used": 0,
                "remaining": kind.per_trip,
            }
            for kind in _immediate_kinds()
        ]

    def quote_answer(self) -> dict[str, Any]:
        policy = _policy_data()
        quota = self.quota(self.demo_used)
        quota["remaining_after"] = _money(self.limit - self.demo_used - self.total)
        return {
            "allowed": True,
            "policy": {"id": 2, **_policy_names(), "effective_from": policy["effective_from"]},
            "total": _money(self.total),
            "lines": [
                {
                    "sku": sku,
                    "category": self._category(sku),
                    "quantity": quantity,
                    "unit_price": _money(self.products[sku].retail_price),
                    "amount": _money(self._amount(sku, quantity)),
                    "allowed": True,
                    "violations": [],
                }
                for sku, quantity in self.lines
            ],
            "violations": [],
            "quota": quota,
            "trip_limits": self.trip_limits(),
        }

    def _sale_lines(self, first_id: int) -> list[dict[str, Any]]:
        return [
            {
                "id": first_id + number,
                "sku": sku,
                "category": self._category(sku),
                "quantity": quantity,
                "unit_price": _money(self.products[sku].retail_price),
                "amount": _money(self._amount(sku, quantity)),
            }
            for number, (sku, quantity) in enumerate(self.lines)
        ]

    def sale_answer(self) -> dict[str, Any]:
        """The answer to the example sale: the demo shopper's fourth purchase."""
        lines_before = sum(len(basket) for _, _, basket in _DEMO_BASKETS)
        return {
            "id": len(_DEMO_BASKETS) + 1,
            "receipt_no": f"{DEMO_TERMINAL_STORE}-{self.now:%Y%m%d-%H%M%S}-K7Q2MX",
            "store": DEMO_TERMINAL_STORE,
            "terminal": "demo-1",
            "sold_at": self.now.isoformat(),
            "status": "completed",
            "pickup": self.pickup,
            "total": _money(self.total),
            "lines": self._sale_lines(lines_before + 1),
            "quota": self.quota(self.demo_used + self.total),
        }

    def sale_one(self, **changes: Any) -> dict[str, Any]:
        """Sale 1 (the demo shopper's first purchase) as it stands, after ``changes``."""
        sold_at = self.now - timedelta(minutes=90)
        used = self.demo_used - changes.pop("credited", Decimal(0))
        lines = self._sale_lines(1)
        for line in lines:
            line["returned_quantity"] = 0
        answer = {
            "id": DEMO_SALE_ID,
            "receipt_no": f"{self.store}-{sold_at:%Y%m%d-%H%M%S}-ACMN8J",
            "store": self.store,
            "terminal": "demo-shopper",
            "sold_at": sold_at.isoformat(),
            "status": "completed",
            "pickup": self.pickup,
            "total": _money(self.total),
            "lines": lines,
            "quota": self.quota(used),
            "returned_amount": "0.00",
            "picked_up_at": None,
            "voided_at": None,
            "returns": [],
        }
        answer.update(changes)
        return answer

    def return_request(self) -> dict[str, Any]:
        sku, _quantity = self.lines[0]
        return {"lines": [{"line": 1, "quantity": 1}], "reason": f"{sku}: wrong shade"}

    def return_answer(self) -> dict[str, Any]:
        sku, _quantity = self.lines[0]
        amount = self._amount(sku, 1)
        return {
            "id": 1,
            "sale": DEMO_SALE_ID,
            "amount": _money(amount),
            "reason": f"{sku}: wrong shade",
            "created_at": self.now.isoformat(),
            "lines": [{"line": 1, "sku": sku, "quantity": 1, "amount": _money(amount)}],
            "quota": self.quota(self.demo_used - amount),
        }

    @property
    def departed_at(self) -> datetime:
        return self.now.replace(second=0) - timedelta(minutes=5)

    def departure_request(self) -> dict[str, Any]:
        return {
            "document": dict(self.document),
            "carrier_ref": DEMO_FLIGHT,
            "departed_at": self.departed_at.isoformat(),
        }

    def departure_answer(self) -> dict[str, Any]:
        """The shopper's trip on that flight leaves in three days: this departure closes
        none (and the answer says nothing of that trip)."""
        return {
            "matched": False,
            "reason": "no_open_trip_with_that_carrier_ref",
            "message": _(
                "No open trip %(carrier_ref)s scheduled within 12 hours of this departure: "
                "nothing closed."
            )
            % {"carrier_ref": DEMO_FLIGHT},
            "carrier_ref": DEMO_FLIGHT,
            "departed_at": self.departed_at.isoformat(),
            "closed_trip": None,
        }

    def lookup_request(self) -> dict[str, Any]:
        return {"document": dict(self.document), "name": DEMO_SHOPPER["name"]}

    def lookup_answer(self) -> dict[str, Any]:
        sold_at = self.now - timedelta(minutes=90)
        answer = self.quota(self.demo_used)
        stores = json.loads(
            (Path(__file__).resolve().parents[1] / "data" / "stores.json").read_text("utf-8")
        )
        (store_name,) = (s["name_zh"] for s in stores["stores"] if s["code"] == self.store)
        answer.update(
            banned_until=None,
            document={
                "type": self.document["type"],
                "masked": "****" + self.document["number"][-4:],
            },
            purchases=[
                {
                    "receipt_no": f"{self.store}-{sold_at:%Y%m%d-%H%M%S}-ACMN8J",
                    "sold_at": sold_at.isoformat(),
                    "store": self.store,
                    "store_name": store_name,
                    "amount": _money(self.total),
                    "returned": "0.00",
                    "counted": _money(self.total),
                    "status": "completed",
                    "pickup": self.pickup,
                }
            ],
            open_trips=[
                {
                    "carrier_ref": DEMO_FLIGHT,
                    "kind": "domestic",
                    "mode": "air",
                    "departs_at": self.departs_at.isoformat(),
                    "trip_limits": [
                        {
                            "category": row["category"],
                            "name": self.categories[row["category"]]["name_zh"],
                            "unit": row["unit"],
                            "limit": row["limit"],
                            "used": row["used"],
                            "remaining": row["limit"] - row["used"],
                        }
                        for row in self.trip_limits()
                    ],
                    "immediate_limits": self.open_trip_immediate(),
                }
            ],
        )
        return answer

    def products_query(self) -> str:
        return ",".join(sku for sku, _ in self.lines)

    def products_answer(self) -> dict[str, Any]:
        return {
            "results": [
                {
                    "sku": product.sku,
                    "barcode": getattr(product, "barcode", None) or None,
                    "name_zh": product.name_zh,
                    "name_en": product.name_en,
                    "brand": product.brand,
                    "category": self._category(product.sku),
                    "retail_price": _money(product.retail_price),
                    "volume_ml": product.volume_ml,
                    "pieces": product.pieces,
                    "immediate_kind": getattr(product, "immediate_kind", None) or None,
                }
                for product in sorted(
                    (self.products[sku] for sku, _ in self.lines), key=lambda p: p.sku
                )
            ],
            "next": None,
        }

    def sales_answer(self) -> dict[str, Any]:
        return {"results": [self.sale_one()], "next": None}


POLICY_ANSWER: dict[str, Any] = {
    "id": 2,
    "name": "离岛免税政策 2025年11月版（47类商品）",  # the request's language: zh-hans by default
    "name_zh": "离岛免税政策 2025年11月版（47类商品）",
    "name_en": "Offshore duty-free 2025-11 (47 categories)",
    "programme": "hainan_offshore",
    "effective_from": "2025-11-01T00:00:00+08:00",
    "annual_limit": "100000.00",
    "min_age": 18,
    "traveller_kinds": ["domestic", "outbound", "resident_outbound_record"],
    "pickup_rules": {
        "modes": ["departure", "mail", "return_to_island", "immediate", "guarantee"],
        "immediate_max_unit_price_exclusive": "20000.00",
        "guarantee_min_unit_price": "50000.00",
        "departure_deadline_days": 30,
        "ban_years": 3,
        "return_to_island_within_months": 3,
        "return_to_island_residents_only": True,
        "outbound_modes": ["departure"],
    },
    "categories": [
        {
            "number": 5,
            "code": "cosmetics",
            "name_zh": "化妆品",
            "name_en": "Cosmetics",
            "per_trip_limit": {"unit": "piece", "value": 30},
            "immediate_pickup": True,
            "verified": "name_and_number",
            "note": "Sets counted by the actual number of items inside the package. 即购即提 "
            "(2023 No. 25): 5 pieces per departure, at most 1 of any single variety.",
        },
        {
            "number": 41,
            "code": "alcohol",
            "name_zh": "酒类",
            "name_en": "Alcoholic beverages",
            "per_trip_limit": {"unit": "ml", "value": 1500},
            "immediate_pickup": False,
            "verified": "name",
            "note": "Total of all alcohol per trip <= 1,500 ml (H). Serial L. 即购即提 exclusion "
            "L. The order of 41-45 (alcohol, phones, tablets, game consoles, electronic "
            "consumer products) is not confirmed.",
        },
    ],
    "immediate_pickup": {
        "max_unit_price": "20000.00",
        "kinds": [
            {
                "code": kind.code,
                "name_zh": kind.name_zh,
                "name_en": kind.name_en,
                "category": kind.category_code,
                "unit": kind.unit,
                "unit_zh": kind.unit_zh,
                "unit_en": kind.unit_en,
                "per_trip": kind.per_trip,
                "per_variety": kind.per_variety,
            }
            for kind in _immediate_kinds()
        ],
    },
}

STATS_QUERY = {"start": "2025-12-18", "end": "2026-01-17", "group_by": "store"}
STATS_ANSWER: dict[str, Any] = {  # figures as a year of demo history gives them, rounded
    "period": {"start": "2025-12-18", "end": "2026-01-17"},
    "previous": {"start": "2024-12-18", "end": "2025-01-17"},
    "align": "calendar",
    "totals": {
        "amount": "4860000.00",
        "previous_amount": "3310000.00",
        "amount_yoy_pct": "46.8",
        "items": 2210,
        "previous_items": 1700,
        "items_yoy_pct": "30.0",
        "sales": 1340,
        "previous_sales": 1000,
        "sales_yoy_pct": "34.0",
        "shopper_trips": 1290,
        "previous_shopper_trips": 1000,
        "shopper_trips_yoy_pct": "29.0",
        "shoppers": 1150,
        "previous_shoppers": 1000,
        "shoppers_yoy_pct": "15.0",
        "average_spend": "3767.44",
        "previous_average_spend": "3310.00",
        "average_spend_yoy_pct": "13.8",
    },
    "group_by": "store",
    "groups": [
        {
            "key": "SYA-HTB",
            "amount": "1460000.00",
            "previous_amount": "990000.00",
            "amount_yoy_pct": "47.5",
            "items": 660,
            "previous_items": 500,
            "items_yoy_pct": "32.0",
            "sales": 402,
            "previous_sales": 300,
            "sales_yoy_pct": "34.0",
            "shopper_trips": 390,
            "previous_shopper_trips": 300,
            "shopper_trips_yoy_pct": "30.0",
            "shoppers": 350,
            "previous_shoppers": 280,
            "shoppers_yoy_pct": "25.0",
            "average_spend": "3743.59",
            "previous_average_spend": "3300.00",
            "average_spend_yoy_pct": "13.4",
            "name": "中免三亚海棠湾国际免税城",
            "short_name": "三亚国际免税城",
        }
    ],
    "as_of": "2026-01-18T00:01:00+08:00",
}


def _set_example(content: dict[str, Any], summary: str, value: Any) -> None:
    for media in content.values():
        media["examples"] = {"demo": {"summary": summary, "value": value}}


def _param_examples(operation: dict[str, Any], values: dict[str, Any]) -> None:
    for parameter in operation.get("parameters", ()):
        if parameter.get("name") in values:
            parameter["example"] = values[parameter["name"]]


def _add_examples(result: dict[str, Any], ex: Examples) -> None:
    """Request examples (body and parameters) and the success answer each gets."""
    today = ex.now.date().isoformat()
    sale_key = "4f7c1d9e-2b3a-4c5d-8e9f-0a1b2c3d4e5f"
    return_key = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
    sale_one = {"sale_id": DEMO_SALE_ID}
    plan: dict[tuple[str, str], dict[str, Any]] = {
        ("post", "/api/v1/quotes"): {
            "request": ex.basket(),
            "responses": {"200": ex.quote_answer()},
        },
        ("post", "/api/v1/sales"): {
            "request": ex.basket(),
            "parameters": {"Idempotency-Key": sale_key},
            "responses": {"201": ex.sale_answer()},
        },
        ("get", "/api/v1/sales"): {
            "parameters": {"date": today},
            "responses": {"200": ex.sales_answer()},
        },
        ("get", "/api/v1/sales/{sale_id}"): {
            "parameters": sale_one,
            "responses": {"200": ex.sale_one()},
        },
        ("post", "/api/v1/sales/{sale_id}/void"): {
            "parameters": {**sale_one, "Idempotency-Key": "void 1 at till demo-1"},
            "responses": {
                "200": ex.sale_one(status="voided", voided_at=ex.now.isoformat(), credited=ex.total)
            },
        },
        ("post", "/api/v1/sales/{sale_id}/pickup"): {
            "parameters": {**sale_one, "Idempotency-Key": "pickup 1 at till demo-1"},
            "responses": {"200": ex.sale_one(picked_up_at=ex.now.isoformat())},
        },
        ("post", "/api/v1/sales/{sale_id}/returns"): {
            "request": ex.return_request(),
            "parameters": {**sale_one, "Idempotency-Key": return_key},
            "responses": {"201": ex.return_answer()},
        },
        ("post", "/api/v1/departures"): {
            "request": ex.departure_request(),
            "parameters": {"Idempotency-Key": "departure HU7181 at till demo-1"},
            "responses": {"201": ex.departure_answer()},
        },
        ("get", "/api/v1/products"): {
            "parameters": {"sku": ex.products_query()},
            "responses": {"200": ex.products_answer()},
        },
        ("post", "/api/v1/quota-lookup"): {
            "request": ex.lookup_request(),
            "responses": {"200": ex.lookup_answer()},
        },
        ("get", "/api/v1/policy"): {
            "parameters": {"at": "2025-11-01T00:00:00+08:00"},
            "responses": {"200": POLICY_ANSWER},
        },
        ("get", "/api/v1/stats/sales"): {
            "parameters": STATS_QUERY,
            "responses": {"200": STATS_ANSWER},
        },
        ("get", HEALTH_PATH): {
            "responses": {
                "200": {
                    "status": "ok",
                    "checks": {
                        "database": {"ok": True, "ms": 0.4},
                        "cache": {"ok": True, "ms": 0.2},
                    },
                }
            },
        },
    }
    for (method, path), examples in plan.items():
        operation = result["paths"].get(path, {}).get(method)
        if operation is None:
            continue
        summary = _("The demo data (manage.py seed_demo)")
        if "request" in examples and "requestBody" in operation:
            _set_example(operation["requestBody"]["content"], summary, examples["request"])
        _param_examples(operation, examples.get("parameters", {}))
        for status, value in examples["responses"].items():
            content = operation.get("responses", {}).get(status, {}).get("content")
            if content:
                _set_example(content, summary, value)
