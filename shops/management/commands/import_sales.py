"""``import_sales FILE.csv [--dry-run] [--operator CODE]``: historical receipts from a legacy
system; with ``--operator``, an operator's own file: a row of another operator's store is an
error on its line."""

from pathlib import Path
from typing import Any, TextIO, cast

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from tqdm import tqdm

from shops.imports.batching import import_sales
from shops.imports.reading import COLUMNS, WORKERS
from shops.operators.services import UnknownOperator, operator_by_code

MAX_SHOWN = 200


class Command(BaseCommand):
    help = (
        "Import historical sales: one CSV row per sale line, UTF-8, header "
        f"{','.join(COLUMNS)} (and optionally doc_country, default CHN). Receipts already in "
        "the database are skipped. A receipt with a "
        "malformed row, or one that would take its shopper over the annual quota, is rejected "
        "whole and reported by line number; the other receipts are written all the same, and "
        "the command then exits with an error (status 1) if any receipt was rejected."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Check everything (quota included) and print the summary; write nothing.",
        )
        parser.add_argument(
            "--operator",
            default="",
            help="The operator whose file this is: a row of another operator's store is an "
            "error on its line (default: the platform's, any store).",
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=WORKERS,
            help=f"PostgreSQL connections writing at once, each for its own shoppers "
            f"(default {WORKERS}).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        dry_run: bool = options["dry_run"]
        try:
            operator = operator_by_code(options["operator"]) if options["operator"] else None
        except UnknownOperator as exc:
            raise CommandError(str(exc)) from exc
        try:
            total = max(_count_lines(path) - 1, 0)  # for the progress bar; not the header
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}") from exc
        # To stderr; drawn only on a terminal (disable=None), so logs and pipes stay clean.
        out = cast("TextIO", self.stderr._out)  # the wrapped stream, which tqdm writes to
        with tqdm(total=total, unit="line", desc="sales", file=out, disable=None) as bar:
            report = import_sales(
                path,
                dry_run=dry_run,
                progress=bar.update,
                workers=options["workers"],
                now=timezone.now(),
                operator=operator,
            )
        for message in report.errors[:MAX_SHOWN]:
            self.stderr.write(message)
        if len(report.errors) > MAX_SHOWN:
            self.stderr.write(f"... and {len(report.errors) - MAX_SHOWN} more errors")
        for note in report.notes[:MAX_SHOWN]:
            self.stderr.write(note)
        if report.refused:
            raise CommandError("The file was refused; nothing was written.")
        self.stdout.write(report.summary())
        if report.rejected:
            raise CommandError(
                f"{report.rejected} receipt(s) rejected; see above."
                + (
                    " Nothing was written (dry run)."
                    if dry_run
                    else " The other receipts were written."
                )
            )


def _count_lines(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))
