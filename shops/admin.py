"""Stores, terminals, products and sales in the admin.

Sales, their lines and returns are records: read-only here (they change only through the
terminal API, which judges and books them). Terminals are created with ``create_terminal``
(the key is shown once) and revoked here.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from knox.models import AuthToken
from rest_framework.authtoken.models import TokenProxy

from dutyfree import money
from dutyfree.language import in_language
from quotas.selectors import immediate_kinds_known
from shops.feed.reconcile import customs_of
from shops.imports.products import (
    category_code_unknown,
    immediate_kind_problem,
    known_category_codes,
)
from shops.models import Operator, OperatorStaff, Product, Return, Sale, SaleLine, Store, Terminal
from shops.operators.admin import OperatorScoped
from shops.operators.scope import is_platform, operator_of

# DRF's own token table stays installed only for its migrations and is always empty.
admin.site.unregister(TokenProxy)
# Staff tokens are django-rest-knox's: issued only by `create_staff_token` (which enforces the
# lifetime and prints the key once to the operator). knox's own admin could add a token with no
# expiry and hands the key over in a message cookie, so it is replaced by a list to see who
# holds a token until when, and to revoke (delete) one.
admin.site.unregister(AuthToken)


@admin.register(AuthToken)
class StaffTokenAdmin(admin.ModelAdmin):
    # knox's columns have no verbose names: these say them in the page's language.
    list_display = ("holder", "issued", "expires")
    list_filter = ("user",)
    ordering = ("-created",)
    fields = ("holder", "issued", "expires")
    readonly_fields = fields

    @admin.display(description=_("staff user"), ordering="user")
    def holder(self, token: AuthToken) -> object:
        return token.user

    @admin.display(description=_("issued at"), ordering="created")
    def issued(self, token: AuthToken) -> object:
        return token.created

    @admin.display(description=_("expires at"), ordering="expiry")
    def expires(self, token: AuthToken) -> object:
        return token.expiry

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class OperatorStoreInline(admin.TabularInline):
    """An operator's stores, as its page lists them (a store changes operator on its own page)."""

    model = Store
    fields = ("code", "name_zh", "name_en", "city", "channel", "active")
    readonly_fields = fields
    extra = 0
    show_change_link = True
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Operator)
class OperatorAdmin(OperatorScoped, admin.ModelAdmin):
    list_display = ("code", "name_zh", "name_en", "store_codes")
    search_fields = ("code", "name_zh", "name_en")
    inlines = [OperatorStoreInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Operator]:
        """Every operator for the platform's people; an operator's people their own alone
        (another's page is a 404, as its stores' are)."""
        operators = admin.ModelAdmin.get_queryset(self, request).prefetch_related("stores")
        own = operator_of(request.user)
        return operators if own is None else operators.filter(pk=own.pk)

    @admin.display(description=_("stores"))
    def store_codes(self, operator: Operator) -> str:
        return ", ".join(sorted(store.code for store in operator.stores.all())) or "—"

    def has_delete_permission(self, request: HttpRequest, obj: Operator | None = None) -> bool:
        return False  # operators with stores are kept (PROTECT); one without is kept too

    def has_add_permission(self, request: HttpRequest) -> bool:
        return is_platform(request.user) and super().has_add_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: Operator | None = None) -> bool:
        return is_platform(request.user) and super().has_change_permission(request, obj)


class OperatorStaffInline(admin.StackedInline):
    """Which operator a staff user works for, on the user's page: none is the platform's.
    Only a platform administrator (a superuser of no operator's) changes it."""

    model = OperatorStaff
    fields = ("operator",)
    extra = 0
    max_num = 1
    can_delete = True
    verbose_name = _("operator")
    verbose_name_plural = _("operator (none: the platform's)")

    def _platform_admin(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser) and is_platform(request.user)

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return self._platform_admin(request)

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return self._platform_admin(request)

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return self._platform_admin(request)

    def has_view_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return bool(request.user.is_staff)


_User = get_user_model()
_UserAdmin = type(admin.site.get_model_admin(_User))
admin.site.unregister(_User)


@admin.register(_User)
class StaffUserAdmin(_UserAdmin):  # type: ignore[valid-type,misc]  # the installed user admin
    """Django's user admin, with the operator each staff user works for."""

    inlines = (*_UserAdmin.inlines, OperatorStaffInline)
    list_display = (*_UserAdmin.list_display, "works_for")
    list_select_related = ("operator_staff__operator",)

    @admin.display(description=_("operator"), ordering="operator_staff__operator__code")
    def works_for(self, user: Any) -> str:
        staff = getattr(user, "operator_staff", None)
        return staff.operator.code if staff is not None else gettext("platform")


