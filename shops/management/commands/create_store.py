"""``create_store CODE --name NAME --city CITY [--operator CODE] [--short-name-zh …]
[--short-name-en …]``: add a store beyond the licensed twelve, run by an operator (without one,
a store of the platform's own, which only platform staff see)."""

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from shops.models import Store
from shops.operators.services import UnknownOperator, operator_by_code


class Command(BaseCommand):
    help = "Add a store."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("code", help="Upper-case code, e.g. HAK-NEW.")
        parser.add_argument("--name", required=True, help="Chinese name.")
        parser.add_argument("--name-en", default="", help="English name (default: the code).")
        parser.add_argument(
            "--short-name-zh", default="", help="Chinese short name for charts (default: the name)."
        )
        parser.add_argument(
            "--short-name-en",
            default="",
            help="English short name for charts (default: the English name).",
        )
        parser.add_argument("--city", required=True)
        parser.add_argument(
            "--operator", default="", help="The operator's code (create_operator adds one)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            operator = operator_by_code(options["operator"]) if options["operator"] else None
        except UnknownOperator as exc:
            raise CommandError(str(exc)) from exc
        store = Store(
            code=options["code"].upper(),
            name_zh=options["name"],
            name_en=options["name_en"] or options["code"].upper(),
            short_name_zh=options["short_name_zh"],
            short_name_en=options["short_name_en"],
            city=options["city"],
            operator=operator,
        )
        try:
            store.full_clean()
        except ValidationError as exc:
            raise CommandError(
                "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in exc.message_dict.items())
            ) from exc
        store.save()
        self.stdout.write(f"Store {store.code} created ({store.pk}).")
