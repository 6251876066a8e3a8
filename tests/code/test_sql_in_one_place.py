"""Each app's hand-written statements in one place, each with one line of why it is SQL and
not the ORM (docs/ARCHITECTURE.md, "Hand-written statements").

A string literal that starts a statement (SELECT, INSERT, UPDATE, DELETE, WITH, COPY; an
f-string's text counts too) lives only in an app's ``sql.py``, in the kernel's statement
helpers and health check, or in a lock module beside the lock that says its strength.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.source import docstring_constants

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("dutyfree", "quotas", "shops")
SQL_MODULES = ("shops/sql.py", "quotas/sql.py", "dutyfree/sql.py")
ALLOWED = {
    *SQL_MODULES,
    "dutyfree/db.py",  # the statement helpers: statements built from model metadata
    "dutyfree/health.py",  # SELECT 1, timed where it is run
    # Every lock is taken in its app's lock module (tests/code/test_no_private_machinery.py).
    "shops/locks.py",
    "quotas/locks.py",
}

# A statement's first word followed by what only a statement has after it: prose such as
# "Insert the shoppers …" or "With group_by=day: …" is not one.
STATEMENT = re.compile(
    r"""^\s*\(?\s*(
        SELECT\s+\S
      | INSERT\s+INTO\s
      | UPDATE\s+\S+\s+(AS\s+\w+\s+)?SET\s
      | DELETE\s+FROM\s
      | WITH\s+(RECURSIVE\s+)?\w+(\s*\([^)]*\))?\s+AS\s+((NOT\s+)?MATERIALIZED\s+)?\(
      | COPY\s+\S
    )""",
    re.IGNORECASE | re.VERBOSE,
)


def _sources() -> Iterator[Path]:
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path


def _text(node: ast.AST) -> str | None:
    """A string literal's text; an f-string's, with ``{}`` where it interpolates."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(
            part.value if isinstance(part, ast.Constant) else "{}" for part in node.values
        )
    return None


def statements_in(source: str) -> list[tuple[int, str]]:
    """(line, first words) of every statement literal of ``source`` but its docstrings."""
    tree = ast.parse(source)
    docstrings = docstring_constants(tree)
    found = {}
    for node in ast.walk(tree):
        text = _text(node)
        if text is not None and id(node) not in docstrings and STATEMENT.match(text):
            found[node.lineno] = " ".join(text.split())[:60]
    return sorted(found.items())


def unexplained_in(source: str) -> list[str]:
    """The module-level names (constants, functions) of an ``sql.py`` without a comment line
    right above them (above the first decorator of a function)."""
    lines = source.splitlines()
    found = []
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names = [target.id for target in targets if isinstance(target, ast.Name)]
            first = node.lineno
        elif isinstance(node, ast.FunctionDef):
            if not node.decorator_list:  # a piece of the statements, not one: its docstring
                continue
            names = [node.name]
            first = min(decorator.lineno for decorator in node.decorator_list)
        else:
            continue
        above = lines[first - 2].strip() if first >= 2 else ""
        if not above.startswith("#") or above.startswith("# ---"):
            found += names
    return found


def test_statements_live_in_their_app_s_sql_module() -> None:
    found = [
        f"{path.relative_to(ROOT).as_posix()}:{line}: {words!r}"
        for path in _sources()
        if path.relative_to(ROOT).as_posix() not in ALLOWED
        for line, words in statements_in(path.read_text(encoding="utf-8"))
    ]
    assert found == []


@pytest.mark.parametrize("module", SQL_MODULES)
def test_every_statement_says_why_in_one_line_above_it(module: str) -> None:
    source = (ROOT / module).read_text(encoding="utf-8")
    assert statements_in(source), module  # the module holds statements: the check is not vacuous
    assert unexplained_in(source) == []


@pytest.mark.parametrize(
    "source",
    [
        'X = "SELECT id FROM shops_sale WHERE id = %s"\n',
        'def f(t):\n    return f"select id from {t}"\n',
        'X = "INSERT INTO shops_dirtyday (day) VALUES (%s)"\n',
        'X = "UPDATE shops_sale AS s SET total = 0"\n',
        'X = "delete from shops_sale"\n',
        'X = "WITH fresh AS MATERIALIZED (SELECT 1) SELECT * FROM fresh"\n',
        'X = "COPY shops_sale (id) FROM STDIN"\n',
        'X = ("  (SELECT id FROM trip)")\n',
    ],
)
def test_the_scan_sees_a_statement(source: str) -> None:
    assert statements_in(source) != []


@pytest.mark.parametrize(
    "source",
    [
        '"""Select the shoppers first seen here."""\n',
        'X = "Insert the shoppers first seen here, with the facts of their receipt"\n',
        'X = "With group_by=day: the previous period\'s day"\n',
        'X = "Delete selected drafts"\n',
        'X = "with password"\n',
        'X = "Update the rollups"\n',
    ],
)
def test_the_scan_lets_prose_be(source: str) -> None:
    assert statements_in(source) == []


def test_a_statement_without_its_line_of_why_is_seen() -> None:
    source = (
        "from functools import cache\n\n"
        "# Set-based: one statement.\n"
        'A = "SELECT 1"\n'
        'B = "SELECT 2"\n'
        "# --- A heading, not a reason ---\n"
        'C = "SELECT 3"\n\n\n'
        "@cache\n"
        "def d(n: int) -> str:\n"
        '    return "SELECT 4"\n'
    )
    assert unexplained_in(source) == ["B", "C", "d"]