@admin.register(Store)
class StoreAdmin(OperatorScoped):
    store_lookup = "pk"
    list_display = (
        "code", "name_zh", "short_name_zh", "name_en", "short_name_en", "city", "operator",
        "channel", "active",
    )  # fmt: skip
    list_filter = (("operator", admin.RelatedOnlyFieldListFilter), "city", "channel", "active")
    list_select_related = ("operator",)
    search_fields = ("code", "name_zh", "name_en", "short_name_zh", "short_name_en")

    def has_delete_permission(self, request: HttpRequest, obj: Store | None = None) -> bool:
        return False  # stores with sales are kept; deactivate instead

    def get_readonly_fields(self, request: HttpRequest, obj: Store | None = None) -> Any:
        # Only the platform moves a store between operators.
        fixed = () if is_platform(request.user) else ("operator",)
        return (*super().get_readonly_fields(request, obj), *fixed)

    def save_model(self, request: HttpRequest, obj: Store, form: Any, change: bool) -> None:
        operator = operator_of(request.user)
        if operator is not None and not change:  # an operator's people add their own stores
            obj.operator = operator
        super().save_model(request, obj, form, change)


@admin.register(Terminal)
class TerminalAdmin(OperatorScoped):
    list_display = ("name", "store", "training", "key_prefix", "created_at", "revoked_at")
    list_filter = (("store", admin.RelatedOnlyFieldListFilter), "training", "revoked_at")
    search_fields = ("name", "key_prefix")
    readonly_fields = ("store", "name", "key_prefix", "created_at", "revoked_at")
    # Only whether it trains cashiers is set here: its store, name and key are its identity.
    fields = (*readonly_fields, "training")
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # `manage.py create_terminal` shows the key once

    def has_delete_permission(self, request: HttpRequest, obj: Terminal | None = None) -> bool:
        return False

    @admin.action(description=_("Revoke the selected terminals' keys"), permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[Terminal]) -> None:
        count = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        self.message_user(
            request,
            ngettext("Revoked %(count)d terminal key.", "Revoked %(count)d terminal keys.", count)
            % {"count": count},
            messages.SUCCESS,
        )


# A price below this is saved, with a warning: more likely a slip (0.01 for 100.00) than a sale.
PRICE_WARNING_BELOW = Decimal("1.00")


class ProductForm(forms.ModelForm):
    """A product checked as ``import_products`` checks a file's rows: its category one of a
    policy's, its immediate-pickup kind chosen from the kinds the published policies list (a
    known kind, of the product's category where the kind names one, as the policy in force
    says)."""

    immediate_kind = forms.ChoiceField(
        label=Product._meta.get_field("immediate_kind").verbose_name,
        required=False,
        help_text=_(
            "Blank: never picked up at once. The kinds of the immediate-pickup list of the "
            "published policies."
        ),
    )

    class Meta:
        model = Product
        fields = (
            "sku",
            "name_zh",
            "name_en",
            "brand",
            "barcode",
            "category_code",
            "immediate_kind",
            "retail_price",
            "volume_ml",
            "pieces",
            "active",
            "operator",
        )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        known = immediate_kinds_known(at=timezone.now())
        self.kinds = {code: kind.category_code for code, kind in known.items()}
        choices = [("", "—")] + [
            (
                code,
                f"{code} — {in_language(zh=kind.name_zh, en=kind.name_en)}"
                + (f" ({kind.category_code})" if kind.category_code else ""),
            )
            for code, kind in known.items()
        ]
        current = self.instance.immediate_kind
        if current and current not in known:  # shown as it is, refused on save
            unlisted = gettext("%(kind)s (no published policy lists it)") % {"kind": current}
            choices.append((current, unlisted))
        self.fields["immediate_kind"].choices = choices  # type: ignore[attr-defined]  # a ChoiceField

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        code = cleaned.get("category_code") or ""
        if category_code_unknown(code, known_category_codes()):
            self.add_error(
                "category_code",
                gettext(
                    "No policy has the category %(code)s: a product's category must be one "
                    "of a policy's categories (a draft's too)."
                )
                % {"code": code},
            )
        problem = immediate_kind_problem(
            cleaned.get("immediate_kind") or "", cleaned.get("category_code") or "", self.kinds
        )
        if problem:
            self.add_error("immediate_kind", problem)
        if "operator" not in self.fields:  # an operator's person: the catalogue is theirs
            self._check_sku_free(cleaned.get("sku") or "")
        return cleaned

    def _check_sku_free(self, sku: str) -> None:
        """With the catalogue not on the form, Django's own check of the (SKU, catalogue)
        constraint is skipped: the same, on the catalogue the instance was given."""
        taken = Product.objects.filter(sku=sku, operator_id=self.instance.operator_id).exclude(
            pk=self.instance.pk
        )
        if sku and taken.exists():
            self.add_error("sku", gettext("This catalogue already has a product with this SKU."))


