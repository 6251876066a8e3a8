"""``POST /api/v1/quota-lookup``: a shopper's own quota by document and name (../shared/API.md).

What it shows (limit, use, this year's purchases, open trips with their per-trip counts across
stores, a ban), what it hides (whether a document is known; the full document number), how it
refuses bad input, and how it is throttled per client address — in the shared cache, or per
process when the cache is down (dutyfree.throttle).
"""

from __future__ import annotations

import json
import time
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings
from django.core.cache import cache, caches
from django.db import connection
from django.test import Client, RequestFactory, override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dutyfree import throttle
from quotas import identity
from quotas.models import QuotaAccount, Shopper
from quotas.services import ban_lift, departure_record, shopper_ban, years_later
from shops.models import Store
from shops.pos import returns
from shops.shoppers.lookup import mask
from tests.conftest import SHANGHAI, local
from tests.support import DEPARTS, basket, captcha_answer, shopper, terminal, trip
from tests.support import commit as support_commit

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("catalogue")]

URL = "/api/v1/quota-lookup"
PROBLEM = "application/problem+json"
NUMBER = "460100199001011230"
OTHER_NUMBER = "460100198501011230"  # same last four: the masked document reads the same
UNKNOWN_NUMBER = "460100200001011230"  # nobody holds it; same last four again


# --- helpers ----------------------------------------------------------------------------------
def body(number: str = NUMBER, name: str = "张三", doc_type: str = "resident_id") -> dict:
    return {"document": {"type": doc_type, "number": number, "country": "CHN"}, "name": name}


def ask(client: Client, payload: Any = None, *, raw: bytes | None = None, **extra: Any):
    data = raw if raw is not None else json.dumps(body() if payload is None else payload)
    return client.post(URL, data, content_type="application/json", **extra)


def look_up(client: Client, payload: Any = None, **extra: Any) -> dict:
    response = ask(client, payload, **extra)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("application/json")
    return response.json()


def commit(term, b, *, now=None):
    """The sale (not the answer) of ``support.commit``."""
    return support_commit(term, b, now=now).sale


def limits_by_category(trip_body: dict) -> dict[str, tuple[str, int, int, int]]:
    return {
        limit["category"]: (limit["unit"], limit["limit"], limit["used"], limit["remaining"])
        for limit in trip_body["trip_limits"]
    }


def steady_window(seconds: int = 60, margin: float = 5.0) -> None:
    """Start a series of requests well inside one fixed window (no boundary mid-series)."""
    left = seconds - time.time() % seconds
    if left < margin:
        time.sleep(left + 0.05)


@pytest.fixture
def two_stores():
    return terminal("SYA-HTB")[0], terminal("HAK-T1")[0]


@pytest.fixture
def generous():
    """Tests that are not about throttling make more requests than the default 10/60."""
    with override_settings(QUOTA_LOOKUP_RATE="1000/60"):
        yield


# --- a match ----------------------------------------------------------------------------------
def test_a_match_shows_quota_purchases_and_the_open_trip_across_stores(
    client: Client, two_stores, generous
) -> None:
    sanya, haikou = two_stores
    first = commit(sanya, basket(("LIP", 2), ("SET5", 1), ("PHONE", 1)))
    second = commit(haikou, basket(("LIP", 1), ("WINE750", 1), ("PHONE", 1)))

    answer = look_up(client)

    assert set(answer) >= {
        "year",
        "limit",
        "used",
        "remaining",
        "banned_until",
        "purchases",
        "open_trips",
    }
    assert answer["year"] == timezone.localtime().year
    assert (answer["limit"], answer["used"], answer["remaining"]) == (
        "100000.00",
        "21758.00",  # 640 + 1600 + 8999 and 320 + 1200 + 8999
        "78242.00",
    )
    assert answer["banned_until"] is None
    assert answer["document"] == {"type": "resident_id", "masked": "****1230"}
    assert [
        {key: p[key] for key in ("receipt_no", "sold_at", "store", "amount", "status")}
        for p in answer["purchases"]
    ] == [
        {
            "receipt_no": second.receipt_no,
            "sold_at": second.sold_at.astimezone(SHANGHAI).isoformat(),
            "store": "HAK-T1",
            "amount": "10519.00",
            "status": "completed",
        },
        {
            "receipt_no": first.receipt_no,
            "sold_at": first.sold_at.astimezone(SHANGHAI).isoformat(),
            "store": "SYA-HTB",
            "amount": "11239.00",
            "status": "completed",
        },
    ]
    assert all(p["sold_at"].endswith("+08:00") for p in answer["purchases"])
    assert answer["purchases"][1]["store_name"] == Store.objects.get(code="SYA-HTB").name_zh

    (open_trip,) = answer["open_trips"]
    assert (open_trip["carrier_ref"], open_trip["departs_at"]) == (
        "HU7181",
        DEPARTS.astimezone(SHANGHAI).isoformat(),
    )
    # Both stores' sales count; the set of five counts five.
    assert limits_by_category(open_trip) == {
        "cosmetics": ("piece", 30, 8, 22),
        "alcohol": ("ml", 1500, 750, 750),
        "mobile_phones": ("piece", 4, 2, 2),
    }
    cosmetics = next(x for x in open_trip["trip_limits"] if x["category"] == "cosmetics")
    assert cosmetics["name"] == "化妆品"


