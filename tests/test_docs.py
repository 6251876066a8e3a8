"""The project's own docs say what the code does, where a machine can check it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.management import get_commands
from django.urls import URLPattern, URLResolver, get_resolver

from quotas import rules

ROOT = Path(__file__).resolve().parent.parent
API = (ROOT / "docs" / "API.md").read_text(encoding="utf-8")
ARCHITECTURE = (ROOT / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _api_routes() -> list[str]:
    """Every route under /api/v1/, written as the docs write it (``{id}`` for a parameter)."""
    (api,) = (p for p in get_resolver().url_patterns if str(p.pattern) == "api/v1/")
    assert isinstance(api, URLResolver)
    routes = []
    for pattern in api.url_patterns:
        assert isinstance(pattern, URLPattern)
        path = re.sub(r"<(?:\w+:)?(\w+)>", "{id}", str(pattern.pattern))
        routes.append(f"/api/v1/{path}")
    return routes


@pytest.mark.parametrize("route", _api_routes())
def test_every_api_route_is_in_the_contract(route: str) -> None:
    assert route in API, f"{route} is served but docs/API.md does not describe it"


def test_every_command_of_ours_is_documented() -> None:
    ours = sorted(name for name, app in get_commands().items() if app in ("shops", "quotas"))
    assert ours, "no project command found"
    missing = [name for name in ours if f"`{name}" not in API + ARCHITECTURE]
    assert not missing, f"commands missing from docs/: {missing}"


def test_every_violation_code_is_in_the_contract() -> None:
    codes = set(rules.CODES)
    assert {"underage", "annual_quota_exceeded"} <= codes
    missing = sorted(code for code in codes if f"`{code}`" not in API)
    assert not missing, f"violation codes missing from docs/API.md: {missing}"


def test_the_readme_links_only_inside_the_repository() -> None:
    outside = re.findall(r"\.\./[\w./-]+", README)
    assert not outside, f"README points outside the checkout: {outside}"
    for link in re.findall(r"\]\(([^)#]+)\)", README):
        if "://" in link:
            continue
        assert (ROOT / link).exists(), f"README links to {link}, which is not in the repository"
