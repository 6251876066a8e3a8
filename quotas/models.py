"""Quota programmes, their dated policy versions and duty-free categories.

A published policy is immutable: every sale stays explained by the rules that judged it.
The guard sits in the model layer (``save``/``delete`` and the queryset's bulk ``update``/
``delete``), so no form, command or shell session can bypass it by accident.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models, transaction
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from dutyfree.language import in_language

from .choices import (
    POLICY_TRAVELLER_KINDS,
    BanReason,
    DocumentType,
    EntryKind,
    LimitUnit,
    PickupMode,
    PolicyStatus,
    TripKind,
    TripMode,
    Verification,
)
from .errors import PolicyImmutable
from .rules import LOCAL_TZ, ban_in_force

if TYPE_CHECKING:
    from django.contrib.auth.models import User

LOCKED_STATUSES = (PolicyStatus.PUBLISHED, PolicyStatus.WITHDRAWN)
POSITIVE_MONEY = [MinValueValidator(Decimal("0.01"))]

code_validator = RegexValidator(
    r"^[a-z][a-z0-9_]{0,63}$",
    _("lowercase letters, digits and underscores, starting with a letter."),
)


class Programme(models.Model):
    """A quota regime (离岛免税 today; the residents' zero-tariff programme next)."""

    code = models.SlugField(_("code"), max_length=64, unique=True, validators=[code_validator])
    name_zh = models.CharField(_("Chinese name"), max_length=200)
    name_en = models.CharField(_("English name"), max_length=200)
    currency = models.CharField(_("currency"), max_length=3, default="CNY")

    class Meta:
        verbose_name = _("programme")
        verbose_name_plural = _("programmes")

    def __str__(self) -> str:
        return in_language(zh=self.name_zh, en=self.name_en)


class PolicyQuerySet(models.QuerySet["Policy"]):
    def update(self, **kwargs: Any) -> int:
        if self.filter(status__in=LOCKED_STATUSES).exists():
            raise PolicyImmutable("A bulk update would change a published policy.")
        return super().update(**kwargs)

    def delete(self) -> tuple[int, dict[str, int]]:
        if self.filter(status__in=LOCKED_STATUSES).exists():
            raise PolicyImmutable("Published policies cannot be deleted.")
        if self.sources_of_locked().exists():
            raise PolicyImmutable(
                "A draft that a published policy was cloned from is kept as its record."
            )
        return super().delete()

    def sources_of_locked(self) -> PolicyQuerySet:
        """Those of these policies that a published or withdrawn policy was cloned from
        (deleting one would rewrite that policy's ``cloned_from``)."""
        return self.filter(clones__status__in=LOCKED_STATUSES).distinct()


class Policy(models.Model):
    """One dated version of a programme's rules.

    In force at instant *t*: the published policy with the latest ``effective_from <= t``.
    """

    # Fields a locked policy may still change, and only through the withdraw transition.
    MUTABLE_WHEN_LOCKED = frozenset({"status", "withdrawn_at", "withdrawn_by_id"})

    programme = models.ForeignKey(
        Programme,
        on_delete=models.PROTECT,
        related_name="policies",
        verbose_name=_("programme"),
    )
    name_zh = models.CharField(_("Chinese name"), max_length=200)
    name_en = models.CharField(_("English name"), max_length=200)
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=PolicyStatus.choices,
        default=PolicyStatus.DRAFT,
        editable=False,
    )
    effective_from = models.DateTimeField(
        _("effective from"),
        null=True,
        blank=True,
        help_text=_("Set when the policy is published (now or later)."),
    )
    annual_limit = models.DecimalField(
        _("annual limit"),
        max_digits=14,
        decimal_places=2,
        validators=POSITIVE_MONEY,
        help_text=_("Yuan per person per calendar year (Asia/Shanghai)."),
    )
    min_age = models.PositiveSmallIntegerField(
        _("minimum age"), validators=[MaxValueValidator(120)]
    )
    traveller_kinds = models.JSONField(
        _("traveller kinds"), default=list, help_text=_("Who may buy.")
    )
    pickup_modes = models.JSONField(
        _("pickup modes"), default=list, help_text=_("Pickup modes the policy allows.")
    )
    immediate_pickup_max_unit_price = models.DecimalField(
        _("immediate pickup: unit price below"),
        max_digits=14,
        decimal_places=2,
        validators=POSITIVE_MONEY,
        help_text=_("Immediate pickup only for unit prices strictly below this."),
    )
    guarantee_pickup_min_unit_price = models.DecimalField(
        _("guarantee pickup: unit price from"),
        max_digits=14,
        decimal_places=2,
        validators=POSITIVE_MONEY,
        help_text=_("Guarantee pickup only for unit prices at or above this."),
    )
    departure_deadline_days = models.PositiveSmallIntegerField(
        _("departure deadline (days)"),
        validators=[MinValueValidator(1)],
        help_text=_("Immediate and guarantee pickups: leave the island within this many days."),
    )
    ban_years = models.PositiveSmallIntegerField(
        _("ban length (years)"), validators=[MinValueValidator(1), MaxValueValidator(50)]
    )
    return_pickup_within_months = models.PositiveSmallIntegerField(
        _("return pickup within (months)"), validators=[MinValueValidator(1)]
    )
    notes = models.TextField(_("notes"), blank=True)
    # What a version says, as the admin edits it and a clone copies it (the one list of them).
    RULE_FIELDS = (
        "annual_limit",
        "min_age",
        "traveller_kinds",
        "pickup_modes",
        "immediate_pickup_max_unit_price",
        "guarantee_pickup_min_unit_price",
        "departure_deadline_days",
        "ban_years",
        "return_pickup_within_months",
        "notes",
    )
    cloned_from = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="clones",
        editable=False,
        verbose_name=_("cloned from"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True, editable=False)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
        verbose_name=_("published by"),
    )
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True, editable=False)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
        verbose_name=_("withdrawn by"),
    )

    history = HistoricalRecords()
    objects = PolicyQuerySet.as_manager()
    # Set before a save, read by simple-history for the history row (not columns).
    _change_reason: str
    _history_user: User | None

    class Meta:
        verbose_name = _("policy")
        verbose_name_plural = _("policies")
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "effective_from"],
                condition=Q(status="published"),
                name="policy_one_published_per_instant",
                violation_error_message="Another published policy takes effect at that instant.",
            ),
            models.CheckConstraint(
                condition=Q(status="draft") | Q(effective_from__isnull=False),
                name="policy_published_has_effective_from",
            ),
            models.CheckConstraint(
                condition=Q(annual_limit__gt=0)
                & Q(immediate_pickup_max_unit_price__gt=0)
                & Q(guarantee_pickup_min_unit_price__gt=0),
                name="policy_amounts_positive",
            ),
        ]
        indexes = [models.Index(fields=["programme", "status", "effective_from"])]

    def __str__(self) -> str:
        # The name alone: a page shows the status beside it, in the reader's language.
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        from .locks import policy_lock  # the locks module builds on these models

        with transaction.atomic():
            if self.pk is not None:
                # Locked until commit: a concurrent publish cannot slip between check and write.
                stored = policy_lock(self.pk)
                if stored is not None and stored.is_locked:
                    self._refuse_locked_change(stored)
            super().save(*args, **kwargs)

    def _refuse_locked_change(self, stored: Policy) -> None:
        changed = {
            field.attname
            for field in self._meta.concrete_fields
            if getattr(stored, field.attname) != getattr(self, field.attname)
        }
        withdrawing = (
            stored.status == PolicyStatus.PUBLISHED and self.status == PolicyStatus.WITHDRAWN
        )
        if changed and (not withdrawing or changed - self.MUTABLE_WHEN_LOCKED):
            raise PolicyImmutable(
                f"Policy {stored.pk} is {stored.status}; clone it to a draft to make changes."
            )

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        if (
            self.pk is not None
            and type(self).objects.filter(pk=self.pk, status__in=LOCKED_STATUSES).exists()
        ):
            raise PolicyImmutable(f"Policy {self.pk} is {self.status} and cannot be deleted.")
        if self.pk is not None and self.is_source_of_locked():
            raise PolicyImmutable(
                f"Policy {self.pk} is the source of a published policy and is kept as its record."
            )
        return super().delete(*args, **kwargs)

    def is_source_of_locked(self) -> bool:
        return type(self).objects.filter(pk=self.pk).sources_of_locked().exists()

    @property
    def is_locked(self) -> bool:
        return self.status in LOCKED_STATUSES

    @property
    def name(self) -> str:
        """The name in the active language (the page's, or the API request's)."""
        return in_language(zh=self.name_zh, en=self.name_en)

    def is_scheduled_at(self, now: datetime) -> bool:
        """Published but not yet in force at ``now``: the one state a version may be
        withdrawn from (``services.policy_withdraw``; the admin offers "Withdraw…" then)."""
        return (
            self.status == PolicyStatus.PUBLISHED
            and self.effective_from is not None
            and self.effective_from > now
        )

    def clean(self) -> None:
        errors: dict[str, list[str]] = {}
        kinds = self.traveller_kinds
        if not isinstance(kinds, list) or not kinds:
            errors["traveller_kinds"] = ["Choose at least one kind of traveller."]
        elif unknown := set(map(str, kinds)) - set(POLICY_TRAVELLER_KINDS):
            errors["traveller_kinds"] = [f"Unknown traveller kinds: {', '.join(sorted(unknown))}."]
        elif len(set(kinds)) != len(kinds):
            errors["traveller_kinds"] = ["Each traveller kind once."]
        modes = self.pickup_modes
        if not isinstance(modes, list) or not modes:
            errors["pickup_modes"] = ["Choose at least one pickup mode."]
        elif unknown := set(map(str, modes)) - set(PickupMode.values):
            errors["pickup_modes"] = [f"Unknown pickup modes: {', '.join(sorted(unknown))}."]
        elif len(set(modes)) != len(modes):
            errors["pickup_modes"] = ["Each pickup mode once."]
        if errors:
            raise ValidationError(errors)


