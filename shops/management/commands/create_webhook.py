"""``create_webhook URL [--events TYPE,TYPE] [--name NAME] [--operator CODE | --kind customs]``:
an endpoint of the event feed; its signing secret (``whsec_…``) printed alone on the last line,
shown once. ``--rotate NAME``: a new secret for that endpoint, the old one still signing for 24
hours."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from shops.feed import endpoints
from shops.models import EVENT_TYPES, EndpointKind
from shops.operators.services import UnknownOperator, operator_by_code


class Command(BaseCommand):
    help = (
        "Make a webhook endpoint (http or https) and print its signing secret alone on the last "
        "line; or --rotate NAME."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("url", nargs="?", help="where events are POSTed (http or https)")
        parser.add_argument(
            "--events",
            default="",
            help=f"comma-separated types (default: all): {', '.join(EVENT_TYPES)}",
        )
        parser.add_argument("--name", default="", help="a name for it (default: the URL's host)")
        who = parser.add_mutually_exclusive_group()
        who.add_argument(
            "--operator",
            default="",
            help="the operator whose endpoint it is: it receives its own stores' events only",
        )
        who.add_argument(
            "--kind",
            choices=[EndpointKind.CUSTOMS.value],
            help="customs: the platform's customs channel (every store, every type)",
        )
        parser.add_argument(
            "--rotate", metavar="NAME", help="issue a new secret for this endpoint instead"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        try:
            if options["rotate"]:
                if options["url"]:
                    raise CommandError("--rotate NAME takes no URL")
                made = endpoints.rotate(name=options["rotate"], now=now)
                self.stdout.write(
                    f"New secret for {made.endpoint.name}; the old one also signs until "
                    f"{timezone.localtime(made.endpoint.previous_secret_until):%Y-%m-%d %H:%M}."
                )
            else:
                if not options["url"]:
                    raise CommandError("give the endpoint's URL (or --rotate NAME)")
                operator = operator_by_code(options["operator"]) if options["operator"] else None
                types = [t.strip() for t in options["events"].split(",") if t.strip()]
                url = options["url"]
                made = endpoints.create_endpoint(
                    url=url,
                    name=options["name"] or _host(url),
                    types=types or None,
                    operator=operator,
                    kind=options["kind"] or EndpointKind.INTEGRATOR,
                    now=now,
                )
                whose = (
                    "customs' channel"
                    if made.endpoint.kind == EndpointKind.CUSTOMS
                    else (f"{operator.code}'s" if operator else "the platform's")
                )
                self.stdout.write(
                    f"Endpoint {made.endpoint.name} ({whose}) receives "
                    f"{', '.join(made.endpoint.event_types)} at {made.endpoint.url}. "
                    "Its signing secret, shown once:"
                )
        except (endpoints.EndpointRefused, UnknownOperator) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(made.secret)


def _host(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url.strip()).netloc or url
