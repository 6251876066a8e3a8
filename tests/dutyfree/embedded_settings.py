"""The project's settings on an embedded PostgreSQL in a folder of the caller's choosing
(``EMBEDDED_TEST_FOLDER``), for tests that run the app's own processes — ``runserver`` with its
autoreloader, as ``make run`` does — without touching the checkout's ``var/postgres/``."""

import os
from pathlib import Path

from dutyfree.embedded_db import database_url

os.environ["DATABASE_URL"] = database_url(Path(os.environ["EMBEDDED_TEST_FOLDER"]))

from dutyfree.settings import *  # noqa: F403 - the project's settings, on that server
