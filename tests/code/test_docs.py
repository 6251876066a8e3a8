"""The project's own docs say what the code does, where a machine can check it."""

from __future__ import annotations

import ast
import importlib
import io
import pkgutil
import re
import tokenize
from pathlib import Path

import pytest
from django.core.management import get_commands
from django.urls import URLPattern, URLResolver, get_resolver

from dutyfree.errors import DomainError
from quotas import rules

ROOT = Path(__file__).resolve().parents[2]
API = (ROOT / "docs" / "API.md").read_text(encoding="utf-8")
ARCHITECTURE = (ROOT / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _api_routes() -> list[str]:
    """Every route under /api/v1/, written as the docs write it (``{id}`` for a parameter)."""
    (api,) = (p for p in get_resolver().url_patterns if str(p.pattern) == "api/v1/")
    assert isinstance(api, URLResolver)
    routes = []
    for pattern in api.url_patterns:
        assert isinstance(pattern, URLPattern)
        path = re.sub(r"<(?:\w+:)?(\w+)>", "{id}", str(pattern.pattern))
        routes.append(f"/api/v1/{path}")
    return routes


@pytest.mark.parametrize("route", _api_routes())
def test_every_api_route_is_in_the_contract(route: str) -> None:
    assert route in API, f"{route} is served but docs/API.md does not describe it"


def test_every_command_of_ours_is_documented() -> None:
    ours = sorted(name for name, app in get_commands().items() if app in ("shops", "quotas"))
    assert ours, "no project command found"
    missing = [name for name in ours if f"`{name}" not in API + ARCHITECTURE]
    assert not missing, f"commands missing from docs/: {missing}"


def test_every_violation_code_is_in_the_contract() -> None:
    codes = set(rules.CODES)
    assert {"underage", "annual_quota_exceeded"} <= codes
    missing = sorted(code for code in codes if f"`{code}`" not in API)
    assert not missing, f"violation codes missing from docs/API.md: {missing}"


def test_the_readme_links_only_inside_the_repository() -> None:
    outside = re.findall(r"\.\./[\w./-]+", README)
    assert not outside, f"README points outside the checkout: {outside}"
    for link in re.findall(r"\]\(([^)#]+)\)", README):
        if "://" in link:
            continue
        assert (ROOT / link).exists(), f"README links to {link}, which is not in the repository"


# --- names the docs and the code's own words give must exist ------------------------------------
CODE = ("dutyfree", "shops", "quotas", "bench", "tests")
# A dotted name in one of the apps (``shops.<module>.<name>``; not ``quotas.0010``, a migration by
# number, nor a system check's id such as ``dutyfree.W001``), and a ``<folder>/<file>.py``.
_DOTTED = re.compile(r"(?<![\w./-])(?:shops|quotas|dutyfree)(?:\.[A-Za-z_]\w*)+")
_CHECK_ID = re.compile(r"\.[A-Z]\d{3}$")
_PATH = re.compile(r"(?<![\w./<>-])(?:[\w.-]+/)+[\w.-]+\.py\b")


def _prose_of(path: Path) -> str:
    """A module's own words: its docstrings (module, classes, functions) and its comments."""
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source)
    words = [
        ast.get_docstring(node) or ""
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
    ]
    words += [
        token.string
        for token in tokenize.generate_tokens(io.StringIO(source).readline)
        if token.type == tokenize.COMMENT
    ]
    return "\n".join(words)


def _texts() -> dict[str, str]:
    texts = {"README.md": README}
    texts |= {f"docs/{p.name}": p.read_text(encoding="utf-8") for p in (ROOT / "docs").glob("*.md")}
    for folder in CODE:
        for path in sorted((ROOT / folder).rglob("*.py")):
            texts[str(path.relative_to(ROOT))] = _prose_of(path)
    return texts


