"""Admin roles (groups made by shops/migrations/0004_roles.py and 0015), checked through the admin.

Each test logs in a staff user whose only permissions come from one group, and checks what the
admin lets that user see and do: pages (200 or 403), buttons ("Add", "Save") and, for every
refused write, that nothing changed. Last, a matrix: every role (and no one, a staff user with
no role, a superuser) POSTs to every URL the admin site serves, and the database may change
only where the role holds the permissions that write takes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.db.models import Model
from django.test import Client, RequestFactory
from django.urls import URLResolver, reverse
from django.utils import timezone
from knox.models import AuthToken

from quotas import category_csv, kind_csv
from quotas import services as quota_services
from quotas.models import Ban, Policy, Programme, Shopper
from shops.feed import delivery as feed_delivery
from shops.feed import endpoints as feed_endpoints
from shops.models import Delivery, Event, Operator, Product, Return, Sale, Store, Terminal
from shops.operators.services import set_operator
from shops.pos import checkout, returns
from shops.previews.services import preview_request
from tests import support
from tests.support.admin_forms import page_form_data

pytestmark = pytest.mark.django_db

EDITOR, MANAGER, AUDITOR = "policy editor", "store manager", "auditor"


def admin_url(model: type, view: str, obj: object = None) -> str:
    opts = model._meta
    args = [] if obj is None else [obj.pk]
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=args)


def member_of(role: str) -> AbstractBaseUser:
    # No password: force_login needs none, and hashing one is slow.
    user = get_user_model().objects.create_user(role.replace(" ", "_"), is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    return user


def logged_in(client: Client, role: str) -> Client:
    client.force_login(member_of(role))
    return client


def has_add_button(page: str) -> bool:
    return 'class="addlink"' in page


def has_save_button(page: str) -> bool:
    return 'name="_save"' in page


@pytest.fixture
def records() -> dict[str, object]:
    """One of each record the roles look at: a terminal, a product, a sale, its shopper, a ban."""
    support.product("ROLE-LIP", "cosmetics", "320.00")
    term, _ = support.terminal("SYA-HTB")
    sale = checkout.sale_commit(
        terminal=term,
        idempotency_key="roles-1",
        fingerprint="roles-1",
        basket=support.basket(("ROLE-LIP", 1)),
        now=timezone.now(),
    ).sale
    shopper = Shopper.objects.get()
    ban, _ = quota_services.shopper_ban(
        shopper_id=shopper.pk,
        reason="customs_decision",
        starts_at=timezone.now() - timedelta(days=1),
        years=1,
        now=timezone.now(),
    )
    return {
        "terminal": term,
        "product": Product.objects.get(sku="ROLE-LIP"),
        "sale": sale,
        "shopper": shopper,
        "ban": ban,
        "store": Store.objects.get(code="SYA-HTB"),
        "policy": Policy.objects.filter(status="published").latest("effective_from"),
        "programme": Programme.objects.get(),
    }


# --- The groups ------------------------------------------------------------------------------
def test_the_migration_makes_three_groups_with_their_permissions() -> None:
    def codenames(role: str) -> set[str]:
        return set(Group.objects.get(name=role).permissions.values_list("codename", flat=True))

    assert codenames(EDITOR) == {
        f"{action}_{model}"
        for model in ("policy", "category", "immediatepickupkind", "programme")
        for action in ("add", "change", "view")
    } | {"view_ban", "add_policypreview", "view_policypreview"}
    assert codenames(MANAGER) == {
        f"{action}_{model}"
        for model in ("store", "terminal", "product")
        for action in ("add", "change", "view")
    } | {"view_sale", "view_saleline", "view_return", "view_returnline", "view_operator"} | {
        "view_endpoint", "change_endpoint", "view_event", "view_delivery"  # the feed
    }  # fmt: skip
    auditor = codenames(AUDITOR)
    assert all(codename.startswith("view_") for codename in auditor)
    assert {"view_immediatepickupkind", "view_historicalimmediatepickupkind"} <= auditor
    # No role deletes anything.
    assert not Group.objects.filter(permissions__codename__startswith="delete_").exists()


def test_the_auditor_can_view_every_model_of_the_admin() -> None:
    """A model newly registered in the admin fails here until the auditor's role covers it
    (a migration like 0004_roles adds the permission)."""
    request = RequestFactory().get("/admin/")
    request.user = member_of(AUDITOR)
    registered = [
        (model, model_admin)
        for model, model_admin in admin.site._registry.items()
        if model._meta.app_label in {"quotas", "shops"}
    ]
    assert len(registered) >= 10
    missing = [
        model._meta.label
        for model, model_admin in registered
        if not model_admin.has_view_permission(request)
    ]
    assert missing == []


# --- Auditor: sees everything, changes nothing ---------------------------------------------------
class TestAuditor:
    def test_every_list_and_record_opens_read_only(self, client: Client, records: dict) -> None:
        web = logged_in(client, AUDITOR)
        index = web.get("/admin/")
        assert index.status_code == 200
        for name, obj in records.items():
            model = type(obj)
            listing = web.get(admin_url(model, "changelist"))
            assert listing.status_code == 200, name
            assert not has_add_button(listing.content.decode()), name
            page = web.get(admin_url(model, "change", obj))
            assert page.status_code == 200, name
            assert not has_save_button(page.content.decode()), name

    def test_sees_a_drafts_immediate_pickup_kinds(self, client: Client, records: dict) -> None:
        draft = quota_services.policy_clone(policy=records["policy"])
        web = logged_in(client, AUDITOR)
        page = web.get(admin_url(Policy, "change", draft)).content.decode()
        assert 'id="immediate_kinds-group"' in page
        assert reverse("admin:quotas_policy_kinds_import", args=[draft.pk]) not in page
        export = web.get(reverse("admin:quotas_policy_kinds_export", args=[draft.pk]))
        assert export.status_code == 200
        assert export.content.decode().count("\n") == 1 + draft.immediate_kinds.count()

    def test_history_pages_open(self, client: Client, records: dict) -> None:
        web = logged_in(client, AUDITOR)
        assert web.get(admin_url(Policy, "history", records["policy"])).status_code == 200
        assert web.get(admin_url(Store, "history", records["store"])).status_code == 200

    def test_a_draft_version_page_is_read_only(
        self, client: Client, admin_client: Client, records: dict
    ) -> None:
        """The history's version page once saved any valid POST for whoever could view it."""
        draft = quota_services.policy_clone(policy=records["policy"])
        category = draft.categories.get(code="cosmetics")
        web = logged_in(client, AUDITOR)
        for obj, changes in (
            (draft, {"annual_limit": "9999999.00", "min_age": "0"}),
            (category, {"per_trip_limit_value": "100000"}),
        ):
            record = obj.history.latest("history_id")
            name = f"admin:quotas_{obj._meta.model_name}_simple_history"
            page = reverse(name, args=[obj.pk, record.history_id])
            shown = web.get(page)
            assert shown.status_code == 200
            assert not any(f'name="{field}"' in shown.content.decode() for field in changes)
            assert not has_save_button(shown.content.decode())
            # What the draft's own page posts, as an editor would send it, with the changes.
            data = page_form_data(admin_client.get(admin_url(type(obj), "change", obj)))
            assert web.post(page, data | changes).status_code == 405
        draft.refresh_from_db()
        category.refresh_from_db()
        assert (draft.annual_limit, draft.min_age) == (
            records["policy"].annual_limit,
            records["policy"].min_age,
        )
        assert category.per_trip_limit_value == 30

    def test_a_change_post_is_403_and_changes_nothing(self, client: Client, records: dict) -> None:
        web = logged_in(client, AUDITOR)
        store = records["store"]
        response = web.post(
            admin_url(Store, "change", store),
            {"code": store.code, "name_zh": "改名", "name_en": "Renamed", "city": store.city},
        )
        assert response.status_code == 403
        assert Store.objects.get(pk=store.pk).name_zh == store.name_zh
        product = records["product"]
        response = web.post(admin_url(Product, "change", product), {"sku": "X", "name_zh": "X"})
        assert response.status_code == 403
        assert Product.objects.get(pk=product.pk).sku == "ROLE-LIP"

    def test_add_pages_and_policy_actions_are_403(self, client: Client, records: dict) -> None:
        web = logged_in(client, AUDITOR)
        for model in (Store, Product, Policy, Programme, Ban):
            assert web.get(admin_url(model, "add")).status_code == 403, model
        policy = records["policy"]
        drafts = Policy.objects.count()
        clone = reverse("admin:quotas_policy_clone", args=[policy.pk])
        assert web.post(clone).status_code == 403
        assert Policy.objects.count() == drafts
        lift = reverse("admin:quotas_ban_lift", args=[records["ban"].pk])
        assert web.post(lift, {"reason": "auditor tries"}).status_code == 403
        assert Ban.objects.get(pk=records["ban"].pk).lifted_at is None
        # Viewing includes the policy's category CSV.
        export = reverse("admin:quotas_policy_export", args=[policy.pk])
        assert web.get(export).status_code == 200

    def test_cannot_revoke_a_terminal_through_the_list_action(
        self, client: Client, records: dict
    ) -> None:
        web = logged_in(client, AUDITOR)
        term = records["terminal"]
        web.post(
            admin_url(Terminal, "changelist"),
            {"action": "revoke", "_selected_action": [term.pk], "index": 0},
        )
        assert Terminal.objects.get(pk=term.pk).revoked_at is None


