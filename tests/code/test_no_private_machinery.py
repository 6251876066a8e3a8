"""No private machinery (what Django does not promise may change under us): model instances
come from ``Model.from_db`` (through ``dutyfree.db.loaded``) or the ORM, never by setting
``_state``; every lock is taken in its app's lock module (``quotas/locks.py``,
``shops/locks.py``), which says its strength, and every advisory-lock key comes from one
registry (``dutyfree/locks.py``)."""

from __future__ import annotations

import ast
import importlib
import inspect
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.db import DatabaseError, connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

import quotas.locks
import shops.locks
from dutyfree import locks as registry
from dutyfree.db import loaded
from shops.models import Store
from tests.conftest import database_url
from tests.support.source import docstring_constants

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("dutyfree", "quotas", "shops")


def _sources() -> Iterator[Path]:
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path


def _where(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _functions(tree: ast.AST) -> Iterator[tuple[str, ast.AST]]:
    """Every node with the name of the function (or class) it is in."""

    def walk(node: ast.AST, name: str) -> Iterator[tuple[str, ast.AST]]:
        for child in ast.iter_child_nodes(node):
            inner = name
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                inner = child.name
            yield inner, child
            yield from walk(child, inner)

    yield from walk(tree, "<module>")


def _touches_state(target: ast.AST) -> bool:
    """``x._state = …``, ``x._state.adding = …``, ``x._state.db = …``."""
    while isinstance(target, ast.Attribute):
        if target.attr == "_state":
            return True
        target = target.value
    return False


def _state_writes_in(tree: ast.AST) -> set[str]:
    """The functions of ``tree`` that assign to (or setattr on) an instance's ``_state``."""
    found = set()
    for function, node in _functions(tree):
        targets: list[ast.AST] = []
        if isinstance(node, ast.Assign):
            targets = list(node.targets)
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets = [node.target]
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("setattr", "delattr")
            and node.args
        ):
            targets = [node.args[0]]
        if any(_touches_state(target) for target in targets):
            found.add(function)
    return found


def _state_writes() -> set[tuple[str, str]]:
    return {
        (_where(path), function)
        for path in _sources()
        for function in _state_writes_in(ast.parse(path.read_text(encoding="utf-8")))
    }


class TestModelInstances:
    def test_no_code_sets_an_instance_s_state(self):
        assert _state_writes() == set()

    @pytest.mark.parametrize(
        "source",
        [
            "def f(o):\n    o._state.adding = False\n",
            "def f(o):\n    o._state.db = 'default'\n",
            "def f(o):\n    setattr(o._state, 'adding', False)\n",
            "class f:\n    def save(self):\n        self._state = None\n",
        ],
    )
    def test_the_scan_sees_a_write(self, source):
        assert _state_writes_in(ast.parse(source)) in ({"f"}, {"save"})

    def test_the_scan_lets_a_read_be(self):
        assert _state_writes_in(ast.parse("def f(o):\n    return o._state.adding\n")) == set()


@pytest.mark.django_db
class TestLoaded:
    def test_a_loaded_row_is_not_adding_and_belongs_to_the_database(self):
        store = loaded(Store, id=1, code="X", name_zh="x", name_en="x", city="x")
        assert store._state.adding is False
        assert store._state.db == "default"

    def test_save_updates_the_row(self):
        row = Store.objects.create(code="LOADED", name_zh="甲", name_en="A", city="Sanya")
        store = loaded(Store, id=row.pk, code="LOADED", name_en="B")
        with CaptureQueriesContext(connection) as queries:
            store.save(update_fields=["name_en"])
        assert [q["sql"].split()[0] for q in queries] == ["UPDATE"]
        row.refresh_from_db()
        assert (row.name_en, row.name_zh) == ("B", "甲")

    def test_save_never_inserts_a_row_that_is_not_there(self):
        store = loaded(Store, id=987654321, code="GONE", name_en="B")
        with pytest.raises(DatabaseError, match="did not affect any rows"):
            store.save(update_fields=["name_en"])

    def test_a_field_not_given_is_deferred_and_loaded_on_reading(self):
        row = Store.objects.create(code="DEFER", name_zh="甲", name_en="A", city="Haikou")
        store = loaded(Store, id=row.pk, code="DEFER")
        assert "city" in store.get_deferred_fields()
        with CaptureQueriesContext(connection) as queries:
            assert store.city == "Haikou"
        assert len(queries) == 1

    def test_foreign_keys_by_id_and_the_related_instance_assigned(self):
        from shops.models import Terminal

        store = loaded(Store, id=5, code="S")
        terminal = loaded(Terminal, id=7, store=5, name="t")
        assert terminal.store_id == 5
        terminal.store = store
        assert terminal.store is store

    def test_a_related_instance_is_refused(self):
        from shops.models import Terminal

        with pytest.raises(TypeError, match="id"):
            loaded(Terminal, id=7, store=loaded(Store, id=5))

    def test_a_name_that_is_not_a_column_is_refused(self):
        with pytest.raises(TypeError, match="not a column"):
            loaded(Store, id=1, terminals=[])


