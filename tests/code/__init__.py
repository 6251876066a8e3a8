"""Checks that read the code, not run it: the import layers (import-linter), the types (mypy),
who owns each table, no private machinery, one definition per rule, and the docs naming what
exists. They run with every `make test`, so CI runs each of them once."""
