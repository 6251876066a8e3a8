"""What the books say: ``check_books`` as the operator runs it, and the rollups as rows."""

from __future__ import annotations

import io

from django.core.management import CommandError, call_command

from shops.models import DailyCategorySales, DailyStoreSales


def check(**options: bool) -> tuple[str, str | None]:
    """Run check_books: (stdout, the CommandError's message or None)."""
    out = io.StringIO()
    args = ["--no-rollups"] if options.get("no_rollups") else []
    try:
        call_command("check_books", *args, stdout=out)
    except CommandError as exc:
        return out.getvalue(), str(exc)
    return out.getvalue(), None


def rollup_snapshot() -> tuple[list, list]:
    """Every row of both rollups, sorted: two rebuilds agree when their snapshots are equal."""
    categories = sorted(
        DailyCategorySales.objects.values_list(
            "day", "store_id", "category_code", "traveller_kind", "amount", "items", "sales"
        )
    )
    stores = sorted(
        (d, s, k, a, i, n, bytes(sh), bytes(tr), bytes(tl))
        for d, s, k, a, i, n, sh, tr, tl in DailyStoreSales.objects.values_list(
            "day", "store_id", "traveller_kind", "amount", "items", "sales", "shoppers",
            "trips", "tripless_shoppers",
        )
    )  # fmt: skip
    return categories, stores