def test_the_answer_follows_the_request_language(client: Client, two_stores) -> None:
    commit(two_stores[0], basket(("LIP", 1)))

    answer = look_up(client, HTTP_ACCEPT_LANGUAGE="en")

    names = {x["category"]: x["name"] for x in answer["open_trips"][0]["trip_limits"]}
    assert names["cosmetics"] == "Cosmetics"
    assert answer["purchases"][0]["store_name"] == Store.objects.get(code="SYA-HTB").name_en


def test_a_return_and_a_void_are_reflected(client: Client, two_stores, generous) -> None:
    sanya, haikou = two_stores
    kept = commit(sanya, basket(("LIP", 2), ("SET5", 1)))  # 2240.00, cosmetics 7
    voided = commit(haikou, basket(("PHONE", 1), ("LIP", 1)))  # 9319.00
    assert look_up(client)["used"] == "11559.00"

    lip = kept.lines.get(sku="LIP")
    returns.sale_return(
        terminal=sanya,
        sale_id=kept.pk,
        idempotency_key="ret-1",
        fingerprint="fp-ret-1",
        lines=[(lip.pk, 1)],
        reason="",
        now=timezone.now(),
    )
    returns.sale_void(terminal=haikou, sale_id=voided.pk, now=timezone.now())

    answer = look_up(client)

    assert (answer["used"], answer["remaining"]) == ("1920.00", "98080.00")
    purchases = {p["receipt_no"]: p for p in answer["purchases"]}
    assert (purchases[voided.receipt_no]["status"], purchases[voided.receipt_no]["counted"]) == (
        "voided",
        "0.00",
    )
    assert purchases[kept.receipt_no]["status"] == "completed"
    assert (purchases[kept.receipt_no]["returned"], purchases[kept.receipt_no]["counted"]) == (
        "320.00",
        "1920.00",
    )
    assert limits_by_category(answer["open_trips"][0]) == {
        "cosmetics": ("piece", 30, 6, 24),
        "alcohol": ("ml", 1500, 0, 1500),
        "mobile_phones": ("piece", 4, 0, 4),
    }


# --- nothing reveals whether a document is known ---------------------------------------------
def test_a_non_match_answers_exactly_like_a_shopper_without_purchases_this_year(
    client: Client, two_stores, generous
) -> None:
    sanya, _ = two_stores
    commit(sanya, basket(("LIP", 2), ("PHONE", 1)))
    # Another shopper (same last four) bought only last year, for a trip long gone.
    last_year = timezone.localtime().year - 1
    commit(
        sanya,
        basket(
            ("LIP", 1),
            who=shopper(OTHER_NUMBER, name="王五"),
            on=trip(departs_at=local(last_year, 12, 3, 10, 0)),
        ),
        now=local(last_year, 12, 1, 12, 0),
    )

    unknown = ask(client, body(UNKNOWN_NUMBER))
    wrong_name = ask(client, body(NUMBER, name="李四"))
    wrong_type = ask(client, body(NUMBER, doc_type="passport"))
    nothing_this_year = ask(client, body(OTHER_NUMBER, name="王五"))
    match = look_up(client)

    for response in (unknown, wrong_name, wrong_type, nothing_this_year):
        assert response.status_code == 200
        assert response["Content-Type"] == unknown["Content-Type"]
        assert response["Cache-Control"] == "no-store"
    assert unknown.json() == wrong_name.json() == nothing_this_year.json()
    assert unknown.content == wrong_name.content == nothing_this_year.content
    assert unknown.json() == {
        "year": timezone.localtime().year,
        "limit": "100000.00",
        "used": "0.00",
        "remaining": "100000.00",
        "banned_until": None,
        "document": {"type": "resident_id", "masked": "****1230"},
        "purchases": [],
        "open_trips": [],
    }
    assert wrong_type.json() == unknown.json() | {
        "document": {"type": "passport", "masked": "****1230"}
    }
    assert match["used"] == "9639.00"  # the known document with its name does match
    assert len(match["purchases"]) == 1


