"""The policy's vocabulary. Plain enumerations (no database), shared by models and rules.

Labels are English source strings, read in the page's language (zh-hans in locale/)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class PolicyStatus(models.TextChoices):
    DRAFT = "draft", _("draft")
    PUBLISHED = "published", _("published")
    # A published version withdrawn before it took effect: kept for the record, never in force.
    WITHDRAWN = "withdrawn", _("withdrawn")


class TravellerKind(models.TextChoices):
    """The kinds of shopper: whom a policy lets buy (``Policy.traveller_kinds``, one of
    :data:`POLICY_TRAVELLER_KINDS`) and how a sale's shopper qualified (``Sale.traveller_kind``,
    one of :data:`SALE_TRAVELLER_KINDS`). On a trip, that is the trip's kind (:class:`TripKind`);
    a resident buying without one is what a policy allows as ``RESIDENT_OUTBOUND_RECORD`` and
    a sale records as ``RESIDENT``."""

    DOMESTIC = "domestic", _("leaving the island, staying in China")
    OUTBOUND = "outbound", _("leaving the country from Hainan")
    RESIDENT_OUTBOUND_RECORD = (
        "resident_outbound_record",
        _("resident with an off-island record this year"),
    )
    RESIDENT = "resident", _("resident, without a trip")


POLICY_TRAVELLER_KINDS = (
    TravellerKind.DOMESTIC,
    TravellerKind.OUTBOUND,
    TravellerKind.RESIDENT_OUTBOUND_RECORD,
)
SALE_TRAVELLER_KINDS = (TravellerKind.DOMESTIC, TravellerKind.OUTBOUND, TravellerKind.RESIDENT)


def choices_of(members: tuple[models.TextChoices, ...]) -> list[tuple[str, str]]:
    """Some of an enumeration's members as a field's ``choices``."""
    return [(member.value, member.label) for member in members]


class TripKind(models.TextChoices):
    DOMESTIC = "domestic", _("domestic")
    OUTBOUND = "outbound", _("outbound")


class TripMode(models.TextChoices):
    AIR = "air", _("air")
    RAIL = "rail", _("rail")
    SEA = "sea", _("sea")


class PickupMode(models.TextChoices):
    DEPARTURE = "departure", _("at departure")
    MAIL = "mail", _("by mail")
    RETURN_TO_ISLAND = "return_to_island", _("on return to the island")
    IMMEDIATE = "immediate", _("immediate pickup")
    GUARANTEE = "guarantee", _("guarantee pickup")


class LimitUnit(models.TextChoices):
    PIECE = "piece", _("pieces")
    ML = "ml", _("ml")


class ImmediateUnit(models.TextChoices):
    """What an immediate-pickup cap counts."""

    PIECE = "piece", _("pieces (a set counts the pieces inside)")
    ITEM = "item", _("items (each unit sold)")

    @classmethod
    def counting(cls, *, counts_pieces: bool) -> str:
        """The unit of a kind that counts the pieces inside a set, or the units sold."""
        return (cls.PIECE if counts_pieces else cls.ITEM).value


class Verification(models.TextChoices):
    NAME_AND_NUMBER = "name_and_number", _("name and number verified")
    NAME = "name", _("name verified, number not")
    NO = "no", _("not verified")


class DocumentType(models.TextChoices):
    RESIDENT_ID = "resident_id", _("resident identity card")
    PASSPORT = "passport", _("passport")
    HKMO_PERMIT = "hkmo_permit", _("Home Return Permit")
    TW_PERMIT = "tw_permit", _("Taiwan Compatriot Permit")
    FOREIGNER_ID = "foreigner_id", _("foreigner's permanent residence ID")


class EntryKind(models.TextChoices):
    SALE = "sale", _("sale")
    RETURN = "return", _("return")
    VOID = "void", _("void")
    IMPORT = "import", _("import")


class BanReason(models.TextChoices):
    # Immediate or guarantee pickup without a recorded departure within the deadline (30 days).
    DEPARTURE_DEADLINE = "departure_deadline", _("no departure within the deadline")
    CUSTOMS_DECISION = "customs_decision", _("customs decision")
    RESALE = "resale", _("resale of duty-free goods")
