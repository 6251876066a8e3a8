"""No test module imports another test module: what two test files share lives in
tests/support/ (or a conftest.py), so moving, renaming or deleting a test file never breaks
another, and a newcomer finds every helper in one place."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]


def _names_a_test_module(dotted: str) -> bool:
    return any(part.startswith("test_") for part in dotted.split("."))


def imported_test_modules(source: str) -> list[tuple[int, str]]:
    """(line, module) of every import of a test module in ``source``: ``import
    tests.….test_x``, ``from tests.….test_x import …``, ``from .test_x import …``,
    ``from tests.… import test_x``, ``from . import test_x``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [
                (node.lineno, alias.name)
                for alias in node.names
                if alias.name.startswith("tests.") and _names_a_test_module(alias.name)
            ]
        elif isinstance(node, ast.ImportFrom):
            module = "." * node.level + (node.module or "")
            if node.level == 0 and module != "tests" and not module.startswith("tests."):
                continue
            if _names_a_test_module(module.lstrip(".")):
                found.append((node.lineno, module))
            else:
                found += [
                    (node.lineno, f"{module.rstrip('.')}.{alias.name}")
                    for alias in node.names
                    if alias.name.startswith("test_")
                ]
    return found


def test_no_test_module_imports_another() -> None:
    found = [
        f"{path.relative_to(TESTS.parent)}:{line}: {module}"
        for path in sorted(TESTS.rglob("*.py"))
        for line, module in imported_test_modules(path.read_text(encoding="utf-8"))
    ]
    assert not found, "import what they share from tests/support/ instead:\n" + "\n".join(found)


def test_the_check_sees_each_kind_of_import() -> None:
    source = "\n".join(
        [
            "import tests.shops.pos.test_checkout",
            "from tests.shops.pos.test_checkout import commit",
            "from .test_docs import README",
            "from . import test_layers",
            "from tests.quotas import test_rules",
            "from tests.support import sell",
            "from tests.conftest import local",
            "from .support import helper",
            "import json",
            "from pytest import test_helper_of_a_library",
        ]
    )
    assert imported_test_modules(source) == [
        (1, "tests.shops.pos.test_checkout"),
        (2, "tests.shops.pos.test_checkout"),
        (3, ".test_docs"),
        (4, ".test_layers"),
        (5, "tests.quotas.test_rules"),
    ]