# --- Locks -----------------------------------------------------------------------------------
LOCK_MODULES = {"quotas/locks.py", "shops/locks.py"}
ADVISORY = re.compile(r"pg_(try_)?advisory")
ROW_LOCK = re.compile(r"\bFOR\s+(NO\s+KEY\s+UPDATE|UPDATE|KEY\s+SHARE|SHARE)\b")


def _code_strings(tree: ast.AST) -> Iterator[str]:
    """The string constants of ``tree`` that are not docstrings (statements, not prose)."""
    docstrings = docstring_constants(tree)
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docstrings
        ):
            yield node.value


def _lock_takers() -> dict[str, set[str]]:
    """Per source file: which kinds of lock its code takes (advisory, row by SQL, row by ORM)."""
    found: dict[str, set[str]] = {}
    for path in _sources():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        kinds = set()
        for text in _code_strings(tree):
            if ADVISORY.search(text):
                kinds.add("advisory")
            if ROW_LOCK.search(text):
                kinds.add("row lock in SQL")
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr == "select_for_update":
                kinds.add("select_for_update")
        if kinds:
            found[_where(path)] = kinds
    return found


class TestLockModules:
    def test_only_the_lock_modules_take_locks(self):
        takers = _lock_takers()
        outside = {path: kinds for path, kinds in takers.items() if path not in LOCK_MODULES}
        assert outside == {}

    def test_each_app_has_its_lock_module(self):
        takers = _lock_takers()
        # quotas takes no advisory lock: a sale's shopper row serialises its trips' recounts
        assert takers["quotas/locks.py"] == {"row lock in SQL", "select_for_update"}
        assert takers["shops/locks.py"] == {"advisory", "select_for_update", "row lock in SQL"}

    @pytest.mark.parametrize("module", [quotas.locks, shops.locks], ids=lambda m: m.__name__)
    def test_each_lock_says_its_strength_and_whether_it_waits(self, module):
        locks = [
            (name, inspect.getdoc(value) or "")
            for name, value in vars(module).items()
            if inspect.isfunction(value)
            and value.__module__ == module.__name__
            and not name.startswith("_")
            and name.endswith("lock")
        ]
        assert len(locks) >= 4
        for name, doc in locks:
            prose = " ".join(doc.split())
            assert re.search(r"FOR NO KEY UPDATE|FOR UPDATE|advisory", prose), name
            assert re.search(r"\bwaits?\b|never waits", prose), name

    @pytest.mark.parametrize("module", [quotas.locks, shops.locks], ids=lambda m: m.__name__)
    def test_each_module_states_the_order(self, module):
        assert "The order, never reversed" in (module.__doc__ or "")


class TestAdvisoryKeyRegistry:
    def test_the_registry_is_complete_and_named_once(self):
        assert {space.name for space in registry.REGISTRY} == {
            registry.ROLLUPS.name,
            registry.TERMINAL_IDEMPOTENCY.name,
        }
        assert len({space.name for space in registry.REGISTRY}) == len(registry.REGISTRY)

    def test_no_two_spaces_of_one_form_share_a_first_key(self):
        spaces = registry.REGISTRY
        for index, one in enumerate(spaces):
            for other in spaces[index + 1 :]:
                if one.form is other.form:
                    shared = range(
                        max(one.first.start, other.first.start),
                        min(one.first.stop, other.first.stop),
                    )
                    assert len(shared) == 0, (one.name, other.name)

    def test_each_key_fits_its_form(self):
        for space in registry.REGISTRY:
            bits = 64 if space.form is registry.Form.ONE_KEY else 32
            assert -(2 ** (bits - 1)) <= space.first.start
            assert space.first.stop - 1 < 2 ** (bits - 1), space.name
            assert (space.form is registry.Form.TWO_KEYS) == bool(space.second), space.name

    def test_a_range_has_no_single_key(self):
        with pytest.raises(ValueError, match="range"):
            _ = registry.TERMINAL_IDEMPOTENCY.key

    def test_a_terminal_id_outside_its_space_is_refused(self):
        with pytest.raises(ValueError, match="outside"):
            shops.locks.idempotency_key_lock_params(2**31, "k")

    @pytest.mark.django_db
    def test_the_two_forms_never_conflict(self):
        """The registry's first argument: a one-key lock on the very bits of a two-key lock
        does not block it (PostgreSQL keeps the forms apart)."""
        first, second = registry.TERMINAL_IDEMPOTENCY.first[0], 42
        bits = ((first & 0xFFFFFFFF) << 32) | second
        bigint = bits - 2**64 if bits >= 2**63 else bits
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s::bigint)", [bigint])
        with psycopg.connect(database_url(connection.settings_dict), autocommit=True) as other:
            two = other.execute("SELECT pg_try_advisory_lock(%s, %s)", [first, second])
            assert two.fetchone() == (True,)
            other.execute("SELECT pg_advisory_unlock(%s, %s)", [first, second])
            one = other.execute("SELECT pg_try_advisory_lock(%s::bigint)", [bigint])
            assert one.fetchone() == (False,)  # the one-key lock is held: the test is real