# --- Store manager ----------------------------------------------------------------------------
class TestStoreManager:
    def test_manages_stores_terminals_and_products(self, client: Client, records: dict) -> None:
        web = logged_in(client, MANAGER)
        for model in (Store, Product):
            listing = web.get(admin_url(model, "changelist"))
            assert listing.status_code == 200
            assert has_add_button(listing.content.decode()), model
        # Terminals: listed and revoked here; created only by create_terminal (key shown once).
        assert web.get(admin_url(Terminal, "changelist")).status_code == 200
        response = web.post(
            admin_url(Store, "add"),
            {
                "code": "ROLE-NEW",
                "name_zh": "新店",
                "name_en": "New store",
                "city": "sanya",
                "operator": "",
                "channel": "physical",
                "active": "on",
            },
        )
        assert response.status_code == 302, response.content.decode()[:2000]
        assert Store.objects.filter(code="ROLE-NEW").exists()

    def test_revokes_a_terminal(self, client: Client, records: dict) -> None:
        web = logged_in(client, MANAGER)
        term = records["terminal"]
        web.post(
            admin_url(Terminal, "changelist"),
            {"action": "revoke", "_selected_action": [term.pk], "index": 0},
        )
        assert Terminal.objects.get(pk=term.pk).revoked_at is not None

    def test_sees_sales_but_cannot_change_them(self, client: Client, records: dict) -> None:
        web = logged_in(client, MANAGER)
        sale = records["sale"]
        page = web.get(admin_url(Sale, "change", sale))
        assert page.status_code == 200
        assert not has_save_button(page.content.decode())
        assert web.post(admin_url(Sale, "delete", sale), {"post": "yes"}).status_code == 403
        assert Sale.objects.filter(pk=sale.pk).exists()

    def test_cannot_open_policies_shoppers_or_bans(self, client: Client, records: dict) -> None:
        web = logged_in(client, MANAGER)
        for model in (Policy, Programme, Shopper, Ban):
            assert web.get(admin_url(model, "changelist")).status_code == 403, model
        assert web.get(admin_url(Policy, "change", records["policy"])).status_code == 403
        index = web.get("/admin/").content.decode()
        assert "/admin/quotas/" not in index