def test_a_non_match_runs_the_same_statements_as_a_match(
    client: Client, two_stores, generous
) -> None:
    commit(two_stores[0], basket(("LIP", 1)))
    counted = []
    for payload in (body(), body(name="李四"), body(UNKNOWN_NUMBER)):
        with CaptureQueriesContext(connection) as queries:
            assert ask(client, payload).status_code == 200
        counted.append(len(queries))

    assert counted[0] == counted[1] == counted[2]
    assert counted[0] > 0


@pytest.mark.parametrize(
    "name",
    ["Zhang San", "zhang san", "  ZHANG   SAN  ", "ＺＨＡＮＧ　ＳＡＮ", "Zhang\tSan"],
)
def test_the_name_match_is_normalised(client: Client, two_stores, name: str) -> None:
    commit(two_stores[0], basket(("LIP", 1), who=shopper(name="Zhang San")))

    answer = look_up(client, body(name=name))

    assert answer["used"] == "320.00"
    assert len(answer["purchases"]) == 1


def test_a_different_name_does_not_match(client: Client, two_stores) -> None:
    commit(two_stores[0], basket(("LIP", 1), who=shopper(name="Zhang San")))

    assert look_up(client, body(name="Zhang Shan"))["purchases"] == []
    assert look_up(client, body(name="ZhangSan"))["purchases"] == []


def test_the_document_number_is_normalised(client: Client, two_stores) -> None:
    commit(two_stores[0], basket(("LIP", 1)))

    answer = look_up(client, body("４６０１００ 1990-0101 1230"))

    assert answer["used"] == "320.00"
    assert answer["document"]["masked"] == "****1230"


def test_the_document_number_never_appears_in_full(client: Client, two_stores, generous) -> None:
    commit(two_stores[0], basket(("LIP", 1)))

    answers = [
        ask(client, body(NUMBER)),
        ask(client, body(UNKNOWN_NUMBER)),
        ask(client, body(NUMBER, name="李四")),
        ask(client, body(NUMBER[:-1] + "Y")),  # refused: a resident ID ends in a digit or X
    ]

    assert [r.status_code for r in answers] == [200, 200, 200, 400]
    for response in answers:
        text = response.content.decode()
        for number in (NUMBER, UNKNOWN_NUMBER, NUMBER[:-1] + "Y"):
            assert number not in text
            assert number[:12] not in text
    assert answers[0].json()["document"]["masked"] == "****1230"
    assert mask("4601 0019-9001 01123x") == "****123X"


# --- bans, trips, years -----------------------------------------------------------------------
def test_a_ban_in_force_shows_its_end_and_a_lifted_or_ended_one_does_not(
    client: Client, two_stores, generous
) -> None:
    commit(two_stores[0], basket(("LIP", 1)))
    shopper_id = Shopper.objects.get().pk
    start = timezone.now() - timedelta(days=1)
    ban, _ = shopper_ban(
        shopper_id=shopper_id, reason="resale", starts_at=start, years=3, now=timezone.now()
    )

    answer = look_up(client)

    ends = years_later(start, 3)
    assert answer["banned_until"] == ends.astimezone(SHANGHAI).isoformat()
    assert answer["banned_until"].endswith("+08:00")
    # A wrong name reveals nothing of the ban.
    assert look_up(client, body(name="李四"))["banned_until"] is None

    ban_lift(ban_id=ban.pk, reason="Appeal granted", now=timezone.now())
    assert look_up(client)["banned_until"] is None


