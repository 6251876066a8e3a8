"""``check_books [--no-rollups]``: prove the books on the live database (read only)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from shops.reporting import audit as books


class Command(BaseCommand):
    help = (
        "Prove the books, reading only: every quota account's used equals its ledger and its "
        "completed sales net of returns, within 0 and its limit; each sale, return and void "
        "has its ledger entry; sale totals, returns and lines add up; no trip holds more of a "
        "limited category in judged sales than the policy allows; the rollups equal the sales "
        "(slices still marked dirty are skipped and counted). Lists each difference by id and "
        "exits with an error if there is any."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--no-rollups",
            action="store_true",
            help="Leave the rollups out (the slowest check on a big database).",
        )
        parser.add_argument(
            "--limit",
            type=int,
            default=books.LIMIT,
            help=f"Differences listed per check (default {books.LIMIT}).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        report = books.check_books(
            rollups=not options["no_rollups"], limit=max(1, options["limit"])
        )
        for difference in report.differences:
            self.stdout.write(f"DIFFERENCE {difference}")
        for note in report.notes:
            self.stdout.write(f"note {note}")
        self.stdout.write(report.summary())
        if report.differences:
            raise CommandError(
                f"The books do not balance: {len(report.differences)} difference(s), see above."
            )
        self.stdout.write("The books balance.")
