"""``/api/schema/`` generated once per language and deployed code, not on every request.

drf-spectacular walks every view and serializer to build the document (README, "The OpenAPI
document"); the result changes only with the code, the language, and the demo examples' dates
(``shops.api.openapi`` dates them from today). So the document is kept in the shared cache under
the code's version, the language and the local day, for ``SCHEMA_CACHE_SECONDS``.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone, translation
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SCHEMA_KWARGS, SpectacularAPIView
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
