"""Demo data for `make run`: idempotent, deterministic.

The policies ship as migrations; this adds what a demo needs on top: an administrator to log in
with (only with DEBUG on, or with an explicit --admin-password).
"""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

DEMO_ADMIN = "admin"
DEMO_PASSWORD = "admin"  # noqa: S105 - printed to the developer, refused without DEBUG


class Command(BaseCommand):
    help = "Load deterministic demo data (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--admin-password",
            default=os.environ.get("DEMO_ADMIN_PASSWORD"),
            help="Password of the demo administrator (default 'admin', only with DEBUG on).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
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
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
