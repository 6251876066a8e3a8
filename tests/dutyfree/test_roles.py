"""Admin roles (groups made by shops/migrations/0004_roles.py), checked through the admin.

Each test logs in a staff user whose only permissions come from one group, and checks what the
admin lets that user see and do: pages (200 or 403), buttons ("Add", "Save") and, for every
refused write, that nothing changed.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, Group, Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from quotas import category_csv, kind_csv
from quotas import services as quota_services
from quotas.models import Ban, Policy, Programme, Shopper
from shops import checkout
from shops.models import Product, Sale, Store, Terminal
from tests.admin_forms import page_form_data
from tests.shops import helpers

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
    helpers.product("ROLE-LIP", "cosmetics", "320.00")
    term, _ = helpers.terminal("SYA-HTB")
    sale = checkout.sale_commit(
        terminal=term,
        idempotency_key="roles-1",
        fingerprint="roles-1",
        basket=helpers.basket(("ROLE-LIP", 1)),
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
    } | {"view_ban"}
    assert codenames(MANAGER) == {
        f"{action}_{model}"
        for model in ("store", "terminal", "product")
        for action in ("add", "change", "view")
    } | {"view_sale", "view_saleline", "view_return", "view_returnline"}
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
                "operator": "Test",
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