# --- Policy editor ----------------------------------------------------------------------------
class TestPolicyEditor:
    def test_clones_and_edits_a_draft(self, client: Client, records: dict) -> None:
        web = logged_in(client, EDITOR)
        listing = web.get(admin_url(Policy, "changelist"))
        assert listing.status_code == 200
        assert has_add_button(listing.content.decode())
        published = records["policy"]
        response = web.post(reverse("admin:quotas_policy_clone", args=[published.pk]))
        assert response.status_code == 302
        draft = Policy.objects.get(status="draft")
        page = web.get(admin_url(Policy, "change", draft))
        assert page.status_code == 200
        assert has_save_button(page.content.decode())
        # The published version stays read-only, for editors too.
        assert not has_save_button(web.get(admin_url(Policy, "change", published)).content.decode())

    def test_edits_a_drafts_immediate_pickup_kinds(self, client: Client, records: dict) -> None:
        draft = quota_services.policy_clone(policy=records["policy"])
        web = logged_in(client, EDITOR)
        page = web.get(admin_url(Policy, "change", draft))
        assert "immediate_kinds-TOTAL_FORMS" in page.content.decode()
        assert reverse("admin:quotas_policy_kinds_import", args=[draft.pk]) in (
            page.content.decode()
        )
        one = kind_csv.export_kinds(draft.immediate_kinds.order_by("number")[:1])
        upload = SimpleUploadedFile("kinds.csv", one.encode())
        response = web.post(
            reverse("admin:quotas_policy_kinds_import", args=[draft.pk]), {"file": upload}
        )
        assert response.status_code == 302
        assert draft.immediate_kinds.count() == 1

    def test_sees_bans_but_cannot_add_or_lift_them(self, client: Client, records: dict) -> None:
        web = logged_in(client, EDITOR)
        ban = records["ban"]
        assert web.get(admin_url(Ban, "change", ban)).status_code == 200
        assert web.get(admin_url(Ban, "add")).status_code == 403
        lift = reverse("admin:quotas_ban_lift", args=[ban.pk])
        assert web.post(lift, {"reason": "editor tries"}).status_code == 403
        assert Ban.objects.get(pk=ban.pk).lifted_at is None

    def test_cannot_add_terminals_or_touch_stores_and_sales(
        self, client: Client, records: dict
    ) -> None:
        web = logged_in(client, EDITOR)
        assert web.get(admin_url(Terminal, "add")).status_code == 403
        for model in (Terminal, Store, Product, Sale, Shopper):
            assert web.get(admin_url(model, "changelist")).status_code == 403, model
        term = records["terminal"]
        web.post(
            admin_url(Terminal, "changelist"),
            {"action": "revoke", "_selected_action": [term.pk], "index": 0},
        )
        assert Terminal.objects.get(pk=term.pk).revoked_at is None


