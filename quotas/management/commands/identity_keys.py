"""``identity_keys``: how many shoppers each identity key version still holds (rotation)."""

from typing import Any

from django.core.management.base import BaseCommand
from django.db.models import Count

from quotas import identity
from quotas.models import Shopper


class Command(BaseCommand):
    help = (
        "Count shoppers per identity key version. A retired key may leave "
        "IDENTITY_HMAC_OLD_KEYS once no shopper is left under its version."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        current = identity.current_version()
        counts = dict(Shopper.objects.values_list("key_version").annotate(n=Count("id")).order_by())
        self.stdout.write(f"Current key: version {current}.")
        for version in sorted(set(counts) | set(identity.retired_keys()) | {current}):
            n = counts.get(version, 0)
            state = (
                "current"
                if version == current
                else (
                    "retired, still matched"
                    if version in identity.retired_keys()
                    else "NOT matched"
                )
            )
            self.stdout.write(f"version {version}: {n} shopper{'s' if n != 1 else ''} ({state})")
        left = sum(n for version, n in counts.items() if version != current)
        if left:
            self.stdout.write(
                f"{left} shopper(s) not yet re-keyed: keep IDENTITY_HMAC_OLD_KEYS until they "
                "buy or look up again (a shopper under an unmatched version is not found)."
            )
        else:
            self.stdout.write("Every shopper is under the current key.")
