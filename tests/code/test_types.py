"""Types are checked, not hoped for: mypy with django-stubs passes over the app packages,
and every ``# type: ignore`` left in them names its error code and says why."""

import io
import re
import tokenize
from pathlib import Path

from tests import background

ROOT = Path(__file__).resolve().parents[2]
APPS = ("dutyfree", "shops", "quotas")

# "# type: ignore[arg-type]  # why", several codes allowed ("[misc, union-attr]").
EXPLAINED = re.compile(r"#\s*type:\s*ignore\[[a-z-]+(,\s*[a-z-]+)*\]\s+#\s*\S")


def test_mypy_passes_over_the_apps():
    # The files and settings are pyproject.toml's [tool.mypy]; it runs beside the suite from
    # the start (tests/background.py), and the cache in .mypy_cache keeps a second run to
    # seconds (a clean clone, as in CI, checks from cold).
    result = background.result("mypy")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("Success: no issues found")


def _ignores(path: Path) -> list[tuple[int, str]]:
    source = path.read_text(encoding="utf-8")
    return [
        (token.start[0], token.string)
        for token in tokenize.generate_tokens(io.StringIO(source).readline)
        if token.type == tokenize.COMMENT and re.search(r"type:\s*ignore", token.string)
    ]


def test_every_type_ignore_names_its_code_and_why():
    files = [
        path
        for app in APPS
        for path in sorted((ROOT / app).rglob("*.py"))
        if "migrations" not in path.relative_to(ROOT).parts
    ]
    assert len(files) > 50  # the walk found the apps
    bare = [
        f"{path.relative_to(ROOT)}:{line}: {comment}"
        for path in files
        for line, comment in _ignores(path)
        if not EXPLAINED.search(comment)
    ]
    assert bare == [], "write `# type: ignore[code]  # why`:\n" + "\n".join(bare)


def test_the_ignore_check_tells_a_bare_ignore_from_an_explained_one():
    assert EXPLAINED.search("# type: ignore[arg-type]  # parsed above")
    assert EXPLAINED.search("# type: ignore[misc, union-attr]  # resolved")
    assert not EXPLAINED.search("# type: ignore")
    assert not EXPLAINED.search("# type: ignore[arg-type]")
    assert not EXPLAINED.search("# type: ignore  # no code")