_ADVISORY_CALL = re.compile(
    r"pg_(?:try_)?advisory(?:_xact)?_lock(?:_shared)?\(\s*%s(?:::\w+)?\s*(,\s*[^)]*\)?)?\)"
)


@pytest.mark.django_db
def test_every_advisory_lock_taken_uses_a_registry_key():
    """A day's work (two sales for one trip, a return, a void, the rollups' refresh and
    rebuild): every advisory lock statement names a key of the registry, and each key space of
    the registry is used."""
    from shops.pos import returns
    from shops.reporting import rollups
    from tests.support import basket, commit, product, terminal

    taken: list[tuple[str, Any, int]] = []

    def record(execute, sql, params, many, context):
        calls = list(_ADVISORY_CALL.finditer(sql))
        # every advisory call has the shape the pattern reads: none is missed
        assert len(calls) == len(ADVISORY.findall(sql)), sql
        for match in calls:
            index = sql[: match.start()].count("%s")
            arguments = 2 if match.group(1) else 1
            taken.append((match.group(0), params[index], arguments))
        return execute(sql, params, many, context)

    product("LIP", "cosmetics", "320.00")
    term, _ = terminal()
    with connection.execute_wrapper(record):
        first = commit(term, basket(("LIP", 2)))
        commit(term, basket(("LIP", 1)))
        line = first.sale.lines.get()
        returns.sale_return(
            terminal=term,
            sale_id=first.sale.pk,
            idempotency_key="return-1",
            fingerprint="fp-return-1",
            lines=[(line.pk, 1)],
            reason="",
            now=timezone.now(),
        )
        returns.sale_void(terminal=term, sale_id=first.sale.pk, now=timezone.now())
        rollups.refresh_all_dirty(now=timezone.now())
        rollups.rebuild_all(now=timezone.now())
    used = set()
    for call, key, arguments in taken:
        form = registry.Form.ONE_KEY if arguments == 1 else registry.Form.TWO_KEYS
        owners = [s.name for s in registry.REGISTRY if s.form is form and key in s.first]
        assert len(owners) == 1, (call, key)
        used.add(owners[0])
    assert used == {space.name for space in registry.REGISTRY}


# --- The clock comes from the caller ---------------------------------------------------------
# The callers: views and the API, the admin, Celery tasks, management commands and the request
# schemas (the schema's examples take theirs from dutyfree.schema). They read the clock and pass
# ``now`` down.
CALLERS = {
    "quotas/admin/bans.py",
    "quotas/admin/categories.py",
    "quotas/admin/csv_pages.py",
    "quotas/admin/history.py",
    "quotas/admin/policies.py",
    "quotas/admin/shared.py",
    "quotas/admin/shoppers.py",
    "quotas/api.py",
    "shops/admin.py",
    "shops/feed/admin.py",
    "shops/api/views.py",
    "shops/reporting/dashboard.py",
    "shops/api/inputs.py",
    "shops/tasks.py",
    "shops/shoppers/pages.py",
    "shops/api/auth.py",
    "shops/till/pages.py",
    "shops/previews/admin.py",
}
_CLOCKS = {("timezone", "now"), ("timezone", "localdate"), ("timezone", "localtime")}
_CLOCKS |= {("datetime", "now"), ("datetime", "utcnow"), ("date", "today"), ("time", "time")}


