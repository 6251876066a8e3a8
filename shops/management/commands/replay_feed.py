"""``replay_feed --event EVENT_ID`` sends one event again to every endpoint that receives it;
``replay_feed --endpoint NAME [--since T] [--until T]`` sends an endpoint the events of a time
range again (ISO date-times, local time when no offset is given). Receivers dedupe by id."""

from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from shops.feed import endpoints
from shops.models import Event


def _moment(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    return timezone.make_aware(value) if timezone.is_naive(value) else value


class Command(BaseCommand):
    help = "Send events again: one (--event) or an endpoint's time range (--endpoint)."

    def add_arguments(self, parser: CommandParser) -> None:
        what = parser.add_mutually_exclusive_group(required=True)
        what.add_argument("--event", help="an event's id (evt_…)")
        what.add_argument("--endpoint", help="an endpoint's name")
        parser.add_argument("--since", type=_moment, help="from this time (inclusive)")
        parser.add_argument("--until", type=_moment, help="to this time (exclusive)")

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        if options["event"]:
            event = Event.objects.select_related("store").filter(public_id=options["event"]).first()
            if event is None:
                raise CommandError(f"No event {options['event']!r}.")
            count = endpoints.replay_event(event=event, now=now)
            self.stdout.write(f"{event.public_id} queued again for {count} endpoint(s).")
            return
        try:
            endpoint = endpoints.endpoint_named(options["endpoint"])
        except endpoints.EndpointRefused as exc:
            raise CommandError(str(exc)) from exc
        count = endpoints.replay(
            endpoint=endpoint, now=now, start=options["since"], end=options["until"]
        )
        self.stdout.write(f"{count} event(s) queued again for {endpoint.name}.")
