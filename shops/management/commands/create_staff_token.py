"""``create_staff_token USERNAME [--operator CODE] [--days N] [--promote] [--revoke]``: a new API
token for a staff user's stats API access, printed once, alone on the last line. A new user
given ``--operator`` works for that operator and sees only its stores; without it, the
platform's (customs, administrators: every store). An existing user keeps the operator they
have: a different ``--operator`` is refused (a platform administrator changes it in the admin).
Only its digest is kept: a lost token is replaced by a new one, never shown again. A username
that does not exist becomes a staff user with no password; an existing user who is not staff is
refused unless ``--promote`` says to make them staff. ``--revoke`` ends every token of the user."""

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from knox.models import AuthToken

from shops.operators.scope import operator_of
from shops.operators.services import UnknownOperator, operator_by_code, set_operator


class Command(BaseCommand):
    help = (
        "Create the staff user if needed and print a new API token alone on the last line "
        "(an existing user who is not staff only with --promote); --revoke ends all of the "
        "user's tokens instead."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument(
            "--operator",
            default="",
            help="the operator's code: a new user works for it (default: the platform's)",
        )
        parser.add_argument(
            "--days",
            type=int,
            default=settings.STAFF_TOKEN_DAYS,
            help=f"days the token is valid (default STAFF_TOKEN_DAYS, {settings.STAFF_TOKEN_DAYS})",
        )
        parser.add_argument(
            "--promote",
            action="store_true",
            help="make an existing user who is not staff a staff user (refused without it)",
        )
        parser.add_argument(
            "--revoke", action="store_true", help="revoke every token of the user; create none"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        users = get_user_model()
        username = options["username"]
        if options["revoke"]:
            user = users.objects.filter(username=username).first()
            if user is None:
                raise CommandError(f"No user {username!r}.")
            revoked, _ = AuthToken.objects.filter(user=user).delete()
            self.stdout.write(f"Revoked {revoked} token(s) of {username!r}.")
            return
        days = options["days"]
        if not 1 <= days <= 3660:
            raise CommandError("--days: from 1 to 3660.")
        try:
            operator = operator_by_code(options["operator"]) if options["operator"] else None
        except UnknownOperator as exc:
            raise CommandError(str(exc)) from exc
        existing = users.objects.filter(username=username).first()
        if existing is not None and operator is not None and operator_of(existing) != operator:
            now = operator_of(existing)
            raise CommandError(
                f"User {username!r} works for {now.code if now else 'the platform'}, not "
                f"{operator.code}; nothing was changed. A platform administrator changes a "
                "user's operator in the admin."
            )
        user, created = users.objects.get_or_create(username=username, defaults={"is_staff": True})
        if not user.is_active:
            raise CommandError(f"User {username!r} is inactive: its tokens would be refused.")
        if not user.is_staff and not options["promote"]:
            # A typo, or a shopper-facing account: staff status opens the dashboard and admin.
            raise CommandError(
                f"User {username!r} exists and is not staff; nothing was changed. "
                "Add --promote to make them staff and issue the token."
            )
        if created:
            user.set_unusable_password()
            user.save()
            set_operator(user, operator)
            self.stdout.write(f"Created staff user {user.username!r} (no password: token only).")
        elif not user.is_staff:
            user.is_staff = True
            user.save(update_fields=["is_staff"])
            self.stdout.write(f"User {user.username!r} is now staff.")
        instance, key = AuthToken.objects.create(user=user, expiry=timedelta(days=days))
        expiry = timezone.localtime(instance.expiry)
        works_for = operator_of(user)
        self.stdout.write(
            f"Token for {user.username!r} ("
            + (
                f"operator {works_for.code}: its stores only"
                if works_for
                else "platform: all stores"
            )
            + f"), valid until {expiry:%Y-%m-%d %H:%M %Z}; shown once, keep it safe:"
        )
        self.stdout.write(key)
