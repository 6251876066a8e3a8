"""``/api/schema/`` generated once per language and deployed code, not on every request.

drf-spectacular walks every view and serializer to build the document (README, "The OpenAPI
document"); the result changes only with the code, the language, and the demo examples' dates
(computed from the moment it is generated: :func:`compute_examples`). So the document is kept in
the shared cache under the code's version, the language and the local day, for
``SCHEMA_CACHE_SECONDS``.

The examples themselves are declared beside their operations, with :func:`demo_request`,
:func:`demo_answer` and :func:`demo_parameter`.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiExample, extend_schema
from drf_spectacular.views import SCHEMA_KWARGS, SpectacularAPIView
from pydantic import BaseModel
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

# The code that shapes the document: the apps' modules and the compiled catalogue.
_SOURCES = ("dutyfree", "quotas", "shops")


@functools.cache
def code_version() -> str:
    """A digest of the deployed code (each module's path, size and modification time, and
    the catalogue's): another deployment, another version, so processes of two deployments
    sharing one cache never serve each other's document."""
    root = Path(settings.BASE_DIR)
    digest = hashlib.sha256()
    files = [path for name in _SOURCES for path in (root / name).rglob("*.py")]
    files += list((root / "locale").rglob("*.mo"))
    for path in sorted(files):
        stat = path.stat()
        digest.update(f"{path.relative_to(root)}:{stat.st_size}:{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


class CachedSchemaView(SpectacularAPIView):
    """:class:`SpectacularAPIView` answering from the cache; rendered (JSON or YAML) per
    request from the cached document."""

    @extend_schema(**SCHEMA_KWARGS)  # as the parent's: the schema leaves itself out
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        language = request.GET.get("lang") or translation.get_language() or ""
        key = f"openapi:{code_version()}:{language}:{timezone.localdate().isoformat()}"
        try:
            document = cache.get(key)
        except Exception:  # the cache away: generate, as without one
            document = None
        if document is None:
            response = super().get(request, *args, **kwargs)
            # Plain JSON values: lazy translations rendered now, in this language.
            document = json.loads(json.dumps(response.data, cls=JSONEncoder))
            with contextlib.suppress(Exception):
                cache.set(key, document, timeout=settings.SCHEMA_CACHE_SECONDS)
        version = self.api_version or request.version or self._get_version_parameter(request)
        filename = self._get_filename(request, version)
        return Response(document, headers={"Content-Disposition": f'inline; filename="{filename}"'})


# --- Examples beside their operations ----------------------------------------------------------
# The examples succeed against the demo data as they are sent (tests/dutyfree/
# test_openapi_examples.py): a trip must lie ahead and a departure behind, so their values are
# computed when the document is generated, not when the views are imported. A view declares
# them with extend_schema(examples=[...]); the hook below computes each one.
DEMO_SUMMARY = gettext_lazy("The demo data (manage.py seed_demo)")


@dataclass(frozen=True)
class Later:
    """An example's value, computed from the moment the document is generated."""

    build: Callable[[datetime], Any]


def demo_request(build: Callable[[datetime], Any]) -> OpenApiExample:
    """The request body of an operation's example."""
    return OpenApiExample("Demo", summary=DEMO_SUMMARY, value=Later(build), request_only=True)


def demo_answer(
    model: type[BaseModel], build: Callable[[datetime], Any], *, status: int = 200
) -> OpenApiExample:
    """The answer to the example: ``build``'s value shaped by the answer's own model, so an
    example missing a member, or naming one the answer does not have, fails to build."""
    return OpenApiExample(
        "Demo",
        summary=DEMO_SUMMARY,
        value=Later(lambda now: model.model_validate(build(now)).model_dump(mode="json")),
        response_only=True,
        status_codes=[str(status)],
    )


def demo_parameter(
    name: str, where: Literal["path", "query", "header"], build: Callable[[datetime], Any]
) -> OpenApiExample:
    """A parameter's value in the example (``where``: path, query or header)."""
    return OpenApiExample(
        "Demo", summary=DEMO_SUMMARY, value=Later(build), parameter_only=(name, where)
    )


def _computed(node: Any, now: datetime) -> Any:
    if isinstance(node, Later):
        return node.build(now)
    if isinstance(node, dict):
        return {key: _computed(value, now) for key, value in node.items()}
    if isinstance(node, list):
        return [_computed(value, now) for value in node]
    return node


def compute_examples(
    result: dict[str, Any], generator: Any = None, **kwargs: Any
) -> dict[str, Any]:
    """A postprocessing hook: every :class:`Later` value in the document, computed now (local
    time, to the second)."""
    now = timezone.localtime().replace(microsecond=0)
    return _computed(result, now)