# --- The CSV pages take the permission of the list they read or write ----------------------------
def staff_with(*codenames: str) -> AbstractBaseUser:
    user = get_user_model().objects.create_user("partial", is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="quotas", codename__in=codenames)
    )
    return user


class TestPolicyCsvPages:
    def test_importing_kinds_takes_the_kinds_change_permission(
        self, client: Client, records: dict
    ) -> None:
        """The page hid the kinds from a user who may change the policy but not its kinds;
        its CSV import replaced a draft's fifteen kinds with one all the same."""
        draft = quota_services.policy_clone(policy=records["policy"])
        kinds = list(draft.immediate_kinds.order_by("number").values())
        client.force_login(staff_with("view_policy", "change_policy", "view_immediatepickupkind"))
        one = kind_csv.export_kinds(draft.immediate_kinds.order_by("number")[:1])
        import_url = reverse("admin:quotas_policy_kinds_import", args=[draft.pk])
        assert client.get(import_url).status_code == 403
        response = client.post(import_url, {"file": SimpleUploadedFile("k.csv", one.encode())})
        assert response.status_code == 403
        assert list(draft.immediate_kinds.order_by("number").values()) == kinds
        page = client.get(admin_url(Policy, "change", draft)).content.decode()
        assert import_url not in page

    def test_importing_categories_takes_the_categories_change_permission(
        self, client: Client, records: dict
    ) -> None:
        draft = quota_services.policy_clone(policy=records["policy"])
        categories = list(draft.categories.order_by("number").values())
        client.force_login(staff_with("view_policy", "change_policy", "view_category"))
        text = category_csv.export_categories(draft.categories.all()[:1])
        import_url = reverse("admin:quotas_policy_import", args=[draft.pk])
        response = client.post(import_url, {"file": SimpleUploadedFile("c.csv", text.encode())})
        assert response.status_code == 403
        assert list(draft.categories.order_by("number").values()) == categories

    def test_exports_take_the_lists_view_permission(self, client: Client, records: dict) -> None:
        policy = records["policy"]
        client.force_login(staff_with("view_policy"))
        for name in ("quotas_policy_export", "quotas_policy_kinds_export"):
            assert client.get(reverse(f"admin:{name}", args=[policy.pk])).status_code == 403
        page = client.get(admin_url(Policy, "change", policy)).content.decode()
        assert "categories.csv" not in page
        assert "immediate-kinds.csv" not in page

    def test_cloning_takes_adding_the_lists(self, client: Client, records: dict) -> None:
        client.force_login(staff_with("view_policy", "add_policy", "add_category"))
        drafts = Policy.objects.count()
        clone = reverse("admin:quotas_policy_clone", args=[records["policy"].pk])
        assert client.post(clone).status_code == 403
        assert Policy.objects.count() == drafts


