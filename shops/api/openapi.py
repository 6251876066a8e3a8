"""What the OpenAPI document says beyond its operations: a drf-spectacular postprocessing hook
(``SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]``).

Each operation declares its own tag, summary, answers and examples beside its view
(``extend_schema``; the examples through dutyfree.schema). This hook adds what belongs to the
document as a whole: its description, the tags in use with theirs, the response headers every
operation of a kind sends (``Location``, ``Idempotent-Replayed``, ``Retry-After``,
``WWW-Authenticate``), and ``/healthz`` (a plain Django view, outside DRF).

Human-readable text (summaries, descriptions) follows the request's language; tags,
operation ids and examples do not.
"""

from __future__ import annotations

import copy
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from dutyfree.health import HealthOut
from dutyfree.schema import DEMO_SUMMARY
from shops.demo.examples import DEMO_SALE_ID

# --- Tags --------------------------------------------------------------------------------------
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
    "policy previews": gettext_lazy(
        "What a policy version would have refused of the recorded sales, before it is "
        "published: for the platform's administrators and customs."
    ),
    "health": gettext_lazy("For load balancers and monitoring."),
}

HEALTH_PATH = "/healthz"
# The writes a till may retry: their success answers say whether they are replays.
IDEMPOTENT = {
    ("post", "/api/v1/sales"),
    ("post", "/api/v1/sales/{sale_id}/returns"),
    ("post", "/api/v1/sales/{sale_id}/void"),
    ("post", "/api/v1/sales/{sale_id}/pickup"),
    ("post", "/api/v1/departures"),
}


def postprocess(result: dict[str, Any], generator: Any = None, **kwargs: Any) -> dict[str, Any]:
    """The hook: drf-spectacular calls it with the generated document."""
    _drop_impossible_null_defaults(result.get("components", {}).get("schemas", {}))
    result["info"]["description"] = str(DESCRIPTION)
    _add_health(result)
    used = {tag for item in result["paths"].values() for op in item.values() for tag in op["tags"]}
    # The tags in use, in this order (Swagger UI lists them so; no empty group).
    result["tags"] = [
        {"name": name, "description": str(text)} for name, text in TAGS.items() if name in used
    ]
    _declare_headers(result)
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


# --- Health ------------------------------------------------------------------------------------
def _add_health(result: dict[str, Any]) -> None:
    """``/healthz`` is a plain Django view (dutyfree.health), outside DRF's schema."""
    schemas = result["components"].setdefault("schemas", {})
    schema = HealthOut.model_json_schema(
        ref_template="#/components/schemas/{model}", mode="serialization"
    )
    schemas.update(schema.pop("$defs", {}), HealthOut=schema)
    json_answer = {"schema": {"$ref": "#/components/schemas/HealthOut"}}
    answer = {"application/json": json_answer}
    checked = {"database": {"ok": True, "ms": 0.4}, "cache": {"ok": True, "ms": 0.2}}
    example = {"Demo": {"summary": str(DEMO_SUMMARY), "value": {"status": "ok", "checks": checked}}}
    result["paths"][HEALTH_PATH] = {
        "get": {
            "operationId": "health",
            "tags": ["health"],
            "summary": _("Check that this process can serve"),
            "description": _(
                "The database and the cache, each timed. 200 when every check passes, 503 "
                "otherwise; never cached."
            ),
            "security": [],
            "responses": {
                "200": {
                    "description": _("Every check passed."),
                    "content": {
                        "application/json": {**answer["application/json"], "examples": example}
                    },
                },
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
                if status in {"200", "201"} and (method, path) in IDEMPOTENT:
                    headers["Idempotent-Replayed"] = _ref("Idempotent-Replayed")
                    if path == "/api/v1/sales":
                        headers["Location"] = _ref("Location")
                if not headers:
                    del response["headers"]
