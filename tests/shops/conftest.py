"""Fixtures of the shops tests."""

from __future__ import annotations

import pytest

from tests.support import stock


@pytest.fixture
def catalogue() -> None:
    """The point-of-sale catalogue (``tests.support.shop.CATALOGUE``): lipstick and a set of
    five, wine, a phone, watches, a pen, and products of the immediate-pickup list."""
    stock()
