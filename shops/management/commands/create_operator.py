"""``create_operator CODE --name NAME [--name-en NAME]``: add an operator, a company licensed to
run stores; its stores come with ``create_store … --operator CODE``, its people with
``create_staff_token USERNAME --operator CODE``."""

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from shops.operators.services import create_operator


class Command(BaseCommand):
    help = "Add an operator (a company that runs stores)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("code", help="Upper-case code, e.g. CDFG.")
        parser.add_argument("--name", required=True, help="Chinese name.")
        parser.add_argument("--name-en", default="", help="English name (default: the name).")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            operator = create_operator(
                code=options["code"], name_zh=options["name"], name_en=options["name_en"]
            )
        except ValidationError as exc:
            raise CommandError(
                "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in exc.message_dict.items())
            ) from exc
        self.stdout.write(f"Operator {operator.code} created ({operator.pk}).")
