"""The static files' storage: WhiteNoise's (hashed names, gzip and brotli), with the imports of
ES modules rewritten to the hashed names too, so a page and the modules it imports always come
from one release (the cashier screen's modules import one another)."""

from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticFilesStorage(CompressedManifestStaticFilesStorage):
    support_js_module_import_aggregation = True
