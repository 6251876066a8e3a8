"""Demo data for `make run`: idempotent, deterministic.

The policies and the 12 licensed stores ship as migrations; this adds what a demo needs on top:
the catalogue of shops/data/demo_catalogue.csv (every verified category of the policy in
force), a demo terminal and a training terminal whose keys are printed, a demo shopper, two
years of sales history that the rules allow, and an administrator to log in with (only with
DEBUG on, or with explicit secrets).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from shops.demo.seed import (
    DEMO_SHOPPER,
    HISTORY_DAYS,
    load_demo_draft,
    load_demo_history,
    load_demo_products,
    load_demo_shopper,
)
from shops.models import Store, Terminal

DEMO_ADMIN = "admin"
DEMO_PASSWORD = "admin"  # noqa: S105 - printed to the developer, refused without DEBUG
DEMO_TERMINAL_PREFIX = "demo0001"
DEMO_TERMINAL_SECRET = "dutyfree-demo-terminal-not-for-production"  # noqa: S105 - DEBUG only
TRAINING_TERMINAL_PREFIX = "train0001"
TRAINING_TERMINAL_SECRET = "dutyfree-training-terminal-not-for-production"  # noqa: S105 - DEBUG only
TRAINING_TERMINAL_NAME = "培训机 / TRAINING"


@contextmanager
def _quiet_celery() -> Iterator[None]:
    """With no broker, Celery runs the tasks a sale queues in this process and logs each at
    INFO ("Task … succeeded"): hundreds of lines between the command's own. Its warnings and
    errors still show."""
    celery = logging.getLogger("celery")
    level = celery.level
    celery.setLevel(max(level, logging.WARNING))
    try:
        yield
    finally:
        celery.setLevel(level)


class Command(BaseCommand):
    help = "Load deterministic demo data (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--admin-password",
            default=os.environ.get("DEMO_ADMIN_PASSWORD"),
            help="Password of the demo administrator (default 'admin', only with DEBUG on).",
        )
        parser.add_argument(
            "--seed", type=int, default=2026, help="Random seed of the sales history."
        )
        parser.add_argument(
            "--days",
            type=int,
            default=HISTORY_DAYS,
            help=f"Days of sales history up to yesterday (default {HISTORY_DAYS}; 0: none).",
        )
        parser.add_argument(
            "--shoppers", type=int, default=6000, help="Shoppers in the history (default 6000)."
        )
        parser.add_argument(
            "--per-day",
            type=int,
            default=30,
            help="Receipts on an ordinary day of the history (default 30; peaks hold more).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        with _quiet_celery():
            self._seed(options)

    def _seed(self, options: dict[str, Any]) -> None:
        password = options["admin_password"]
        if password is None:
            if not settings.DEBUG:
                raise CommandError(
                    "Refusing to create the demo administrator with a known password while "
                    "DEBUG is off; pass --admin-password."
                )
            password = DEMO_PASSWORD
        users = get_user_model()
        user, created = users.objects.get_or_create(
            username=DEMO_ADMIN, defaults={"is_staff": True, "is_superuser": True}
        )
        if created:
            user.set_password(password)
            user.save()
            self.stdout.write(f"Created administrator {DEMO_ADMIN!r} with password {password!r}.")
        else:
            self.stdout.write(f"Administrator {DEMO_ADMIN!r} already exists.")
        added = load_demo_products()
        self.stdout.write(f"Catalogue: {added} demo products added.")
        if settings.DEBUG:
            store = Store.objects.get(code="SYA-HTB")
            Terminal.objects.get_or_create(
                key_prefix=DEMO_TERMINAL_PREFIX,
                defaults={
                    "store": store,
                    "name": "demo-1",
                    "key_hash": Terminal.hash_secret(DEMO_TERMINAL_SECRET),
                },
            )
            self.stdout.write(
                f"Demo terminal SYA-HTB/demo-1: Authorization: Bearer "
                f"df_{DEMO_TERMINAL_PREFIX}_{DEMO_TERMINAL_SECRET}"
            )
            Terminal.objects.get_or_create(
                key_prefix=TRAINING_TERMINAL_PREFIX,
                defaults={
                    "store": store,
                    "name": TRAINING_TERMINAL_NAME,
                    "key_hash": Terminal.hash_secret(TRAINING_TERMINAL_SECRET),
                    "training": True,
                },
            )
            self.stdout.write(
                f"Training terminal SYA-HTB/{TRAINING_TERMINAL_NAME} (its sales count nowhere): "
                f"Authorization: Bearer df_{TRAINING_TERMINAL_PREFIX}_{TRAINING_TERMINAL_SECRET}"
            )
            made = load_demo_shopper(now=timezone.now())
            self.stdout.write(
                f"Demo shopper ({made} new sales): look up /quota/ with "
                f"{DEMO_SHOPPER['doc_type']} {DEMO_SHOPPER['number']} {DEMO_SHOPPER['name']}"
            )
        imported, skipped = load_demo_history(
            today=timezone.localdate(),
            days=options["days"],
            seed=options["seed"],
            per_day=options["per_day"],
            shoppers=options["shoppers"],
            now=timezone.now(),
        )
        self.stdout.write(
            f"History: {imported} receipts imported, {skipped} already in "
            f"({options['days']} days; see /dashboard/)."
        )
        draft, preview = load_demo_draft(now=timezone.now())
        if preview is not None:
            self.stdout.write(
                f"Draft policy {draft} (cosmetics 10 pieces per trip), previewed against the "
                f"last 30 days: /admin/shops/policypreview/{preview}/change/"
            )
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