def test_an_ended_ban_shows_null(client: Client, two_stores) -> None:
    commit(two_stores[0], basket(("LIP", 1)))
    now = timezone.now()
    shopper_ban(
        shopper_id=Shopper.objects.get().pk,
        reason="customs_decision",
        starts_at=now - timedelta(days=3 * 365),
        ends_at=now - timedelta(minutes=1),
        now=timezone.now(),
    )
    assert Shopper.objects.get().banned_until is not None  # kept on file...

    assert look_up(client)["banned_until"] is None  # ...but no longer in force


def test_a_departed_trip_is_not_an_open_trip(client: Client, two_stores) -> None:
    sanya, _ = two_stores
    soon = (timezone.now() + timedelta(hours=6)).replace(second=0, microsecond=0)
    commit(sanya, basket(("LIP", 1), on=trip("HU7181", departs_at=soon)))
    commit(sanya, basket(("LIP", 3), on=trip("CZ6789")))
    assert [t["carrier_ref"] for t in look_up(client)["open_trips"]] == ["HU7181", "CZ6789"]

    departure_record(
        doc_type="resident_id",
        country="CHN",
        number=NUMBER,
        carrier_ref="HU7181",
        departed_at=soon,
        now=soon,  # recorded once the shopper has left
    )

    answer = look_up(client)
    assert [t["carrier_ref"] for t in answer["open_trips"]] == ["CZ6789"]
    assert limits_by_category(answer["open_trips"][0])["cosmetics"] == ("piece", 30, 3, 27)
    assert len(answer["purchases"]) == 2  # the purchases stay


def test_only_this_years_purchases_are_listed(client: Client, two_stores) -> None:
    sanya, _ = two_stores
    last_year = timezone.localtime().year - 1
    old = commit(
        sanya,
        basket(("PHONE", 1), on=trip(departs_at=local(last_year, 12, 30, 10, 0))),
        now=local(last_year, 12, 29, 12, 0),
    )
    new = commit(sanya, basket(("LIP", 1)))

    answer = look_up(client)

    assert [p["receipt_no"] for p in answer["purchases"]] == [new.receipt_no]
    assert old.receipt_no not in json.dumps(answer)
    assert answer["used"] == "320.00"
    assert QuotaAccount.objects.get(year=last_year).used == Decimal("8999.00")


# --- bad input --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "code", "field"),
    [
        pytest.param({"document": body()["document"]}, "invalid_input", "name", id="no-name"),
        pytest.param(body(name="   "), "invalid_input", "name", id="blank-name"),
        pytest.param(body(name="张" * 10_000), "invalid_input", "name", id="10000-char-name"),
        pytest.param(
            body(doc_type="driving_licence"), "invalid_input", "document.type", id="doc-type"
        ),
        pytest.param(
            body("46010019900101<12>"), "invalid_input", "document.number", id="number-chars"
        ),
        pytest.param(body("12"), "invalid_input", "document.number", id="number-short"),
        pytest.param({"name": "张三"}, "invalid_input", "document", id="no-document"),
        pytest.param(b'{"document": ', "malformed_request", None, id="truncated-json"),
        pytest.param(b"name=zhang", "malformed_request", None, id="not-json"),
        pytest.param(b"[1, 2]", "invalid_input", None, id="json-array"),
    ],
)
def test_bad_input_is_a_400_problem_with_errors(
    client: Client, raw: Any, code: str, field: str | None
) -> None:
    data = raw if isinstance(raw, bytes) else json.dumps(raw).encode()

    response = ask(client, raw=data)

    assert response.status_code == 400
    assert response["Content-Type"] == PROBLEM
    problem = response.json()
    assert (problem["status"], problem["code"]) == (400, code)
    assert problem["type"].endswith(code)
    assert isinstance(problem["errors"], dict)
    assert problem["errors"]
    if field is not None:
        assert field in problem["errors"], problem["errors"]
    assert len(response.content) < 5000  # a 10,000-character name is not echoed


