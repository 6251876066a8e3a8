"""``import_products FILE.csv [--operator CODE]``: upsert a catalogue by SKU, an operator's own
or (without ``--operator``) the island catalogue every store sells; bad rows reported by line."""

from pathlib import Path
from typing import Any, TextIO, cast

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from tqdm import tqdm

from shops.imports.products import import_products
from shops.operators.services import UnknownOperator, operator_by_code


class Command(BaseCommand):
    help = (
        "Import products (sku,name_zh,name_en,brand,category_code,retail_price,volume_ml,pieces"
        "[,immediate_kind,barcode]): a file without an optional column keeps what the products "
        "hold; an empty cell clears it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--dry-run", action="store_true", help="Check and count; write nothing."
        )
        parser.add_argument(
            "--operator",
            metavar="CODE",
            help="The operator whose own catalogue this is (its stores sell its product where "
            "the island catalogue has the same SKU); other operators' products are never "
            "touched. Without it: the island catalogue.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        try:
            operator = operator_by_code(options["operator"]) if options["operator"] else None
        except UnknownOperator as exc:
            raise CommandError(str(exc)) from exc
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}") from exc
        total = max(data.count(b"\n") - 1, 0)
        out = cast("TextIO", self.stderr._out)  # the wrapped stream, which tqdm writes to
        with tqdm(total=total, unit="row", desc="products", file=out) as bar:
            report = import_products(
                data,
                now=timezone.now(),
                dry_run=options["dry_run"],
                progress=bar.update,
                operator=operator,
            )
        for error in report.errors[:200]:
            self.stderr.write(error)
        if len(report.errors) > 200:
            self.stderr.write(f"... and {len(report.errors) - 200} more errors")
        self.stdout.write(
            f"{report.created} created, {report.updated} updated, {report.rejected} rows rejected"
            + (" (dry run: nothing written)." if options["dry_run"] else ".")
        )
        if report.errors:
            raise CommandError(
                f"{report.rejected} rows were rejected; see above."
                if report.rejected
                else "The file was refused; see above."
            )