def _resolves(dotted: str) -> bool:
    """A module, or an attribute of the longest module prefix that imports."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            found: object = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for name in parts[cut:]:
            if not hasattr(found, name):
                return False
            found = getattr(found, name)
        return True
    return False


def test_every_module_and_file_named_in_the_docs_and_the_code_exists() -> None:
    """README.md, docs/*.md and the code's docstrings and comments name modules, their members
    and files: each must still be there, or the reader is sent nowhere."""
    missing = []
    for where, text in _texts().items():
        for name in sorted(set(_DOTTED.findall(text))):
            if not _CHECK_ID.search(name) and not _resolves(name):
                missing.append(f"{where}: {name}")
        for name in sorted(set(_PATH.findall(text))):
            if not (ROOT / name).exists():
                missing.append(f"{where}: {name}")
    assert not missing, "named but not found:\n" + "\n".join(missing)


def test_every_setting_read_from_the_environment_is_listed_in_the_architecture() -> None:
    source = (ROOT / "dutyfree" / "settings.py").read_text(encoding="utf-8")
    read = set(re.findall(r"(?:os\.environ\.get|env_bool|env_list)\(\s*\"(\w+)\"", source))
    read |= set(re.findall(r"os\.environ\[\"(\w+)\"\]", source))
    assert {"DATABASE_URL", "CSRF_TRUSTED_ORIGINS", "USE_TLS"} <= read
    knobs = ARCHITECTURE.split("## Deployment knobs", 1)[1].split("\n## ", 1)[0]
    missing = sorted(name for name in read if f"`{name}`" not in knobs)
    assert not missing, f"docs/ARCHITECTURE.md, Deployment knobs, lacks {missing}"


def _problem_classes() -> list[type[DomainError]]:
    for package in ("dutyfree", "quotas", "shops"):
        for module in pkgutil.walk_packages(
            importlib.import_module(package).__path__, f"{package}."
        ):
            if not {"migrations", "management"} & set(module.name.split(".")):
                importlib.import_module(module.name)
    found, todo = [], [DomainError]
    while todo:
        for subclass in todo.pop().__subclasses__():
            found.append(subclass)
            todo.append(subclass)
    return found


# Answered by the admin's pages, never by the API; and the bases no error is raised as.
NOT_IN_THE_API = {"policy_immutable", "policy_not_publishable", "policy_not_withdrawable",
                  "ban_already_lifted", "ban_invalid", "conflict"}  # fmt: skip


def test_every_problem_code_is_in_the_contract_under_its_status() -> None:
    table = {
        code: int(status)
        for status, codes in re.findall(r"^\s*\| (\d{3})[^|]*\|([^|]*)\|", API, re.M)
        for code in re.findall(r"`(\w+)`", codes)
    }
    assert table["service_unavailable"] == 503
    wrong = [
        f"{cls.code}: {cls.status}, docs/API.md says {table.get(cls.code)}"
        for cls in _problem_classes()
        if cls.code not in NOT_IN_THE_API and table.get(cls.code) != cls.status
    ]
    assert not wrong, "problem codes missing from the contract or under another status:\n" + (
        "\n".join(wrong)
    )


# --- history belongs in git: the code says why --------------------------------------------------
_HISTORY = re.compile(r"\b[Ii]ssue\s+\d+|\b[Pp]oint\s+\d+\b|\bin\s+review\b|\bsession\s+\d+\b")


def test_no_history_markers_in_the_code() -> None:
    """A marker of when (an issue's number and point, a review's session) tells the reader
    nothing of why: the reason goes in the code, the history in git."""
    files = [
        *(p for folder in CODE for p in (ROOT / folder).rglob("*.py")),
        *(ROOT / "bench").glob("*.lua"),
        *(ROOT / "templates").rglob("*.html"),
        *(ROOT / ".ci").iterdir(),
        ROOT / "pyproject.toml",
        ROOT / "Makefile",
    ]
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in files
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if _HISTORY.search(line)
    ]
    assert not found, "history markers (say why instead):\n" + "\n".join(found)
