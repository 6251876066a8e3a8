"""``create_staff_token USERNAME``: a staff user's API token for the stats API (printed alone
on the last line)."""

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser
from rest_framework.authtoken.models import Token


class Command(BaseCommand):
    help = "Create the staff user if needed and print its API token alone on the last line."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")

    def handle(self, *args: Any, **options: Any) -> None:
        users = get_user_model()
        user, created = users.objects.get_or_create(
            username=options["username"], defaults={"is_staff": True}
        )
        if created:
            user.set_unusable_password()
            user.save()
            self.stdout.write(f"Created staff user {user.username!r} (no password: token only).")
        elif not user.is_staff:
            user.is_staff = True
            user.save(update_fields=["is_staff"])
            self.stdout.write(f"User {user.username!r} is now staff.")
        token, _ = Token.objects.get_or_create(user=user)
        self.stdout.write(token.key)