# --- Every admin URL × every role, by POST -----------------------------------------------------
# Who signs in for the matrix: the three roles, and around them no one, a staff user with no
# role, and a superuser (who has every permission, so shows what each POST can do at all).
ANONYMOUS, NO_ROLE, SUPERUSER = "anonymous", "staff without a role", "superuser"
EVERYONE = [ANONYMOUS, NO_ROLE, EDITOR, MANAGER, AUDITOR, SUPERUSER]

# What a POST to each URL may write, and the permissions it takes (all of them); any URL not
# named here writes nothing for anyone. The model URLs (add, change, delete, the list's
# actions) take their model's permission: see ``permissions_of``.
CUSTOM_WRITES = {
    "quotas_policy_clone": (
        "quotas.add_policy",
        "quotas.add_category",
        "quotas.add_immediatepickupkind",
    ),
    "quotas_policy_publish": ("quotas.change_policy",),
    "quotas_policy_withdraw": ("quotas.change_policy",),
    "quotas_policy_import": ("quotas.change_policy", "quotas.change_category"),
    "quotas_policy_kinds_import": ("quotas.change_policy", "quotas.change_immediatepickupkind"),
    "quotas_ban_lift": ("quotas.change_ban",),
    "auth_user_password_change": ("auth.change_user",),
    # The feed: sending events again queues deliveries, as an endpoint's replay does.
    "shops_event_changelist": ("shops.view_event", "shops.change_endpoint"),
}
# The URLs a superuser's POST (``post_data``) does write through: every other URL must write
# nothing for anyone, superusers included. A URL the admin adds is posted its page's form where
# ``post_data`` knows it, else nothing: one that then writes fails the test until it is listed
# here with the permissions it takes.
SUPERUSER_WRITES = {
    *CUSTOM_WRITES,
    "auth_group_add",
    "auth_group_change",
    "auth_group_delete",
    "auth_group_changelist",  # delete_selected
    "auth_user_add",
    "auth_user_change",
    "auth_user_delete",
    "auth_user_changelist",
    "axes_accessattempt_change",  # the admin's log says "no fields changed"
    "axes_accessattempt_delete",
    "axes_accessattempt_changelist",
    "axes_accesslog_change",
    "axes_accesslog_delete",
    "axes_accesslog_changelist",
    "axes_accessfailurelog_change",
    "axes_accessfailurelog_delete",
    "axes_accessfailurelog_changelist",
    "knox_authtoken_delete",
    "knox_authtoken_changelist",
    "quotas_policy_add",
    "quotas_policy_change",
    "quotas_policy_delete",
    "quotas_policy_changelist",  # delete_drafts
    "quotas_category_change",
    "quotas_category_delete",
    "quotas_programme_add",
    "quotas_programme_change",
    "quotas_ban_add",
    "shops_operator_add",
    "shops_operator_change",  # the admin's log says "no fields changed"
    "shops_store_add",
    "shops_store_change",
    "shops_terminal_change",  # the admin's log says "no fields changed"
    "shops_terminal_changelist",  # revoke
    "shops_product_add",
    "shops_product_change",
    "shops_endpoint_change",  # the admin's log says "no fields changed"
    "shops_policypreview_add",  # asks for a preview of the draft (its run waits for a commit)
    "shops_policypreview_delete",
    "shops_policypreview_changelist",  # delete_selected
}


@dataclass(frozen=True)
class AdminRoute:
    name: str  # the URL's name, or its route where it has none
    route: str

    @property
    def model_view(self) -> tuple[type[Model], str] | None:
        """The model of a model's own URL and the view (``change`` of ``shops_store_change``;
        ``""`` for the unnamed redirect to the change page)."""
        for model in admin.site._registry:
            opts = model._meta
            if self.route.startswith(f"{opts.app_label}/{opts.model_name}/"):
                view = self.name.removeprefix(f"{opts.app_label}_{opts.model_name}_")
                return model, "" if view == self.route else view
        return None


def admin_routes() -> list[AdminRoute]:
    """Every URL pattern the admin site serves, from the site itself."""

    def walk(patterns: list[Any], prefix: str) -> Iterator[AdminRoute]:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, route)
            else:
                yield AdminRoute(pattern.name or route, route)

    return list(walk(admin.site.get_urls(), ""))


