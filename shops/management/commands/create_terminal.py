"""``create_terminal --store CODE --name NAME [--training]``: prints the key once, alone on the
last line."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from shops.models import Store, Terminal
from shops.pos.terminals import terminal_create


class Command(BaseCommand):
    help = "Create a point-of-sale terminal and print its API key (shown once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--store", required=True, help="Store code, e.g. SYA-HTB.")
        parser.add_argument("--name", required=True, help="Terminal name, unique in the store.")
        parser.add_argument(
            "--training",
            action="store_true",
            help="A terminal for training cashiers: its sales touch no shopper's quota, no "
            "dashboard, no audit and no event feed.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        store = Store.objects.filter(code=options["store"].upper()).first()
        if store is None:
            codes = ", ".join(Store.objects.order_by("code").values_list("code", flat=True))
            raise CommandError(f"No store {options['store']!r}. Stores: {codes}")
        name = options["name"].strip()
        if not name or len(name) > 100:
            raise CommandError("The name has 1 to 100 characters.")
        if Terminal.objects.filter(store=store, name=name).exists():
            raise CommandError(f"Store {store.code} already has a terminal named {name!r}.")
        terminal, key = terminal_create(store=store, name=name, training=options["training"])
        kind = "Training terminal" if terminal.training else "Terminal"
        self.stderr.write(
            f"{kind} {terminal.pk} ({store.code}/{name}) created. Its key is shown once, "
            "below; only a hash is stored."
        )
        self.stdout.write(key)