class PolicyPartQuerySet(models.QuerySet[Any]):
    """Rows that belong to one policy version (its categories, its immediate-pickup kinds):
    no bulk write may reach a published or withdrawn policy's rows."""

    def _touches_locked(self) -> bool:
        return self.filter(policy__status__in=LOCKED_STATUSES).exists()

    def update(self, **kwargs: Any) -> int:
        if self._touches_locked():
            raise PolicyImmutable(f"A bulk update would change a published policy's {self._what}.")
        return super().update(**kwargs)

    def delete(self) -> tuple[int, dict[str, int]]:
        if self._touches_locked():
            raise PolicyImmutable(f"A published policy's {self._what} cannot be deleted.")
        return super().delete()

    def bulk_create(self, objs: Any, *args: Any, **kwargs: Any) -> list[Any]:
        objs = list(objs)
        policy_ids = {obj.policy_id for obj in objs}
        if Policy.objects.filter(pk__in=policy_ids, status__in=LOCKED_STATUSES).exists():
            raise PolicyImmutable(
                f"{self._what.capitalize()} cannot be added to a published policy."
            )
        return super().bulk_create(objs, *args, **kwargs)

    @property
    def _what(self) -> str:
        return str(self.model._meta.verbose_name_plural)


class PolicyPart(models.Model):
    """A row of one policy version, as immutable as its policy once that is published: the
    guard sits in ``save``/``delete`` here and in :class:`PolicyPartQuerySet`."""

    policy_id: int

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        with transaction.atomic():
            previous = None
            if self.pk is not None:
                # Abstract here: the concrete model's manager knows its policy column.
                manager: models.Manager[Any] = type(self)._default_manager
                previous = manager.filter(pk=self.pk).values_list("policy_id", flat=True).first()
            if self._policy_locked(self.policy_id) or self._policy_locked(previous):
                raise PolicyImmutable(
                    f"The {self._meta.verbose_name_plural} of a published policy cannot be changed."
                )
            super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        with transaction.atomic():
            if self._policy_locked(self.policy_id):
                raise PolicyImmutable(
                    f"The {self._meta.verbose_name_plural} of a published policy cannot be deleted."
                )
            return super().delete(*args, **kwargs)

    def _policy_locked(self, policy_id: int | None) -> bool:
        """Whether the policy is published or withdrawn, its row locked until the caller's
        transaction ends: a publish (which locks it too) waits for this edit to commit, or
        this edit sees it published; never an edit landing on a policy published meanwhile."""
        from .locks import policy_status_lock  # the locks module builds on these models

        if policy_id is None:
            return False
        return policy_status_lock(policy_id) in LOCKED_STATUSES