@pytest.fixture
def world(records: dict[str, object]) -> dict[str, Any]:
    """``records`` and what else the admin's URLs act on: a draft with its categories, a
    policy published to take effect later, a return, a staff token, sign-in records, a user
    and a group."""
    now = timezone.now()
    sale = records["sale"]
    assert isinstance(sale, Sale)
    returns.sale_return(
        terminal=records["terminal"],
        sale_id=sale.pk,
        idempotency_key="roles-return",
        fingerprint="roles-return",
        lines=[(sale.lines.get().pk, 1)],
        reason="",
        now=now,
    )
    scheduled = quota_services.policy_clone(policy=records["policy"])
    quota_services.policy_publish(
        policy=scheduled, effective_from=now + timedelta(days=30), now=now
    )
    draft = quota_services.policy_clone(policy=records["policy"])
    target = get_user_model().objects.create_user("target", is_staff=True)
    root = get_user_model().objects.create_superuser("root", "root@example.org", None)
    root_session = Client()
    root_session.force_login(root)
    attempt = {"user_agent": "test", "ip_address": "10.0.0.1", "username": "target"}
    return {
        **records,
        "draft": draft,
        "scheduled": scheduled,
        "category": draft.categories.get(code="cosmetics"),
        "return": Return.objects.get(),
        "user": target,
        "root": root,
        "root_session": root_session,  # for the pages' forms as a superuser sees them
        "group": Group.objects.get(name=AUDITOR),
        "token": AuthToken.objects.create(user=target)[0],
        "accessattempt": AccessAttempt.objects.create(
            **attempt, path_info="/admin/login/", failures_since_start=1
        ),
        "accesslog": AccessLog.objects.create(**attempt, path_info="/admin/login/"),
        "accessfailurelog": AccessFailureLog.objects.create(**attempt, path_info="/admin/login/"),
        "operator": Operator.objects.get(code="CDFG"),
        "policypreview": preview_request(
            policy_id=draft.pk, start=now.date(), end=now.date(), now=now, dispatch=False
        )[0],
        **feed_world(now),
    }


def feed_world(now: datetime) -> dict[str, Any]:
    """The feed's records: the platform's endpoint, the sale's event and its delivery."""
    made = feed_endpoints.create_endpoint(
        url="http://127.0.0.1:9/roles", name="roles", types=None, operator=None,
        kind="integrator", now=now,
    )  # fmt: skip
    feed_delivery.dispatch(now=now)
    return {
        "endpoint": made.endpoint,
        "event": Event.objects.filter(type="sale.completed").get(),
        "delivery": Delivery.objects.filter(event__type="sale.completed").get(),
    }


def target_of(route: AdminRoute, world: dict[str, Any]) -> Any:
    """The record a URL acts on: a policy URL the draft (but clone: the version in force;
    withdraw: the one published to take effect later)."""
    if route.name == "quotas_policy_clone":
        return world["policy"]
    if route.name == "quotas_policy_withdraw":
        return world["scheduled"]
    found = route.model_view
    name = None if found is None else found[0]._meta.model_name
    if name == "policy":
        return world["draft"]
    if name == "authtoken":
        return world["token"]
    return world.get(name) if name else None


def url_of(route: AdminRoute, world: dict[str, Any]) -> str:
    obj = target_of(route, world)
    if route.name == "view_on_site":
        draft = world["draft"]
        return reverse(
            "admin:view_on_site", args=[ContentType.objects.get_for_model(draft).pk, draft.pk]
        )
    if route.name == "app_list":
        return reverse("admin:app_list", args=["quotas"])
    if route.name.endswith("_simple_history"):
        return reverse(f"admin:{route.name}", args=[obj.pk, obj.history.latest("history_id").pk])
    if route.name == route.route:  # no name: the object's bare URL, or the catch-all
        if "<path:object_id>" in route.route:
            return "/admin/" + route.route.replace("<path:object_id>", str(obj.pk))
        return "/admin/no-such-page/"
    if obj is not None and any(part in route.route for part in ("<path:", "<int:", "<id>")):
        return reverse(f"admin:{route.name}", args=[obj.pk])
    return reverse(f"admin:{route.name}")