def test_a_body_that_is_not_json_typed_is_refused(client: Client) -> None:
    response = client.post(URL, "name=zhang", content_type="text/plain")

    assert response.status_code == 415
    assert response["Content-Type"] == PROBLEM
    assert response.json()["code"] == "unsupported_media_type"


# --- throttling -------------------------------------------------------------------------------
@override_settings(QUOTA_LOOKUP_RATE="3/60")
def test_the_fourth_request_in_a_window_is_throttled(client: Client) -> None:
    steady_window()
    statuses = [ask(client).status_code for _ in range(3)]

    throttled = ask(client)
    elsewhere = ask(client, REMOTE_ADDR="198.51.100.23")

    assert statuses == [200, 200, 200]
    assert throttled.status_code == 429
    assert throttled["Content-Type"] == PROBLEM
    assert (throttled.json()["status"], throttled.json()["code"]) == (429, "throttled")
    assert 1 <= int(throttled["Retry-After"]) <= 60
    assert elsewhere.status_code == 200


@override_settings(QUOTA_LOOKUP_RATE="3/60")
def test_every_request_counts_valid_or_not(client: Client) -> None:
    steady_window()
    bad = [ask(client, raw=b"{").status_code, ask(client, {"name": ""}).status_code]
    good = ask(client).status_code

    assert (bad, good) == ([400, 400], 200)
    assert ask(client).status_code == 429


@override_settings(QUOTA_LOOKUP_RATE="3/60")
def test_the_page_and_the_api_share_one_count(client: Client) -> None:
    steady_window()
    pages = [client.post("/quota/", {"doc_type": "resident_id"}).status_code for _ in range(2)]

    assert pages == [400, 400]
    assert ask(client).status_code == 200
    assert ask(client).status_code == 429
    assert client.post("/quota/", {"doc_type": "resident_id"}).status_code == 429


# --- per document, across every address ------------------------------------------------------
def addresses(count: int) -> list[str]:
    return [f"198.51.{n // 250}.{n % 250 + 1}" for n in range(count)]


@override_settings(QUOTA_LOOKUP_RATE="10/60", QUOTA_LOOKUP_DOCUMENT_RATE="5/600")
@pytest.mark.parametrize(
    ("language", "title"), [("en", "Too many requests"), ("zh-hans", "请求过于频繁")]
)
def test_one_document_from_150_addresses_is_throttled_after_five(
    client: Client, language: str, title: str
) -> None:
    """Guessing a known person's name from many addresses: each address is well within its
    own limit, the document is not."""
    steady_window(600)
    guesses = [
        ask(client, body(name=f"张{n}"), REMOTE_ADDR=address, HTTP_ACCEPT_LANGUAGE=language)
        for n, address in enumerate(addresses(150))
    ]
    statuses = [response.status_code for response in guesses]

    assert statuses == [200] * 5 + [429] * 145
    refused = guesses[5]
    assert refused["Content-Type"] == PROBLEM
    problem = refused.json()
    assert (problem["status"], problem["code"], problem["title"]) == (429, "throttled", title)
    assert 1 <= int(refused["Retry-After"]) <= 600
    # Another document, from the same addresses, is answered.
    assert ask(client, body(OTHER_NUMBER), REMOTE_ADDR=addresses(1)[0]).status_code == 200


@override_settings(QUOTA_LOOKUP_DOCUMENT_RATE="2/600")
def test_the_document_is_counted_under_its_keyed_hmac_never_the_number(client: Client) -> None:
    steady_window(600)
    written: list[str] = []
    real_hit = throttle.hit

    def spy(scope: str, ident: str, *args: Any, **kwargs: Any) -> throttle.Verdict:
        written.append(f"{scope}:{ident}")
        return real_hit(scope, ident, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(throttle, "hit", spy)
        # The same document written two ways is one document.
        statuses = [
            ask(client, body(number), REMOTE_ADDR=address).status_code
            for number, address in zip((NUMBER, NUMBER.lower(), NUMBER), addresses(3), strict=True)
        ]

    assert statuses == [200, 200, 429]
    assert not [key for key in written if NUMBER in key]
    key = identity.document_key(doc_type="resident_id", country="CHN", number=NUMBER)
    assert f"quota-lookup-document:{key}" in written


@override_settings(QUOTA_LOOKUP_DOCUMENT_RATE="3/600")
def test_the_page_and_the_api_share_the_count_per_document(client: Client) -> None:
    steady_window(600)
    assert [ask(client, REMOTE_ADDR=a).status_code for a in addresses(2)] == [200, 200]
    form = {"doc_type": "resident_id", "country": "CHN", "number": NUMBER, "name": "张三"}
    page = client.post("/quota/", {**form, **captcha_answer(client)}, REMOTE_ADDR="203.0.113.9")
    assert page.status_code == 200
    refused = client.post("/quota/", {**form, **captcha_answer(client)}, REMOTE_ADDR="203.0.113.10")
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) >= 1
    assert ask(client, REMOTE_ADDR="203.0.113.11").status_code == 429


