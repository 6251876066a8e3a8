"""Smoke test of the browser-test set-up: the system Chromium renders the live Swagger UI."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connections


@pytest.mark.django_db(transaction=True)
def test_swagger_ui_renders_from_the_live_server(live_server: Any, page: Any, tmp_path: Path):
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    response = page.goto(live_server.url + "/api/docs/")

    assert response is not None
    assert response.status == 200
    api_title = settings.SPECTACULAR_SETTINGS["TITLE"]
    assert api_title in page.title()
    # Rendered by the Swagger UI bundle (static files from the sidecar) from /api/schema/.
    info_title = page.locator(".swagger-ui .info .title")
    info_title.wait_for(state="visible")
    assert api_title in info_title.inner_text()
    page.locator(".swagger-ui .opblock").first.wait_for(state="visible")
    assert errors == []

    screenshot = tmp_path / "swagger-ui.png"
    page.screenshot(path=str(screenshot), full_page=True)
    assert screenshot.is_file()
    assert screenshot.stat().st_size > 0
    assert screenshot.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_the_thread_keeps_its_database_connections_while_playwright_runs(browser: Any):
    """Playwright's event loop runs in this thread; Django must not switch connection objects."""
    loop = asyncio.get_running_loop()  # Playwright's, until the session ends
    seen_with_loop = {alias: connections[alias] for alias in connections}
    asyncio._set_running_loop(None)
    try:
        seen_without_loop = {alias: connections[alias] for alias in connections}
    finally:
        asyncio._set_running_loop(loop)
    assert all(seen_with_loop[alias] is seen_without_loop[alias] for alias in connections)
