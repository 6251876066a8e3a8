"""The import layers of pyproject.toml's [tool.importlinter] hold: arrows between the apps point
one way (shops → quotas → the dutyfree kernel), checked rather than hoped for."""

import ast
from pathlib import Path

from tests import background

ROOT = Path(__file__).resolve().parents[2]


def test_import_contracts_are_kept():
    result = background.result("lint-imports")  # run beside the suite (tests/background.py)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_quota_rules_import_nothing_from_django_directly():
    # The django.db half of the "rules is pure" contract, which import-linter cannot express
    # (see pyproject.toml). Indirectly rules still reaches django.db through quotas.choices.
    tree = ast.parse((ROOT / "quotas" / "rules.py").read_text(encoding="utf-8"))
    imported = [
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    ]
    imported += [node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
    assert [name for name in imported if name.split(".")[0] == "django"] == []