def _domain_sources() -> Iterator[Path]:
    for path in _sources():
        where = _where(path)
        if (
            where.startswith(("quotas/", "shops/"))
            and where not in CALLERS
            and "management" not in path.parts
        ):
            yield path


def _clock_reads_in(tree: ast.AST) -> set[str]:
    """What in ``tree`` reads the clock or lets ``now`` default: ``timezone.now()``,
    ``datetime.now()``…, and a parameter ``now`` with a default."""
    found = set()
    converting = set()  # timezone.localtime(value): a conversion, not the clock
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and (node.args or node.keywords):
            converting.add(id(node.func))
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and (node.value.id, node.attr) in _CLOCKS
            and not (node.attr in ("localtime", "localdate") and id(node) in converting)
        ):
            found.add(f"{node.value.id}.{node.attr}")
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            arguments = node.args
            positional = [*arguments.posonlyargs, *arguments.args]
            defaulted = positional[len(positional) - len(arguments.defaults) :]
            defaulted += [
                arg
                for arg, default in zip(arguments.kwonlyargs, arguments.kw_defaults, strict=True)
                if default is not None
            ]
            if any(arg.arg == "now" for arg in defaulted):
                found.add(f"{node.name}(now=...)")
    return found


def _clock_reads() -> dict[str, set[str]]:
    found = {}
    for path in _domain_sources():
        reads = _clock_reads_in(ast.parse(path.read_text(encoding="utf-8")))
        if reads:
            found[_where(path)] = reads
    return found


class TestNowFromTheCaller:
    def test_the_domain_never_reads_the_clock(self):
        reads = _clock_reads()
        assert reads == {}

    def test_the_domain_is_what_is_left_of_the_apps(self):
        domain = {_where(path) for path in _domain_sources()}
        assert {
            "quotas/services.py",
            "shops/reporting/rollups.py",
            "shops/demo/seed.py",
            "shops/imports/batching.py",
        } <= domain
        assert not domain & CALLERS

    @pytest.mark.parametrize(
        "source",
        [
            "def f():\n    return timezone.now()\n",
            "def f(*, now=None):\n    return now\n",
            "def f(now=None):\n    return now\n",
            "def f():\n    return datetime.now(UTC)\n",
            "def f():\n    return timezone.localdate()\n",
            "class A:\n    at = models.DateTimeField(default=timezone.now)\n",
        ],
    )
    def test_the_scan_sees_a_clock(self, source):
        assert _clock_reads_in(ast.parse(source))

    @pytest.mark.parametrize(
        "source",
        [
            "def f(*, now, at=None):\n    return now\n",
            "def f(at):\n    return timezone.localtime(at)\n",
        ],
    )
    def test_the_scan_lets_a_required_now_and_a_conversion_be(self, source):
        assert _clock_reads_in(ast.parse(source)) == set()

    @pytest.mark.parametrize(
        "function",
        [
            "quotas.services.sale_debit_part",
            "quotas.services.quota_credit",
            "quotas.services.shopper_ban",
            "quotas.services.ban_end",
            "quotas.services.shopper_rekey",
            "shops.reporting.rollups.refresh_dirty",
            "shops.reporting.rollups.refresh_all_dirty",
            "shops.reporting.rollups.rebuild",
            "shops.reporting.rollups.rebuild_all",
            "shops.demo.seed.load_demo_history",
            "shops.imports.batching.import_sales",
        ],
    )
    def test_now_is_a_required_keyword(self, function):
        module, name = function.rsplit(".", 1)
        parameter = inspect.signature(getattr(importlib.import_module(module), name)).parameters[
            "now"
        ]
        assert parameter.kind is inspect.Parameter.KEYWORD_ONLY
        assert parameter.default is inspect.Parameter.empty

    def test_a_call_without_now_is_refused_before_it_does_anything(self):
        from decimal import Decimal

        from quotas.models import QuotaAccount
        from quotas.services import ban_end, quota_credit, sale_debit_part
        from shops.reporting.rollups import refresh_all_dirty

        account = QuotaAccount(pk=1)
        with pytest.raises(TypeError, match="now"):
            sale_debit_part(account=account, amount=Decimal(1), reference="sale:1")
        with pytest.raises(TypeError, match="now"):
            quota_credit(account=account, amount=Decimal(1), kind="return", reference="r:1")
        with pytest.raises(TypeError, match="now"):
            ban_end(starts_at=timezone.now(), years=1)
        with pytest.raises(TypeError, match="now"):
            refresh_all_dirty()
