"""The policy's vocabulary. Plain enumerations (no database), shared by models and rules."""

from django.db import models


class PolicyStatus(models.TextChoices):
    DRAFT = "draft", "草稿 / draft"
    PUBLISHED = "published", "已发布 / published"
    # A published version withdrawn before it took effect: kept for the record, never in force.
    WITHDRAWN = "withdrawn", "已撤回 / withdrawn"


class TravellerKind(models.TextChoices):
    """The kinds of shopper: whom a policy lets buy (``Policy.traveller_kinds``, one of
    :data:`POLICY_TRAVELLER_KINDS`) and how a sale's shopper qualified (``Sale.traveller_kind``,
    one of :data:`SALE_TRAVELLER_KINDS`). On a trip, that is the trip's kind (:class:`TripKind`);
    a resident buying without one is what a policy allows as ``RESIDENT_OUTBOUND_RECORD`` and
    a sale records as ``RESIDENT``."""

    DOMESTIC = "domestic", "离岛（国内）旅客 / leaving the island, staying in China"
    OUTBOUND = "outbound", "离岛离境旅客 / leaving the country from Hainan"
    RESIDENT_OUTBOUND_RECORD = (
        "resident_outbound_record",
        "有离岛记录的岛内居民（即购即提，无需行程）/ resident with an off-island record this year",
    )
    RESIDENT = "resident", "岛内居民（无行程）/ resident, without a trip"


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
    DOMESTIC = "domestic", "国内 / domestic"
    OUTBOUND = "outbound", "离境 / outbound"


class TripMode(models.TextChoices):
    AIR = "air", "航空 / air"
    RAIL = "rail", "铁路 / rail"
    SEA = "sea", "水路 / sea"


class PickupMode(models.TextChoices):
    DEPARTURE = "departure", "离岛提货点提货 / at departure"
    MAIL = "mail", "邮寄送达 / by mail"
    RETURN_TO_ISLAND = "return_to_island", "返岛提取 / on return to the island"
    IMMEDIATE = "immediate", "即购即提 / immediate pickup"
    GUARANTEE = "guarantee", "担保即提 / guarantee pickup"


class LimitUnit(models.TextChoices):
    PIECE = "piece", "件 / pieces"
    ML = "ml", "毫升 / ml"


class ImmediateUnit(models.TextChoices):
    """What an immediate-pickup cap counts."""

    PIECE = "piece", "件（套装按内含件数）/ pieces (a set counts the pieces inside)"
    ITEM = "item", "件（每件售出商品）/ items (each unit sold)"

    @classmethod
    def counting(cls, *, counts_pieces: bool) -> str:
        """The unit of a kind that counts the pieces inside a set, or the units sold."""
        return (cls.PIECE if counts_pieces else cls.ITEM).value


class Verification(models.TextChoices):
    NAME_AND_NUMBER = "name_and_number", "名称与序号已核实 / name and number verified"
    NAME = "name", "仅名称已核实 / name verified, number not"
    NO = "no", "未核实 / not verified"


class DocumentType(models.TextChoices):
    RESIDENT_ID = "resident_id", "居民身份证 / resident identity card"
    PASSPORT = "passport", "护照 / passport"
    HKMO_PERMIT = "hkmo_permit", "港澳居民来往内地通行证 / Home Return Permit"
    TW_PERMIT = "tw_permit", "台湾居民来往大陆通行证 / Taiwan Compatriot Permit"
    FOREIGNER_ID = "foreigner_id", "外国人永久居留身份证 / foreigner's permanent residence ID"


class EntryKind(models.TextChoices):
    SALE = "sale", "销售 / sale"
    RETURN = "return", "退货 / return"
    VOID = "void", "撤销 / void"
    IMPORT = "import", "导入 / import"


class BanReason(models.TextChoices):
    # Immediate or guarantee pickup without a recorded departure within the deadline (30 days).
    DEPARTURE_DEADLINE = "departure_deadline", "逾期未离岛 / no departure within the deadline"
    CUSTOMS_DECISION = "customs_decision", "海关决定 / customs decision"
    RESALE = "resale", "倒卖免税品 / resale of duty-free goods"
