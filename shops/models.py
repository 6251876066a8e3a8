"""Stores, terminals, products, and the sales they make."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dutyfree.language import in_language
from quotas.choices import SALE_TRAVELLER_KINDS, PickupMode, choices_of
from quotas.models import Policy, QuotaAccount, Shopper, Trip, code_validator

# A product's SKU and barcode: the model, the catalogue import, the till's search and the sales
# importer all check them with these. (The validators take the text, as the migrations name it.)
SKU = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-]{0,63}$")
BARCODE = re.compile(r"^[A-Za-z0-9\-]{1,64}$")
sku_validator = RegexValidator(SKU.pattern, "1–64 letters, digits, dots, dashes or underscores.")
barcode_validator = RegexValidator(BARCODE.pattern, "1–64 letters, digits or dashes.")
MONEY: dict[str, Any] = {"max_digits": 14, "decimal_places": 2}


class StoreChannel(models.TextChoices):
    """Where a store sells: immediate pickup (即购即提) is for physical stores only."""

    PHYSICAL = "physical", _("physical store")
    ONLINE = "online", _("online")


SHORT_NAME_LENGTH = 32


class Operator(models.Model):
    """A company licensed to run duty-free stores (CDFG, Hainan Duty Free, …). Its people see and
    change only its own stores and what happened there (shops.operators); the quota, a trip's
    limits and bans stay island-wide, whichever operator sells."""

    code = models.CharField(
        _("code"),
        max_length=16,
        unique=True,
        validators=[RegexValidator(r"^[A-Z][A-Z0-9\-]{1,15}$")],
        help_text=_("Upper-case letters, digits and hyphens, e.g. CDFG."),
    )
    name_zh = models.CharField(_("Chinese name"), max_length=200)
    name_en = models.CharField(_("English name"), max_length=200)

    class Meta:
        verbose_name = _("operator")
        verbose_name_plural = _("operators")
        ordering = ("code",)

    def __str__(self) -> str:
        return f"{self.code} {in_language(zh=self.name_zh, en=self.name_en)}"


class Store(models.Model):
    code = models.CharField(
        _("code"),
        max_length=16,
        unique=True,
        validators=[RegexValidator(r"^[A-Z0-9][A-Z0-9\-]{1,15}$")],
    )
    name_zh = models.CharField(_("Chinese name"), max_length=200)
    name_en = models.CharField(_("English name"), max_length=200)
    # What a chart or a table shows where the full names, cut to fit, would read alike
    # ("cdf Sanya International Duty Fr…"); blank: the full name.
    short_name_zh = models.CharField(
        _("Chinese short name"), max_length=SHORT_NAME_LENGTH, blank=True, default="", db_default=""
    )
    short_name_en = models.CharField(
        _("English short name"), max_length=SHORT_NAME_LENGTH, blank=True, default="", db_default=""
    )
    # The company that runs the store; none for a store of the platform's own (a test or
    # training store), which only platform staff see.
    operator = models.ForeignKey(
        Operator,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="stores",
        verbose_name=_("operator"),
    )
    city = models.CharField(_("city"), max_length=64)
    channel = models.CharField(
        _("channel"),
        max_length=8,
        choices=StoreChannel.choices,
        default=StoreChannel.PHYSICAL,
        help_text=_("An online store never sells with immediate pickup."),
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("store")
        verbose_name_plural = _("stores")
        constraints = [
            # Two stores with one short name would be one bar on the dashboard.
            models.UniqueConstraint(
                fields=[field],
                condition=~models.Q(**{field: ""}),
                name=f"store_{field}_unique",
                violation_error_message=_("Another store has this short name."),
            )
            for field in ("short_name_zh", "short_name_en")
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name_zh}"

    def names(self, language: str) -> tuple[str, str]:
        """The full and the short name in the language (English for ``en*``, else Chinese); a
        blank short name is the full one."""
        if language.startswith("en"):
            return self.name_en, self.short_name_en or self.name_en
        return self.name_zh, self.short_name_zh or self.name_zh


class OperatorStaff(models.Model):
    """A staff user who works for an operator, and so sees and changes only its stores. A staff
    user with none belongs to the platform (customs, administrators) and sees every store. Only
    a platform administrator gives or changes it (shops.operators, the users' admin)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="operator_staff",
        verbose_name=_("user"),
    )
    operator = models.ForeignKey(
        Operator, on_delete=models.PROTECT, related_name="staff", verbose_name=_("operator")
    )

    class Meta:
        verbose_name = _("operator's staff member")
        verbose_name_plural = _("operator's staff")

    def __str__(self) -> str:
        return f"{self.user} ({self.operator.code})"

    def clean(self) -> None:
        # A superuser holds every permission, the platform's included (operators.backends).
        if self.user_id is not None and self.user.is_superuser:
            raise ValidationError(
                _("A superuser belongs to the platform: an operator's people get roles.")
            )


