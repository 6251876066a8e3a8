"""The kernel's hand-written statements that are not its helpers' own (``dutyfree/db.py``
builds those from model metadata; ``dutyfree/health.py`` keeps its ``SELECT 1`` beside the
timing it measures), each with one line of why it is SQL and not the ORM."""

from __future__ import annotations

# Before Django has a database: the embedded server's catalogue, on psycopg's own connection.
DATABASE_EXISTS = "SELECT 1 FROM pg_database WHERE datname = %s"

# Before Django has a database: created once, its name an identifier psycopg quotes ({}).
CREATE_DATABASE = "CREATE DATABASE {}"