class Category(PolicyPart):
    """A duty-free category of one policy version. ``code`` is stable across versions."""

    policy = models.ForeignKey(
        Policy, on_delete=models.CASCADE, related_name="categories", verbose_name=_("policy")
    )
    number = models.PositiveSmallIntegerField(
        _("number"),
        validators=[MinValueValidator(1), MaxValueValidator(999)],
        help_text=_("Serial number in the announcement's annex (1–47)."),
    )
    code = models.CharField(
        _("code"),
        max_length=64,
        validators=[code_validator],
        help_text=_("Stable identifier kept across policy versions (dashboards line years up)."),
    )
    name_zh = models.CharField(_("Chinese name"), max_length=200)
    name_en = models.CharField(_("English name"), max_length=300)
    per_trip_limit_unit = models.CharField(
        _("per-trip limit: unit"),
        max_length=8,
        choices=LimitUnit.choices,
        blank=True,
        help_text=_("Blank: no per-trip limit."),
    )
    per_trip_limit_value = models.PositiveIntegerField(
        _("per-trip limit"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
    )
    verified = models.CharField(
        _("verified"),
        max_length=16,
        choices=Verification.choices,
        default=Verification.NO,
        help_text=_("What has been checked against the official annex."),
    )
    added = models.CharField(
        _("added"), max_length=64, blank=True, help_text=_("When the category was added.")
    )
    note = models.TextField(_("note"), blank=True)

    history = HistoricalRecords()
    objects = PolicyPartQuerySet.as_manager()
    # Set before a save, read by simple-history for the history row (not columns).
    _change_reason: str
    _history_user: User | None

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        constraints = [
            models.UniqueConstraint(
                fields=["policy", "code"],
                name="category_code_unique_in_policy",
                violation_error_message="This code is already used in this policy.",
            ),
            models.UniqueConstraint(
                fields=["policy", "number"],
                name="category_number_unique_in_policy",
                violation_error_message="This number is already used in this policy.",
            ),
            models.CheckConstraint(
                condition=Q(number__gte=1) & Q(number__lte=999), name="category_number_range"
            ),
            models.CheckConstraint(
                condition=(Q(per_trip_limit_unit="") & Q(per_trip_limit_value__isnull=True))
                | (Q(per_trip_limit_unit__in=LimitUnit.values) & Q(per_trip_limit_value__gte=1)),
                name="category_limit_unit_and_value",
                violation_error_message="A per-trip limit needs both a unit and a positive value.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number}. {self.name} ({self.code})"

    @property
    def name(self) -> str:
        """The name in the active language (the page's, or the API request's)."""
        return in_language(zh=self.name_zh, en=self.name_en)

    def clean(self) -> None:
        if self.per_trip_limit_unit and self.per_trip_limit_value is None:
            raise ValidationError({"per_trip_limit_value": "Give the limit for this unit."})
        if self.per_trip_limit_value is not None and not self.per_trip_limit_unit:
            raise ValidationError({"per_trip_limit_unit": "Give the unit of this limit."})

    @property
    def immediate_kinds(self) -> list[ImmediatePickupKind]:
        """The kinds of the policy's immediate-pickup list that belong to this category."""
        return [
            kind for kind in self.policy.immediate_kinds.all() if kind.category_code == self.code
        ]

    @property
    def immediate_pickup(self) -> bool:
        """Derived: on the immediate-pickup list when one of the policy's kinds belongs to it
        (the one definition: the admin, the API and ``selectors.policy_rules`` read it)."""
        return bool(self.immediate_kinds)


class ImmediatePickupKind(PolicyPart):
    """A kind of goods that may be picked up at once (即购即提), with its cap per person per
    departure: one row of the annex of announcement 2023 No. 25, in one policy version.

    Kinds are narrower than categories (sunglasses, not all eyewear); ``category_code`` says
    which category holds the kind, empty where the annex does not say."""

    policy = models.ForeignKey(
        Policy, on_delete=models.CASCADE, related_name="immediate_kinds", verbose_name=_("policy")
    )
    number = models.PositiveSmallIntegerField(
        _("number"),
        validators=[MinValueValidator(1), MaxValueValidator(999)],
        help_text=_("Serial number in the annex (1–15)."),
    )
    code = models.CharField(
        _("code"),
        max_length=64,
        validators=[code_validator],
        help_text=_("Stable identifier kept across policy versions; products carry it."),
    )
    name_zh = models.CharField(_("Chinese name"), max_length=200)
    name_en = models.CharField(_("English name"), max_length=300)
    category_code = models.CharField(
        _("category"),
        max_length=64,
        blank=True,
        validators=[code_validator],
        help_text=_(
            "The code of the category that holds this kind; blank where the annex does not say."
        ),
    )
    unit_zh = models.CharField(_("Chinese unit"), max_length=16, help_text=_("件, 瓶, 副 …"))
    unit_en = models.CharField(
        _("English unit"), max_length=32, help_text=_("piece, bottle, pair …")
    )
    counts_pieces = models.BooleanField(
        _("counts pieces"),
        default=False,
        help_text=_("Count the pieces inside a set (as cosmetics do), not the units sold."),
    )
    per_trip = models.PositiveSmallIntegerField(
        _("cap per departure"), validators=[MinValueValidator(1), MaxValueValidator(999)]
    )
    per_variety = models.PositiveSmallIntegerField(
        _("cap per variety"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(999)],
        help_text=_("At most this many of any single product (单一品种); blank: no such cap."),
    )
    note = models.TextField(_("note"), blank=True)

    history = HistoricalRecords()
    objects = PolicyPartQuerySet.as_manager()
    # Set before a save, read by simple-history for the history row (not columns).
    _change_reason: str
    _history_user: User | None

    class Meta:
        verbose_name = _("immediate-pickup kind")
        verbose_name_plural = _("immediate-pickup kinds")
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint(
                fields=["policy", "code"],
                name="immediate_kind_code_unique_in_policy",
                violation_error_message="This kind is already listed in this policy.",
            ),
            models.UniqueConstraint(
                fields=["policy", "number"],
                name="immediate_kind_number_unique_in_policy",
                violation_error_message="This number is already used in this policy.",
            ),
            models.CheckConstraint(
                condition=Q(per_trip__gte=1)
                & (
                    Q(per_variety__isnull=True)
                    | (Q(per_variety__gte=1) & Q(per_variety__lte=F("per_trip")))
                ),
                name="immediate_kind_caps",
                violation_error_message="Caps are positive; a per-variety cap is at most the cap "
                "per departure.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number}. {in_language(zh=self.name_zh, en=self.name_en)} ({self.code})"

    def clean(self) -> None:
        if (
            self.per_variety is not None
            and self.per_trip is not None
            and self.per_variety > self.per_trip
        ):
            raise ValidationError(
                {"per_variety": "A per-variety cap is at most the cap per departure."}
            )


class Shopper(models.Model):
    """A person who buys, known only by keyed HMACs of the document and name (identity.py).

    Of the facts presented with each basket, the row keeps only what nothing else can give
    back later: the year of birth (for statistics by age; the rules judge the birth date
    presented with the basket) and the residence flag. A birth date would give back, with the
    last four characters, 12 of a resident identity number's 18 (docs/ARCHITECTURE.md).
    """

    document_type = models.CharField(
        _("document type"), max_length=16, choices=DocumentType.choices
    )
    document_country = models.CharField(_("issuing country"), max_length=3)
    # Unique by a constraint (Meta), not unique=True, which would add a text-pattern index on
    # PostgreSQL that nothing uses (the key is an HMAC, only ever matched whole).
    document_key = models.CharField(max_length=64, editable=False)
    document_last4 = models.CharField(_("last four characters"), max_length=4, editable=False)
    name_key = models.CharField(max_length=64, editable=False)
    # Which IDENTITY_HMAC_KEY produced the keys above (key rotation re-keys on match).
    # Both plain integers, checked by one constraint of the table's (Meta): a Positive*Field
    # adds a CHECK of its own, which PostgreSQL prepares anew for each statement that writes
    # the row (every sale's upsert of its shopper).
    key_version = models.SmallIntegerField(
        default=1, editable=False, validators=[MinValueValidator(0)]
    )
    birth_year = models.SmallIntegerField(_("year of birth"), validators=[MinValueValidator(0)])
    hainan_resident = models.BooleanField(_("Hainan resident"), default=False)
    # The span of the shopper's bans not lifted: the first start and the last end (services
    # keep them). The rules refuse a purchase only inside it (rules.ban_in_force).
    banned_from = models.DateTimeField(_("banned from"), null=True, blank=True)
    banned_until = models.DateTimeField(_("banned until"), null=True, blank=True)
    created_at = models.DateTimeField(_("first seen"), auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("shopper")
        verbose_name_plural = _("shoppers")
        constraints = [
            models.UniqueConstraint(fields=["document_key"], name="shopper_document_key_unique"),
            models.CheckConstraint(
                condition=Q(key_version__gte=0) & Q(birth_year__gte=0),
                name="shopper_numbers_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_document_type_display()} ****{self.document_last4}"

    def banned_at(self, at: datetime) -> bool:
        """Whether a ban is in force at ``at`` (the span read by the rules)."""
        return ban_in_force(banned_from=self.banned_from, banned_until=self.banned_until, at=at)


class QuotaAccount(models.Model):
    """A shopper's allowance in one programme for one calendar year (Asia/Shanghai).

    Every debit or credit happens in a transaction that holds this row (``FOR NO KEY
    UPDATE``, taken by quotas/locks.py): that one lock serialises all of a shopper's
    purchases across every store and terminal. ``used`` always equals the sum of the entries.
    """

    shopper = models.ForeignKey(
        Shopper, on_delete=models.PROTECT, related_name="accounts", db_index=False
    )  # the unique (shopper, programme, year) index serves it
    # No database foreign key to the programme, a reference row every new account points at:
    # with one, each shopper's first purchase of the year share-locked the same row at commit,
    # and concurrent first purchases piled up multixacts on it. Never deleted (PROTECT).
    programme = models.ForeignKey(
        Programme, on_delete=models.PROTECT, related_name="accounts", db_constraint=False
    )
    # A calendar year, computed by the code that opens the account: no CHECK of the database's,
    # which every sale's upsert of the account would prepare anew (see Shopper.key_version).
    year = models.SmallIntegerField(validators=[MinValueValidator(2000)])
    limit = models.DecimalField(max_digits=14, decimal_places=2)
    # A new account has used nothing, whoever writes it (the database's default too, for a
    # COPY or bulk loader that leaves the column out).
    used = models.DecimalField(
        max_digits=14, decimal_places=2, default=Decimal("0.00"), db_default=Decimal("0.00")
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("quota account")
        verbose_name_plural = _("quota accounts")
        constraints = [
            models.UniqueConstraint(
                fields=["shopper", "programme", "year"], name="quota_account_one_per_year"
            ),
            # The last line of defence against overspending: the database refuses it.
            models.CheckConstraint(
                condition=Q(used__gte=0) & Q(used__lte=models.F("limit")),
                name="quota_account_used_within_limit",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.shopper} {self.year}: {self.used}/{self.limit}"

    @property
    def remaining(self) -> Decimal:
        return self.limit - self.used


class QuotaEntry(models.Model):
    """The append-only ledger behind ``QuotaAccount.used``: debits positive, credits negative."""

    account = models.ForeignKey(
        QuotaAccount, on_delete=models.PROTECT, related_name="entries", db_index=False
    )  # the (account, created_at) index serves it
    kind = models.CharField(max_length=8, choices=EntryKind.choices)
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    reference = models.CharField(max_length=64, help_text="What caused it, e.g. sale:123.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("quota entry")
        verbose_name_plural = _("quota entries")
        indexes = [models.Index(fields=["account", "created_at"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount} ({self.reference})"


class Trip(models.Model):
    """One departure of a shopper. Per-trip limits count everything bought for it."""

    shopper = models.ForeignKey(
        Shopper, on_delete=models.PROTECT, related_name="trips", db_index=False
    )  # the unique (shopper, carrier_ref, departs_at) index serves it
    kind = models.CharField(max_length=8, choices=TripKind.choices)
    mode = models.CharField(max_length=4, choices=TripMode.choices)
    carrier_ref = models.CharField(max_length=32)
    departs_at = models.DateTimeField()
    departed_at = models.DateTimeField(null=True, blank=True, help_text="Confirmed departure.")
    # A departure that matched no trip of the shopper's is stored on a trip of its own (nothing
    # was bought for it): recorded again, it decides again that it closed nothing.
    from_departure = models.BooleanField(default=False, db_default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("trip")
        verbose_name_plural = _("trips")
        constraints = [
            models.UniqueConstraint(
                fields=["shopper", "carrier_ref", "departs_at"], name="trip_unique_departure"
            ),
        ]
        # No (shopper, departed_at) index: a shopper's open trips are found by the unique
        # index's leading shopper column (a shopper has a handful of trips), and every sale to
        # a new traveller would write one more index entry.

    def __str__(self) -> str:
        return f"{self.carrier_ref} {self.departs_at.astimezone(LOCAL_TZ):%Y-%m-%d %H:%M}"


class Ban(models.Model):
    """A period in which a shopper may not buy duty-free goods.

    Bans are never edited or deleted: lifting one records who, when and why.
    In force from ``starts_at`` (inclusive) to ``ends_at`` (exclusive) unless lifted;
    ``Shopper.banned_from``/``banned_until`` span the bans not lifted (services).
    """

    shopper = models.ForeignKey(
        Shopper, on_delete=models.PROTECT, related_name="bans", verbose_name=_("shopper")
    )
    reason = models.CharField(_("reason"), max_length=32, choices=BanReason.choices)
    detail = models.CharField(
        _("detail"),
        max_length=500,
        blank=True,
        help_text=_("Why, for the record. Never a name or document number."),
    )
    # What caused it, e.g. "sale:123"; the 30-day task bans once per source.
    source = models.CharField(_("source"), max_length=64, blank=True)
    source_receipt_no = models.CharField(_("receipt"), max_length=40, blank=True)
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    lifted_at = models.DateTimeField(_("lifted at"), null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("lifted by"),
    )
    lift_reason = models.CharField(_("reason for lifting"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("ban")
        verbose_name_plural = _("bans")
        ordering = ["-starts_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["shopper", "reason", "source"],
                condition=~Q(source=""),
                name="ban_once_per_source",
            ),
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="ban_ends_after_start"
            ),
        ]
        indexes = [models.Index(fields=["shopper", "ends_at"])]

    def __str__(self) -> str:
        start, end = (when.astimezone(LOCAL_TZ) for when in (self.starts_at, self.ends_at))
        return f"{self.shopper} {self.get_reason_display()} {start:%Y-%m-%d} → {end:%Y-%m-%d}"

    def active_at(self, at: datetime) -> bool:
        """In force at ``at``: not lifted, started, not ended."""
        return self.lifted_at is None and self.starts_at <= at < self.ends_at

    def state_at(self, at: datetime) -> BanState:
        if self.lifted_at is not None:
            return BanState.LIFTED
        if at < self.starts_at:
            return BanState.NOT_STARTED
        if at < self.ends_at:
            return BanState.IN_FORCE
        return BanState.ENDED


class BanState(models.TextChoices):
    """Where a ban stands at an instant (the admin's list and filter)."""

    NOT_STARTED = "not_started", _("not yet in force")
    IN_FORCE = "in_force", _("in force")
    ENDED = "ended", _("ended")
    LIFTED = "lifted", _("lifted")