class Terminal(models.Model):
    """A point-of-sale terminal. Its API key is shown once; only a SHA-256 hash is stored.

    Keys look like ``df_<prefix>_<secret>``: the prefix finds the row, the secret's hash is
    compared in constant time. Secrets are 256 random bits, so a fast hash is enough.
    """

    store = models.ForeignKey(
        Store, on_delete=models.PROTECT, related_name="terminals", verbose_name=_("store")
    )
    name = models.CharField(_("name"), max_length=100)
    key_prefix = models.CharField(_("key prefix"), max_length=16, unique=True, editable=False)
    key_hash = models.CharField(_("key hash"), max_length=64, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    training = models.BooleanField(
        _("training"),
        default=False,
        db_default=False,
        help_text=_(
            "A terminal for training cashiers: it sells through the same screen, and its sales "
            "never touch a shopper's quota, the dashboards, the books or the event feed."
        ),
    )

    class Meta:
        verbose_name = _("terminal")
        verbose_name_plural = _("terminals")
        constraints = [
            models.UniqueConstraint(fields=["store", "name"], name="terminal_name_unique_in_store")
        ]

    def __str__(self) -> str:
        return f"{self.store.code}/{self.name}"

    @staticmethod
    def hash_secret(secret: str) -> str:
        return hashlib.sha256(secret.encode()).hexdigest()

    @classmethod
    def new_key(cls) -> tuple[str, str, str]:
        """A fresh key: (full key to show once, prefix, hash to store)."""
        prefix = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        return f"df_{prefix}_{secret}", prefix, cls.hash_secret(secret)

    def key_matches(self, secret: str) -> bool:
        return hmac.compare_digest(self.key_hash, self.hash_secret(secret))

    @staticmethod
    def split_key(key: str) -> tuple[str, str] | None:
        """A key's (prefix, secret), or None for text that is not shaped as a key."""
        parts = key.split("_", 2)
        if len(parts) != 3 or parts[0] != "df" or not parts[1] or not parts[2] or len(key) > 200:
            return None
        return parts[1], parts[2]


class Product(models.Model):
    # Unique per catalogue (Meta): an operator's own, or the island's (no operator).
    sku = models.CharField(_("SKU"), max_length=64, validators=[sku_validator])
    # Whose catalogue the product is in: an operator's (its stores sell it, at its price), or
    # none, the island catalogue every store sells. A store sells its operator's product where
    # both list a SKU (shops.pos.checkout.sold_here); its people see and change only their own.
    operator = models.ForeignKey(
        Operator,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="products",
        verbose_name=_("operator"),
        help_text=_("Blank: the island catalogue, sold at every store."),
    )
    name_zh = models.CharField(_("Chinese name"), max_length=200)
    name_en = models.CharField(_("English name"), max_length=200)
    brand = models.CharField(_("brand"), max_length=100, blank=True)
    # The code printed under the bars (EAN-13, UPC-A ...), as a till's scanner reads it; empty
    # when unknown. Indexed: a till finds a product by it (GET /api/v1/products?barcode=).
    barcode = models.CharField(
        _("barcode"), max_length=64, blank=True, db_index=True, validators=[barcode_validator]
    )
    category_code = models.CharField(_("category"), max_length=64, db_index=True)
    retail_price = models.DecimalField(
        _("retail price"), **MONEY, validators=[MinValueValidator(Decimal("0.01"))]
    )
    volume_ml = models.PositiveIntegerField(
        _("volume (ml)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=_("Per unit."),
    )
    pieces = models.PositiveSmallIntegerField(
        _("pieces"),
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(1000)],
        help_text=_("Pieces per unit: a set of five counts five."),
    )
    # The kind of the immediate-pickup list (即购即提) the product is, by the kind's code
    # (quotas.models.ImmediatePickupKind); empty: never picked up at once.
    immediate_kind = models.CharField(
        _("immediate-pickup kind"),
        max_length=64,
        blank=True,
        validators=[code_validator],
        help_text=_("Blank: never picked up at once."),
    )
    active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        constraints = [
            models.CheckConstraint(condition=Q(retail_price__gt=0), name="product_price_positive"),
            models.CheckConstraint(condition=Q(pieces__gte=1), name="product_pieces_positive"),
            # SKU first: a sale finds its basket's products by SKU. NULLs not distinct: one
            # island product per SKU, as one per operator.
            models.UniqueConstraint(
                fields=["sku", "operator"],
                name="product_sku_unique_per_catalogue",
                nulls_distinct=False,
                violation_error_message=_("This catalogue already has a product with this SKU."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sku} {self.name_zh}"


class SaleStatus(models.TextChoices):
    COMPLETED = "completed", _("completed")
    VOIDED = "voided", _("voided")


class Sale(models.Model):
    # Unique by a constraint (Meta), not unique=True: that would add a second, text-pattern
    # index on PostgreSQL that no query uses (the admin's search is icontains) and every
    # sale writes.
    receipt_no = models.CharField(_("receipt number"), max_length=40)
    # Reference rows every sale points at (store, terminal, policy, product) carry no database
    # foreign key: with one, each sale would share-lock the same few hot rows, and concurrent
    # sales would pile up multixacts on them. They are never deleted (PROTECT, and published
    # policies refuse deletion in the model layer). Indexes only where a query needs them.
    store = models.ForeignKey(
        Store,
        on_delete=models.PROTECT,
        related_name="sales",
        db_constraint=False,
        db_index=False,
        verbose_name=_("store"),
    )
    terminal = models.ForeignKey(
        Terminal,
        on_delete=models.PROTECT,
        related_name="sales",
        db_constraint=False,
        db_index=False,  # the (terminal, idempotency_key) unique index serves it
        verbose_name=_("terminal"),
    )
    shopper = models.ForeignKey(
        Shopper,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        verbose_name=_("shopper"),
    )  # (shopper, sold_at) serves it
    trip = models.ForeignKey(
        Trip,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("trip"),
    )
    account = models.ForeignKey(
        QuotaAccount,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        verbose_name=_("quota account"),
    )
    policy = models.ForeignKey(
        Policy,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("The rules that judged it."),
        db_constraint=False,
        db_index=False,
        verbose_name=_("policy"),
    )
    sold_at = models.DateTimeField(
        _("sold at"),
    )
    local_date = models.DateField(
        _("local date"), help_text=_("The sale's calendar day in Asia/Shanghai.")
    )
    pickup = models.CharField(_("pickup"), max_length=16, choices=PickupMode.choices)
    # The shopper as presented with the basket, which the shopper's row does not keep (it keeps
    # the year of birth and the residence as last presented): a policy preview judges the sale
    # again with them. NULL on sales recorded before they were kept.
    shopper_age = models.SmallIntegerField(
        _("age at the sale"), null=True, blank=True, validators=[MinValueValidator(0)]
    )
    shopper_resident = models.BooleanField(_("Hainan resident at the sale"), null=True, blank=True)
    traveller_kind = models.CharField(
        _("traveller kind"), max_length=8, choices=choices_of(SALE_TRAVELLER_KINDS)
    )
    status = models.CharField(
        _("status"), max_length=10, choices=SaleStatus.choices, default=SaleStatus.COMPLETED
    )
    total = models.DecimalField(_("total"), **MONEY)
    returned_amount = models.DecimalField(
        _("returned amount"), **MONEY, default=Decimal("0.00"), db_default=Decimal("0.00")
    )
    quota_used_after = models.DecimalField(
        _("quota used after"), **MONEY, help_text=_("The account's used after the sale.")
    )
    # A sale picked up at once: each listed kind's cap as the sale was judged (limit, used
    # before, requested), so that a replay answers exactly as the first answer did.
    immediate_limits = models.JSONField(null=True, blank=True, editable=False)
    picked_up_at = models.DateTimeField(_("picked up at"), null=True, blank=True)
    voided_at = models.DateTimeField(_("voided at"), null=True, blank=True)
    # The sale is its own idempotency record: the key is unique per terminal, the fingerprint
    # tells a retry from a reuse, and the first answer is rebuilt from immutable columns.
    idempotency_key = models.CharField(_("idempotency key"), max_length=255)
    request_fingerprint = models.CharField(_("request fingerprint"), max_length=64)
    imported = models.BooleanField(
        _("imported"), default=False, help_text=_("From a legacy system, not judged.")
    )
    training = models.BooleanField(
        _("training"),
        default=False,
        db_default=False,
        help_text=_("Sold at a training terminal: no quota, rollups, audit or events."),
    )

    class Meta:
        verbose_name = _("sale")
        verbose_name_plural = _("sales")
        constraints = [
            models.UniqueConstraint(fields=["receipt_no"], name="sale_receipt_no_unique"),
            models.UniqueConstraint(
                fields=["terminal", "idempotency_key"], name="sale_idempotency_key_per_terminal"
            ),
            models.CheckConstraint(
                condition=Q(total__gte=0)
                & Q(returned_amount__gte=0)
                & Q(returned_amount__lte=F("total")),
                name="sale_amounts_consistent",
            ),
        ]
        indexes = [
            models.Index(fields=["local_date", "store"]),
            models.Index(fields=["shopper", "sold_at"]),
        ]

    def __str__(self) -> str:
        return self.receipt_no


class SaleLine(models.Model):
    sale = models.ForeignKey(
        Sale,
        on_delete=models.PROTECT,
        related_name="lines",
        db_index=False,
        verbose_name=_("sale"),
    )  # the (sale, line_no) unique index serves it
    # The counts below are plain integers checked by one constraint of the table's (Meta), not
    # Positive*Fields: each of those adds a CHECK of its own, and PostgreSQL prepares every
    # CHECK of a table anew for each statement that writes it (a sale's lines paid for six).
    line_no = models.SmallIntegerField(_("line number"), validators=[MinValueValidator(0)])
    product = models.ForeignKey(
        Product,
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
        db_index=False,
        verbose_name=_("product"),
    )
    sku = models.CharField(_("SKU"), max_length=64)
    category_code = models.CharField(_("category"), max_length=64)
    quantity = models.IntegerField(_("quantity"), validators=[MinValueValidator(1)])
    unit_price = models.DecimalField(_("unit price"), **MONEY)
    amount = models.DecimalField(_("amount"), **MONEY)
    # Snapshots of the product when sold: what each unit counts towards per-trip limits and,
    # in a sale with immediate pickup, towards its kind's cap (immediate_kind).
    pieces = models.SmallIntegerField(_("pieces"), default=1, validators=[MinValueValidator(0)])
    volume_ml = models.IntegerField(
        _("volume (ml)"), null=True, blank=True, validators=[MinValueValidator(0)]
    )
    # What a new line holds before anything happens to it (no kind, nothing returned) is also
    # the database's default, so a COPY or bulk loader that leaves the column out still writes
    # a valid line; what describes the goods (pieces) a loader must state.
    immediate_kind = models.CharField(
        _("immediate-pickup kind"), max_length=64, blank=True, default="", db_default=""
    )
    returned_quantity = models.IntegerField(
        _("returned quantity"), default=0, db_default=0, validators=[MinValueValidator(0)]
    )

    class Meta:
        verbose_name = _("sale line")
        verbose_name_plural = _("sale lines")
        constraints = [
            models.UniqueConstraint(fields=["sale", "line_no"], name="sale_line_number_unique"),
            # Every count of a line in one CHECK (see line_no).
            models.CheckConstraint(
                condition=Q(line_no__gte=0)
                & Q(quantity__gte=1)
                & Q(pieces__gte=0)
                & (Q(volume_ml__isnull=True) | Q(volume_ml__gte=0))
                & Q(returned_quantity__gte=0)
                & Q(returned_quantity__lte=F("quantity")),
                name="sale_line_counts",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sale_id}/{self.line_no} {self.sku} × {self.quantity}"


class Return(models.Model):
    sale = models.ForeignKey(
        Sale, on_delete=models.PROTECT, related_name="returns", verbose_name=_("sale")
    )
    terminal = models.ForeignKey(
        Terminal, on_delete=models.PROTECT, related_name="+", verbose_name=_("terminal")
    )
    amount = models.DecimalField(_("amount"), **MONEY)
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    created_at = models.DateTimeField(
        _("created at"),
    )

    class Meta:
        verbose_name = _("return")
        verbose_name_plural = _("returns")

    def __str__(self) -> str:
        return f"return {self.pk} of {self.sale_id}"


class ReturnLine(models.Model):
    sale_return = models.ForeignKey(
        Return, on_delete=models.PROTECT, related_name="lines", verbose_name=_("return")
    )
    sale_line = models.ForeignKey(
        SaleLine, on_delete=models.PROTECT, related_name="+", verbose_name=_("sale line")
    )
    quantity = models.PositiveIntegerField(_("quantity"), validators=[MinValueValidator(1)])
    amount = models.DecimalField(_("amount"), **MONEY)

    class Meta:
        verbose_name = _("return line")
        verbose_name_plural = _("return lines")

    def __str__(self) -> str:
        return f"{self.sale_line_id} × {self.quantity}"


class IdempotencyRecord(models.Model):
    """The first answer to a terminal's request with an ``Idempotency-Key`` — status, the JSON
    exactly as sent, ``Location`` — replayed byte for byte to its retries (shops.pos.idempotency).
    Written in the same transaction as what the request did."""

    # No index of its own: the unique (terminal, key) index serves every look-up by terminal. A
    # second one on terminal alone lured the planner, before the table's first ANALYZE, into
    # scanning all of a terminal's records for each sale's key (a sale's prelude grew from 0.06
    # to 3 ms within a minute of a fresh database). No database foreign key, as the sale's own
    # terminal (Sale): with one, every write's commit share-locked its terminal's row, and a
    # terminal's concurrent requests piled up multixacts on it.
    terminal = models.ForeignKey(
        Terminal,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("terminal"),
        db_index=False,
        db_constraint=False,
    )
    key = models.CharField(_("idempotency key"), max_length=255)
    fingerprint = models.CharField(
        _("fingerprint"), max_length=64, help_text=_("SHA-256 of method, path and body.")
    )
    # An HTTP status, written by the code that answered: no CHECK of the database's, which every
    # write of a record would prepare anew (see SaleLine.line_no).
    status_code = models.SmallIntegerField(
        _("status code"), validators=[MinValueValidator(100), MaxValueValidator(599)]
    )
    # Text, not jsonb: jsonb reorders keys and spacing, and a replay must be the same bytes.
    content = models.TextField(
        _("answer"), help_text=_("The answer's JSON, exactly as first sent.")
    )
    location = models.CharField(_("location"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("idempotency record")
        verbose_name_plural = _("idempotency records")
        constraints = [
            models.UniqueConstraint(fields=["terminal", "key"], name="idempotency_key_per_terminal")
        ]
        indexes = [models.Index(fields=["created_at"])]

    def __str__(self) -> str:
        return f"{self.terminal_id}:{self.key}"


class DirtyDay(models.Model):
    """A mark that the (local day, store) slice of the rollups must be recomputed.

    Append-only: every sale, return and void adds one in its own transaction (no unique key,
    so concurrent sales never wait on each other's mark). The refresh task recomputes the
    slices it read and deletes exactly the marks it read; a mark committed meanwhile stays for
    the next run, so no sale is ever missed.
    """

    day = models.DateField()
    store = models.ForeignKey(
        Store, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    marked_at = models.DateTimeField()

    class Meta:
        verbose_name = _("dirty day")
        verbose_name_plural = _("dirty days")
        indexes = [models.Index(fields=["day", "store"])]

    def __str__(self) -> str:
        return f"{self.day} {self.store_id}"


# --- Rollups (shops/reporting/rollups.py recomputes them; never edited by hand) ------------------
class DailyCategorySales(models.Model):
    """Completed sales of one local day, store, category and traveller kind, net of returns
    (by the sale's local date; voided sales count nothing)."""

    day = models.DateField()
    store = models.ForeignKey(
        Store, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False, db_index=False
    )
    category_code = models.CharField(max_length=64)
    traveller_kind = models.CharField(max_length=8, choices=choices_of(SALE_TRAVELLER_KINDS))
    amount = models.DecimalField(max_digits=16, decimal_places=2)
    items = models.BigIntegerField(help_text=_("Pieces sold, net of returns."))
    sales = models.IntegerField(help_text=_("Receipts with a line in this category."))

    class Meta:
        verbose_name = _("daily sales by category")
        verbose_name_plural = _("daily sales by category")
        constraints = [
            models.UniqueConstraint(
                fields=["day", "store", "category_code", "traveller_kind"],
                name="daily_category_sales_slice",
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.store_id} {self.category_code} {self.traveller_kind}"


class DailyStoreSales(models.Model):
    """One local day, store and traveller kind: totals, and the exact sets behind distinct
    counts — shoppers, trips, and shoppers buying without a trip — as serialised roaring
    bitmaps of ids. Distinct counts over any range are the size of the union of the sets
    (exact, not a sum of daily counts and not a sketch)."""

    day = models.DateField()
    store = models.ForeignKey(
        Store, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False, db_index=False
    )
    traveller_kind = models.CharField(max_length=8, choices=choices_of(SALE_TRAVELLER_KINDS))
    amount = models.DecimalField(max_digits=16, decimal_places=2)
    items = models.BigIntegerField()
    sales = models.IntegerField(help_text=_("Completed receipts."))
    shoppers = models.BinaryField(help_text=_("Roaring bitmap of shopper ids."))
    trips = models.BinaryField(help_text=_("Roaring bitmap of trip ids."))
    tripless_shoppers = models.BinaryField(
        help_text=_("Roaring bitmap of shoppers with a sale without a trip (one 人次 a day).")
    )

    class Meta:
        verbose_name = _("daily sales by store")
        verbose_name_plural = _("daily sales by store")
        constraints = [
            models.UniqueConstraint(
                fields=["day", "store", "traveller_kind"], name="daily_store_sales_slice"
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.store_id} {self.traveller_kind}"


class RollupState(models.Model):
    """When the rollups were last brought up to date (the stats' ``as_of``)."""

    name = models.CharField(max_length=32, primary_key=True)
    refreshed_at = models.DateTimeField()

    class Meta:
        verbose_name = _("rollup state")
        verbose_name_plural = _("rollup states")

    def __str__(self) -> str:
        return f"{self.name} {timezone.localtime(self.refreshed_at):%Y-%m-%d %H:%M:%S}"


# The till's sessions (shops/till/), the event feed's tables (shops/feed/) and the policy
# previews (shops/previews/): defined in their rooms, one app's models all the same.
from shops.feed.models import (  # noqa: E402
    EVENT_TYPES,
    Attempt,
    Delivery,
    DeliveryStatus,
    Endpoint,
    EndpointKind,
    Event,
    EventType,
    FeedState,
)
from shops.previews.models import PolicyPreview, PreviewStatus  # noqa: E402
from shops.till.models import TillSession  # noqa: E402

__all__ = [
    "EVENT_TYPES",
    "Attempt",
    "Delivery",
    "DeliveryStatus",
    "Endpoint",
    "EndpointKind",
    "Event",
    "EventType",
    "FeedState",
    "PolicyPreview",
    "PreviewStatus",
    "TillSession",
]
