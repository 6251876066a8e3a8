"""``feed_key --public`` prints the public half of the operator's feed signing key
(``whpk_…``) alone on the last line, for customs to verify ``v1a`` signatures with;
``feed_key --generate`` prints a new private key (``whsk_…``) for the operator to keep in
``FEED_SIGNING_KEY`` or the file ``FEED_SIGNING_KEY_FILE`` (never in the database)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from shops.feed import signing


class Command(BaseCommand):
    help = "Print the feed signing key's public half (--public) or a new private key (--generate)."

    def add_arguments(self, parser: CommandParser) -> None:
        what = parser.add_mutually_exclusive_group(required=True)
        what.add_argument("--public", action="store_true", help="the configured key's public half")
        what.add_argument("--generate", action="store_true", help="a new private key to keep")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["generate"]:
            self.stdout.write(
                "A new Ed25519 key: keep it secret, in FEED_SIGNING_KEY or the file named by "
                "FEED_SIGNING_KEY_FILE:"
            )
            self.stdout.write(signing.new_signing_key())
            return
        try:
            public = signing.public_key_text()
        except signing.FeedKeyError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write("The public key customs verifies v1a signatures with:")
        self.stdout.write(public)
