"""Fixtures of the shops tests."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from tests.conftest import need_service
from tests.support import stock
from tests.support.redis_server import RedisServer, free_port


@pytest.fixture
def catalogue() -> None:
    """The point-of-sale catalogue (``tests.support.shop.CATALOGUE``): lipstick and a set of
    five, wine, a phone, watches, a pen, and products of the immediate-pickup list."""
    stock()


@pytest.fixture
def redis() -> Iterator[RedisServer]:
    """A Redis server of the test's own on a free port (a live test's broker), stopped after."""
    need_service("redis-server", shutil.which("redis-server") is not None, "apt-get install redis")
    server = RedisServer(free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()
