"""``reconcile_feed [--date D] [--max-age MINUTES]``: per endpoint, what it has not yet received
(pending, failed, since when); for customs, every sale of the day (local) that customs has not
received. Exits 1 when anything undelivered is older than ``--max-age`` (default 60), or failed."""

from datetime import date, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from quotas.rules import local_date
from shops.feed.reconcile import reconcile


class Command(BaseCommand):
    help = "What the feed has not delivered; exit 1 when anything is older than --max-age."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", type=date.fromisoformat, help="local day (default today)")
        parser.add_argument(
            "--max-age", type=int, default=60, help="minutes an undelivered event may wait"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["max_age"] < 0:
            raise CommandError("--max-age is a number of minutes, 0 or more")
        now = timezone.now()
        report = reconcile(
            day=options["date"] or local_date(now),
            max_age=timedelta(minutes=options["max_age"]),
            now=now,
        )
        if not report.endpoints:
            self.stdout.write("No endpoints: nothing to deliver.")
        for e in report.endpoints:
            oldest = (
                f", oldest undelivered from {timezone.localtime(e.oldest):%Y-%m-%d %H:%M:%S}"
                if e.oldest
                else ""
            )
            state = "" if e.enabled else " (disabled)"
            self.stdout.write(
                f"{e.endpoint} [{e.kind}]{state}: {e.pending} pending, {e.failed} failed{oldest}"
            )
            if e.missing_sales:
                self.stdout.write(
                    f"  {len(e.missing_sales)} sales of {report.day} not received by customs: "
                    + ", ".join(e.missing_sales[:50])
                    + (" …" if len(e.missing_sales) > 50 else "")
                )
        if report.late:
            raise CommandError(
                f"Undelivered events older than {options['max_age']} minutes, or failed: see above."
            )
        self.stdout.write("Everything older than the threshold was delivered.")