def test_the_default_document_rate_is_the_documented_one() -> None:
    assert throttle.Rate.parse(settings.QUOTA_LOOKUP_DOCUMENT_RATE) == throttle.Rate(5, 600)


@override_settings(QUOTA_LOOKUP_RATE="2/60", TRUSTED_PROXIES=1)
def test_behind_one_proxy_the_last_forwarded_address_is_the_client(client: Client) -> None:
    steady_window()
    proxy = {"REMOTE_ADDR": "10.0.0.1"}

    first = ask(client, HTTP_X_FORWARDED_FOR="203.0.113.5", **proxy)
    second = ask(client, HTTP_X_FORWARDED_FOR="198.51.100.1, 203.0.113.5", **proxy)
    # A client cannot escape by prepending addresses: the proxy appended the real one.
    spoofed = ask(client, HTTP_X_FORWARDED_FOR="192.0.2.99, 203.0.113.5", **proxy)
    another = ask(client, HTTP_X_FORWARDED_FOR="203.0.113.5, 203.0.113.6", **proxy)

    assert [r.status_code for r in (first, second, spoofed, another)] == [200, 200, 429, 200]


@override_settings(QUOTA_LOOKUP_RATE="2/60", TRUSTED_PROXIES=0)
def test_without_trusted_proxies_forwarded_for_is_ignored(client: Client) -> None:
    steady_window()
    statuses = [ask(client, HTTP_X_FORWARDED_FOR=f"203.0.113.{n}").status_code for n in range(1, 4)]

    assert statuses == [200, 200, 429]


@pytest.mark.parametrize(
    ("proxies", "meta", "expected"),
    [
        (0, {"REMOTE_ADDR": "10.0.0.1", "HTTP_X_FORWARDED_FOR": "1.1.1.1"}, "10.0.0.1"),
        (1, {"REMOTE_ADDR": "10.0.0.1", "HTTP_X_FORWARDED_FOR": "1.1.1.1, 2.2.2.2"}, "2.2.2.2"),
        (2, {"REMOTE_ADDR": "10.0.0.1", "HTTP_X_FORWARDED_FOR": "1.1.1.1, 2.2.2.2"}, "1.1.1.1"),
        (2, {"REMOTE_ADDR": "10.0.0.1", "HTTP_X_FORWARDED_FOR": "2.2.2.2"}, "10.0.0.1"),
        (1, {"REMOTE_ADDR": "10.0.0.1", "HTTP_X_FORWARDED_FOR": " , "}, "10.0.0.1"),
        (1, {"REMOTE_ADDR": "10.0.0.1"}, "10.0.0.1"),
        (0, {"REMOTE_ADDR": ""}, "unknown"),
    ],
)
def test_client_address(proxies: int, meta: dict, expected: str) -> None:
    request = RequestFactory().get("/", **meta)
    with override_settings(TRUSTED_PROXIES=proxies):
        assert throttle.client_address(request) == expected


class _Down:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        raise ConnectionError("Error 111 connecting to redis. Connection refused.")