def add_data(model: type[Model], world: dict[str, Any]) -> dict[str, Any]:
    """A valid add form of each model an administrator adds records of."""
    label = model._meta.label_lower
    if label == "quotas.policy":
        rules = page_form_data_of(world["draft"], world)
        no_rows = {
            f"{inline}-{count}": "0"
            for inline in ("categories", "immediate_kinds")
            for count in ("TOTAL_FORMS", "INITIAL_FORMS")
        }
        return {
            "programme": world["programme"].pk,
            "name_zh": "新版本",
            "name_en": "New version",
            **{key: value for key, value in rules.items() if key in Policy.RULE_FIELDS},
            **no_rows,
        }
    forms = {
        "auth.group": {"name": "new group"},
        "auth.user": {
            "username": "new-user",
            "usable_password": "false",
            # The operator box (shops.admin.OperatorStaffInline), left empty: the platform's.
            "operator_staff-TOTAL_FORMS": "0",
            "operator_staff-INITIAL_FORMS": "0",
        },
        "quotas.programme": {
            "code": "other",
            "name_zh": "其他",
            "name_en": "Other",
            "currency": "CNY",
        },
        "quotas.ban": {
            "shopper": world["shopper"].pk,
            "reason": "customs_decision",
            "starts_at_0": "2025-01-01",
            "starts_at_1": "00:00",
            "years": "1",
        },
        "shops.operator": {
            "code": "ROLEOP",
            "name_zh": "新运营商",
            "name_en": "New operator",
            "stores-TOTAL_FORMS": "0",  # its stores' list (read only), empty
            "stores-INITIAL_FORMS": "0",
        },
        "shops.store": {
            "code": "ROLE-ADD",
            "name_zh": "新店",
            "name_en": "New store",
            "city": "sanya",
            "operator": "",
            "channel": "physical",
            "active": "on",
        },
        "shops.policypreview": {
            "policy": world["draft"].pk,
            "start": "2026-01-01",
            "end": "2026-01-31",
        },
        "shops.product": {
            "sku": "ROLE-ADD",
            "name_zh": "新品",
            "name_en": "New product",
            "brand": "Test",
            "category_code": "cosmetics",
            "retail_price": "100.00",
            "pieces": "1",
            "active": "on",
        },
    }
    return forms.get(label, {})


def page_form_data_of(obj: Model, world: dict[str, Any]) -> dict[str, Any]:
    """What the object's change page posts, as a superuser sees it."""
    page = world["root_session"].get(admin_url(type(obj), "change", obj))
    if page.status_code != 200 or not page.context or "adminform" not in page.context:
        return {}  # a page of its own (a policy preview's), no model form
    return page_form_data(page)


def post_data(route: AdminRoute, world: dict[str, Any]) -> dict[str, Any]:
    """What a browser would post to the URL for it to write what it writes."""
    draft = world["draft"]
    if route.name == "quotas_policy_import":
        text = category_csv.export_categories(draft.categories.all())
        return {"file": SimpleUploadedFile("c.csv", text.encode())}
    if route.name == "quotas_policy_kinds_import":
        text = kind_csv.export_kinds(draft.immediate_kinds.all()[:1])
        return {"file": SimpleUploadedFile("k.csv", text.encode())}
    if route.name == "quotas_ban_lift":
        return {"reason": "matrix"}
    if route.name == "quotas_policy_publish":  # now
        return {"effective_from_0": "", "effective_from_1": ""}
    if route.name == "quotas_shopper_search":
        return {"q": "1230"}
    if route.name == "auth_user_password_change":
        return {"password1": "Matrix-pass-2031", "password2": "Matrix-pass-2031"}
    found = route.model_view
    if found is None:
        return {}
    model, view = found
    obj = target_of(route, world)
    if view == "add":
        return add_data(model, world)
    if view in ("change", "simple_history"):
        return page_form_data_of(obj, world)
    if view == "delete":
        return {"post": "yes"}
    if view == "changelist":
        request = RequestFactory().get("/admin/")
        request.user = world["root"]
        actions = list(admin.site._registry[model].get_actions(request))
        if not actions:
            return {}
        return {"action": actions[0], "_selected_action": [obj.pk], "index": 0, "post": "yes"}
    return {}


def permissions_of(route: AdminRoute, world: dict[str, Any]) -> tuple[str, ...]:
    """The permissions a write through the URL takes (see ``CUSTOM_WRITES``)."""
    if route.name in CUSTOM_WRITES:
        return CUSTOM_WRITES[route.name]
    found = route.model_view
    assert found is not None, f"{route.name} writes but takes no model's permission"
    model, view = found
    opts = model._meta
    if view == "changelist":
        data = post_data(route, world)
        action = admin.site._registry[model].get_action(data["action"])
        assert action is not None
        view = action[0].allowed_permissions[0]  # type: ignore[attr-defined]  # @admin.action
    return (f"{opts.app_label}.{view}_{opts.model_name}",)


