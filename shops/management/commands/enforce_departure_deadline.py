"""``enforce_departure_deadline [--at TIME]``: what the daily Celery task does, by hand."""

from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from shops.deadline import departure_deadline_enforce


class Command(BaseCommand):
    help = (
        "Ban shoppers whose immediate or guarantee pickup has no recorded departure within "
        "the deadline (idempotent)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--at", help="Judge as of this ISO 8601 time (default now; no offset: Asia/Shanghai)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        if options["at"]:
            try:
                now = datetime.fromisoformat(options["at"])
            except ValueError as exc:
                raise CommandError(f"--at: not an ISO 8601 time: {options['at']!r}") from exc
            if timezone.is_naive(now):
                now = timezone.make_aware(now)
        report = departure_deadline_enforce(now=now)
        self.stdout.write(
            f"Checked {report.checked} sale(s); {report.overdue} overdue; "
            f"{report.banned} shopper(s) banned."
        )