@override_settings(QUOTA_LOOKUP_RATE="3/60")
def test_when_the_cache_fails_requests_answer_and_the_limit_holds_per_process(
    client: Client, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    throttle.reset_fallback()
    down = _Down()
    monkeypatch.setattr(throttle.cache, "add", down)
    monkeypatch.setattr(throttle.cache, "incr", down)
    steady_window()

    statuses = [ask(client).status_code for _ in range(4)]
    elsewhere = ask(client, REMOTE_ADDR="198.51.100.77")

    assert statuses == [200, 200, 200, 429]
    assert elsewhere.status_code == 200
    assert down.calls >= 5  # the shared cache really was asked, and failed
    assert "counting in this process" in caplog.text
    throttle.reset_fallback()


def test_a_key_that_expires_between_add_and_incr_restarts_at_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rate = throttle.Rate(5, 60)

    def gone(*args: Any, **kwargs: Any) -> int:
        raise ValueError("Key not found")

    monkeypatch.setattr(throttle.cache, "incr", gone)
    verdict = throttle.hit("expiry", "192.0.2.1", rate, now=6000.0)
    monkeypatch.undo()

    assert (verdict.allowed, verdict.count) == (True, 1)
    assert cache.get("throttle:expiry:192.0.2.1:100") == 1
    assert throttle.hit("expiry", "192.0.2.1", rate, now=6001.0).count == 2


# --- throttle.hit and Rate.parse --------------------------------------------------------------
def test_hit_counts_per_fixed_window() -> None:
    rate = throttle.Rate(2, 60)

    verdicts = [
        throttle.hit("unit", "192.0.2.7", rate, now=now)
        for now in (600.0, 630.5, 659.9, 660.0, 661.0, 719.0, 720.0)
    ]

    assert [(v.allowed, v.count, v.retry_after) for v in verdicts] == [
        (True, 1, 60),
        (True, 2, 30),  # ceil(29.5)
        (False, 3, 1),  # 0.1 s left: never 0
        (True, 1, 60),  # a new window
        (True, 2, 59),
        (False, 3, 1),
        (True, 1, 60),
    ]
    # Other clients and scopes have their own counts.
    assert throttle.hit("unit", "192.0.2.8", rate, now=659.9).count == 1
    assert throttle.hit("other", "192.0.2.7", rate, now=659.9).count == 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [("10/60", (10, 60)), ("3/1", (3, 1)), ("5", (5, 60)), ("5/", (5, 60)), (" 7/30", (7, 30))],
)
def test_rate_parse(text: str, expected: tuple[int, int]) -> None:
    rate = throttle.Rate.parse(text)
    assert (rate.limit, rate.seconds) == expected


@pytest.mark.parametrize(
    "text", ["0/60", "-1/60", "10/0", "10/-5", "", "ten/60", "10/minute", "1.5/60", "10/60/2"]
)
def test_rate_parse_refuses_nonsense(text: str) -> None:
    with pytest.raises(ValueError, match=r".+"):
        throttle.Rate.parse(text)


def test_the_default_rate_is_the_documented_one() -> None:
    assert throttle.Rate.parse(settings.QUOTA_LOOKUP_RATE) == throttle.Rate(10, 60)


# --- Redis: one count for every process -------------------------------------------------------
@pytest.mark.redis
def test_the_count_is_shared_through_redis(require_redis: None, client: Client) -> None:
    import redis

    rate = throttle.Rate(5, 60)
    now = 1_800_000_010.0
    key = f"throttle:shared:203.0.113.9:{int(now // 60)}"

    counts = [throttle.hit("shared", "203.0.113.9", rate, now=now).count for _ in range(3)]

    assert counts == [1, 2, 3]
    assert cache.get(key) == 3
    # Another process has its own client: a fresh connection sees the same count...
    other = caches.create_connection("default")
    assert other.get(key) == 3
    assert other.incr(key) == 4
    assert throttle.hit("shared", "203.0.113.9", rate, now=now + 1).count == 5
    # ...and it lives in Redis itself, expiring after the window.
    raw = redis.Redis.from_url(settings.REDIS_URL)
    assert raw.get(cache.make_key(key)) == b"5"
    assert 0 < raw.ttl(cache.make_key(key)) <= 61

    with override_settings(QUOTA_LOOKUP_RATE="2/60"):
        steady_window()
        statuses = [ask(client, REMOTE_ADDR="203.0.113.44").status_code for _ in range(3)]
        window = int(time.time() // 60)
    assert statuses == [200, 200, 429]
    assert cache.get(f"throttle:quota-lookup:203.0.113.44:{window}") == 3
