"""``rebuild_stats [--start DATE --end DATE]``: recompute the sales rollups from the sales."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from tqdm import tqdm

from shops.management.arguments import local_day
from shops.reporting import rollups


class Command(BaseCommand):
    help = (
        "Recompute the daily sales rollups from source: of a date range (each month in one "
        "transaction), or with no range everything in one transaction. Safe to re-run or "
        "interrupt."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--start", help="First local date (default: the first sale).")
        parser.add_argument("--end", help="Last local date (default: the last sale).")
        parser.add_argument(
            "--step-days", type=int, default=31, help="Days per transaction of a range (31)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["start"] and not options["end"]:
            with tqdm(total=3, unit="step", desc="rebuild all", disable=None) as bar:
                rows = rollups.rebuild_all(now=timezone.now(), progress=bar.update)
            self.stdout.write(f"Rebuilt all days: {rows} store-day rows.")
            return
        found = rollups.sales_date_range()
        start = local_day(options["start"]) if options["start"] else (found[0] if found else None)
        end = local_day(options["end"]) if options["end"] else (found[1] if found else None)
        if start is None or end is None:
            self.stdout.write("No sales: nothing to rebuild.")
            return
        if end < start:
            raise CommandError("--end is before --start.")
        with tqdm(total=(end - start).days + 1, unit="day", desc="rebuild", disable=None) as bar:
            rows = rollups.rebuild(
                start=start,
                end=end,
                step_days=max(1, options["step_days"]),
                progress=bar.update,
                now=timezone.now(),
            )
        self.stdout.write(f"Rebuilt {start} – {end}: {rows} store-day rows.")
