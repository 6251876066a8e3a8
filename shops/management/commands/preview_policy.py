"""``preview_policy POLICY_ID [--start D] [--end D]``: what a policy version would have done to
the recorded sales of a window, judged here (no worker needed); the result as JSON on the last
line of the output, a progress bar on a terminal."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from tqdm import tqdm

from shops.management.arguments import local_day
from shops.previews.services import (
    DEFAULT_DAYS,
    PreviewError,
    default_window,
    preview_request,
    preview_run,
)


class Command(BaseCommand):
    help = (
        "Judge every completed sale of a window (local days, inclusive; imported sales "
        "included) again under a policy version, a draft or a published one, and print what "
        "it would have refused: the result as JSON on the last line. Writes nothing but the "
        f"preview. The window defaults to the last {DEFAULT_DAYS} days."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("policy", type=int, help="The policy version's id.")
        parser.add_argument("--start", help="First local date (default: 29 days before --end).")
        parser.add_argument("--end", help="Last local date (default: today).")

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        start, end = default_window(
            now,
            start=local_day(options["start"]) if options["start"] else None,
            end=local_day(options["end"]) if options["end"] else None,
        )
        try:
            preview, created = preview_request(
                policy_id=options["policy"], start=start, end=end, now=now, dispatch=False
            )
        except PreviewError as exc:
            raise CommandError(f"{exc.field}: {exc}") from None
        if not created:
            raise CommandError(
                f"Preview {preview.pk} of this version and window is already {preview.status} "
                "(a worker's); its result will be at /api/v1/policy-previews/"
                f"{preview.pk} and on the admin's page."
            )
        with tqdm(unit="sale", desc=f"preview {start} – {end}", disable=None) as bar:

            def progress(done: int, total: int) -> None:
                bar.total = total
                bar.update(done - bar.n)

            try:
                done = preview_run(preview.pk, clock=timezone.now, progress=progress)
            except Exception as exc:  # recorded on the preview (failed), told here
                raise CommandError(f"Preview {preview.pk} failed: {exc}") from exc
        if done is None or done.result is None:
            raise CommandError(f"Preview {preview.pk} did not finish here.")
        refused = done.result["refused"]
        self.stdout.write(
            f"Preview {done.pk}: {done.result['sales']} sales judged, {refused['sales']} "
            f"refused ({refused['amount']} yuan)."
        )
        self.stdout.write(json.dumps(done.result, ensure_ascii=False, sort_keys=False))