def database_state() -> dict[str, str]:
    """A digest of every table's rows but the sessions' (signing in writes one), by table."""
    tables = [
        table for table in connection.introspection.table_names() if table != "django_session"
    ]
    # Table names from the database's own catalogue, quoted: no outside text in the statement.
    digest = "(SELECT md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), '')) FROM {} t)"
    columns = ", ".join(digest.format(connection.ops.quote_name(table)) for table in tables)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns}")
        return dict(zip(tables, cursor.fetchone(), strict=True))


@pytest.mark.parametrize("role", EVERYONE)
def test_every_admin_url_writes_only_with_its_models_permission(
    role: str, world: dict[str, Any]
) -> None:
    """Each role POSTs to every URL of the admin (a page's own form where it has one, as a
    superuser sees it): the database changes exactly when a superuser's POST changes it and the
    role holds the permissions the write takes. Each POST is rolled back after the look."""
    user = None
    if role == SUPERUSER:
        user = get_user_model().objects.create_superuser("matrix-super", "s@example.org", None)
    elif role == NO_ROLE:
        user = get_user_model().objects.create_user("no-role", is_staff=True)
    elif role != ANONYMOUS:
        user = member_of(role)
    wrong = wrong_writes(user, world, lambda route: True)
    assert wrong == [], f"{role}:\n" + "\n".join(wrong)


@pytest.mark.parametrize("role", [EDITOR, MANAGER, AUDITOR])
def test_another_operators_people_write_nothing_of_this_one(
    role: str, world: dict[str, Any]
) -> None:
    """The same, by Hainan Duty Free's staff member in each role, on a world of CDFG's store:
    they write only what their role allows and is not CDFG's (a store or product they add is
    their own), nor the platform's (the island catalogue's product, the policy, the users:
    operators.backends)."""
    user = member_of(role)
    set_operator(user, Operator.objects.get(code="HNDF"))
    # The world's are CDFG's, and its product the island catalogue's (read, not changed).
    theirs = {"store", "terminal", "sale", "return", "product", "endpoint", "event", "delivery"}

    def not_cdfgs(route: AdminRoute) -> bool:
        found = route.model_view
        if found is None or found[1] == "add":
            return True
        return found[0]._meta.model_name not in theirs

    wrong = wrong_writes(user, world, not_cdfgs)
    assert wrong == [], f"HNDF {role}:\n" + "\n".join(wrong)


def wrong_writes(
    user: AbstractBaseUser | None, world: dict[str, Any], reachable: Callable[[AdminRoute], bool]
) -> list[str]:
    """POST every admin URL as ``user`` (none: anonymous): the URLs that wrote where they
    should not have, or did not write where they should — where a superuser's POST writes,
    ``user`` holds the permissions of that write and the row is ``reachable`` for them."""
    from quotas.selectors import policy_cache_clear

    web = Client(raise_request_exception=False)
    if user is not None:
        web.force_login(user)
    routes = admin_routes()
    assert len(routes) > 100
    wrong = []
    before = database_state()  # as before every POST: each is rolled back
    for route in routes:
        url, data = url_of(route, world), post_data(route, world)
        may = (
            route.name in SUPERUSER_WRITES
            and user is not None
            and user.has_perms(permissions_of(route, world))
            and reachable(route)
        )
        with transaction.atomic():
            response = web.post(url, data)
            after = database_state() if response.status_code != 500 else before
            transaction.set_rollback(True)
        policy_cache_clear()
        changed = sorted(table for table in before if before[table] != after[table])
        if route.name == "logout":  # django-axes notes when a signed-in user signs out
            changed = [table for table in changed if table != "axes_accesslog"]
        if response.status_code == 500 or bool(changed) != may:
            status = f"{response.status_code} {response.get('Location', '')}".strip()
            wrong.append(f"{route.name} {url} → {status}, wrote {changed or 'nothing'}")
        if user is not None and not web.session.exists(web.session.session_key):
            web.force_login(user)  # signed out, or a password change's new session rolled back
            before = database_state()
    return wrong
