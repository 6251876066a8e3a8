"""``enforce_departure_deadline [--at TIME]``: what the daily Celery task does, by hand.

``--at`` judges as of an earlier time (a run the task missed); never a later one. A run as of
a later time would judge deadlines that have not come: it would ban shoppers who may still
leave in time, with bans starting on that date. There is no such use (the daily task judges
each deadline once it has passed, with the departures recorded by then), so it is refused
rather than offered behind a ``--force``.
"""

from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from quotas.rules import LOCAL_TZ
from shops.pos.deadline import departure_deadline_enforce


def _local(at: datetime) -> str:
    return f"{at.astimezone(LOCAL_TZ):%Y-%m-%d %H:%M:%S} (Asia/Shanghai)"


class Command(BaseCommand):
    help = (
        "Ban shoppers whose immediate or guarantee pickup has no recorded departure within "
        "the deadline (idempotent)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--at",
            help="Judge as of this earlier ISO 8601 time, to catch up on a missed run (default "
            "now; no offset: Asia/Shanghai). A time later than now is refused.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        at = now
        if options["at"]:
            try:
                at = datetime.fromisoformat(options["at"])
            except ValueError as exc:
                raise CommandError(f"--at: not an ISO 8601 time: {options['at']!r}") from exc
            if timezone.is_naive(at):
                at = timezone.make_aware(at, LOCAL_TZ)
            if at > now:
                raise CommandError(
                    f"--at {_local(at)} is later than now ({_local(now)}). A run judges "
                    "deadlines that have passed: as of a later time it would ban shoppers who "
                    "may still leave in time. Nothing was done. Give a time not later than "
                    "now, or leave --at out."
                )
        report = departure_deadline_enforce(now=at)
        self.stdout.write(
            f"Checked {report.checked} sale(s); {report.overdue} overdue; "
            f"{report.banned} shopper(s) banned."
        )