@admin.register(Product)
class ProductAdmin(OperatorScoped, admin.ModelAdmin):
    """The catalogues: an operator's people see their own products and the island catalogue
    their stores also sell, and change only their own; the platform's see and change all."""

    form = ProductForm
    list_display = (
        "sku",
        "catalogue",  # before the wide columns, so a narrow screen shows whose it is
        "name_zh",
        "brand",
        "category_code",
        "immediate_kind",
        "barcode",
        "retail_price",
        "volume_ml",
        "pieces",
        "active",
    )
    list_filter = (
        "category_code",
        "immediate_kind",
        "active",
        ("operator", admin.RelatedOnlyFieldListFilter),
    )
    search_fields = ("sku", "barcode", "name_zh", "name_en", "brand")
    list_select_related = ("operator",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Product]:
        products = admin.ModelAdmin.get_queryset(self, request)
        operator = operator_of(request.user)
        if operator is None:
            return products
        return products.filter(Q(operator=operator) | Q(operator__isnull=True))

    @admin.display(description=_("catalogue"), ordering="operator__code")
    def catalogue(self, product: Product) -> str:
        return product.operator.code if product.operator else gettext("island")

    def _own(self, request: HttpRequest, product: Product | None) -> bool:
        """Whether ``request``'s user may change ``product``: the platform's people any, an
        operator's people their operator's (not the island catalogue's)."""
        operator = operator_of(request.user)
        return operator is None or product is None or product.operator_id == operator.pk

    def has_change_permission(self, request: HttpRequest, obj: Product | None = None) -> bool:
        return self._own(request, obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Product | None = None) -> bool:
        # Asked of each object of a bulk delete too (Django's get_deleted_objects): a
        # selection with an island product in it is refused as a whole.
        return self._own(request, obj) and super().has_delete_permission(request, obj)

    def get_readonly_fields(self, request: HttpRequest, obj: Product | None = None) -> Any:
        fields = super().get_readonly_fields(request, obj)
        return fields if is_platform(request.user) else (*fields, "operator")

    def get_form(
        self, request: HttpRequest, obj: Product | None = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form = super().get_form(request, obj, change, **kwargs)
        operator = operator_of(request.user)
        if operator is None or obj is not None:
            return form

        class OwnProductForm(form):  # type: ignore[misc, valid-type]  # a form class built above
            """A new product of an operator's person's: in their operator's catalogue, given
            before validation so the SKU is checked against that catalogue."""

            def __init__(self, *args: Any, **kwargs: Any) -> None:
                super().__init__(*args, **kwargs)
                self.instance.operator = operator

        return OwnProductForm

    def save_model(
        self, request: HttpRequest, obj: Product, form: forms.ModelForm, change: bool
    ) -> None:
        operator = operator_of(request.user)
        if operator is not None:
            obj.operator = operator  # never another catalogue, whatever was posted
        super().save_model(request, obj, form, change)
        if obj.retail_price < PRICE_WARNING_BELOW:
            self.message_user(
                request,
                gettext(
                    "The price of %(sku)s is %(price)s yuan, below %(floor)s: saved, but check "
                    "that it is not a slip."
                )
                % {
                    "sku": obj.sku,
                    "price": money.to_str(obj.retail_price),
                    "floor": money.to_str(PRICE_WARNING_BELOW),
                },
                messages.WARNING,
            )


class SaleLineInline(admin.TabularInline):
    model = SaleLine
    extra = 0
    fields = (
        "line_no",
        "sku",
        "category_code",
        "quantity",
        "returned_quantity",
        "unit_price",
        "amount",
    )
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Sale)
class SaleAdmin(OperatorScoped, ReadOnlyAdmin):
    list_display = (
        "receipt_no",
        "store",
        "sold_at",
        "total",
        "returned_amount",
        "status",
        "pickup",
        "traveller_kind",
        "training",
    )
    list_filter = (
        "status", "pickup", "traveller_kind", "training",
        ("store", admin.RelatedOnlyFieldListFilter), "local_date",
    )  # fmt: skip
    search_fields = ("receipt_no",)
    date_hierarchy = "local_date"
    list_select_related = ("store",)
    inlines = [SaleLineInline]
    exclude = ("request_fingerprint",)
    readonly_fields = ("customs_status",)

    @admin.display(description=_("customs"))
    def customs_status(self, sale: Sale) -> str:
        """The sale's report to customs (the feed's customs channel), as its API answer says."""
        state = customs_of([sale])[sale.pk]
        label = {
            "delivered": gettext("delivered"),
            "pending": gettext("pending"),
            "failed": gettext("failed"),
            "not_configured": gettext("no customs channel"),
            "training": gettext("never reported: a training sale"),
        }[state.status]
        return f"{label} {timezone.localtime(state.at):%Y-%m-%d %H:%M:%S}" if state.at else label


@admin.register(Return)
class ReturnAdmin(OperatorScoped, ReadOnlyAdmin):
    store_lookup = "sale__store"
    list_display = ("id", "sale", "amount", "reason", "created_at")
    search_fields = ("sale__receipt_no",)
    list_select_related = ("sale",)


# The event feed's pages (endpoints, events, deliveries): registered by being imported.
from shops.feed import admin as feed_admin  # noqa: E402, F401

# The policy previews' pages: registered by being imported.
from shops.previews import admin as previews_admin  # noqa: E402, F401
