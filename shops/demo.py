"""A deterministic demo catalogue: a few hundred SKUs over the 47 categories, realistic prices."""

from __future__ import annotations

import io
import random
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db import transaction

from quotas import identity
from quotas.rules import LOCAL_TZ

from .models import Product, Store, Terminal

# category code → (brands, [(name_zh, name_en, low, high, volume_ml, pieces)])
_CATALOGUE: dict[str, tuple[list[str], list[tuple[str, str, int, int, int | None, int]]]] = {
    "jewellery": (
        ["Cartier", "Tiffany & Co.", "Bulgari", "Chow Tai Fook"],
        [
            ("手镯", "Bracelet", 8000, 120000, None, 1),
            ("项链", "Necklace", 3000, 60000, None, 1),
            ("耳钉", "Earrings", 2500, 30000, None, 1),
            ("戒指", "Ring", 5000, 90000, None, 1),
        ],
    ),
    "handicrafts": (
        ["Lladró", "Swarovski"],
        [
            ("水晶摆件", "Crystal figurine", 800, 9000, None, 1),
            ("瓷偶", "Porcelain figure", 1500, 12000, None, 1),
        ],
    ),
    "watches": (
        ["Rolex", "Omega", "Longines", "Cartier", "TAG Heuer", "Tissot"],
        [
            ("机械腕表", "Automatic watch", 4000, 160000, None, 1),
            ("石英腕表", "Quartz watch", 2000, 30000, None, 1),
        ],
    ),
    "perfume": (
        ["Chanel", "Dior", "Jo Malone", "Guerlain", "Hermès"],
        [
            ("淡香水 100ml", "Eau de toilette 100 ml", 700, 1500, 100, 1),
            ("香水 50ml", "Eau de parfum 50 ml", 800, 2200, 50, 1),
        ],
    ),
    "cosmetics": (
        ["Lancôme", "Estée Lauder", "SK-II", "La Mer", "Shiseido", "Dior", "Clé de Peau"],
        [
            ("精华 50ml", "Serum 50 ml", 900, 3200, None, 1),
            ("面霜 50ml", "Cream 50 ml", 1000, 4500, None, 1),
            ("口红", "Lipstick", 260, 480, None, 1),
            ("护肤五件套", "Skincare set of 5", 1800, 5200, None, 5),
            ("面膜 10片", "Sheet masks (10)", 300, 1200, None, 10),
        ],
    ),
    "pens": (["Montblanc", "Parker", "Pelikan"], [("钢笔", "Fountain pen", 600, 9000, None, 1)]),
    "eyewear": (
        ["Ray-Ban", "Gentle Monster", "Gucci", "Prada"],
        [
            ("太阳镜", "Sunglasses", 1200, 4500, None, 1),
            ("光学镜架", "Optical frame", 1500, 5000, None, 1),
        ],
    ),
    "silk_scarves": (["Hermès", "Burberry"], [("丝巾", "Silk scarf", 1500, 5500, None, 1)]),
    "ties": (["Hermès", "Ferragamo"], [("领带", "Silk tie", 900, 2200, None, 1)]),
    "woollen_goods": (
        ["Loro Piana", "Brunello Cucinelli"],
        [("羊绒围巾", "Cashmere scarf", 3000, 12000, None, 1)],
    ),
    "cotton_goods": (["Ralph Lauren", "Muji"], [("棉质T恤", "Cotton T-shirt", 200, 900, None, 1)]),
    "clothing": (
        ["Burberry", "Max Mara", "Moncler", "Hugo Boss"],
        [
            ("风衣", "Trench coat", 8000, 25000, None, 1),
            ("羽绒服", "Down jacket", 7000, 18000, None, 1),
            ("衬衫", "Shirt", 1200, 4000, None, 1),
        ],
    ),
    "footwear_hats": (
        ["Nike", "Adidas", "Gucci", "New Era"],
        [("运动鞋", "Sneakers", 700, 6000, None, 1), ("棒球帽", "Cap", 200, 2500, None, 1)],
    ),
    "belts": (["Hermès", "Ferragamo", "Gucci"], [("皮带", "Leather belt", 2500, 9000, None, 1)]),
    "bags_luggage": (
        ["Louis Vuitton", "Gucci", "Coach", "Rimowa", "Prada"],
        [
            ("手提包", "Handbag", 9000, 45000, None, 1),
            ("行李箱", "Suitcase", 4000, 12000, None, 1),
            ("双肩包", "Backpack", 2500, 15000, None, 1),
        ],
    ),
    "small_leather_goods": (
        ["Louis Vuitton", "Bottega Veneta", "Coach"],
        [("钱包", "Wallet", 2000, 7000, None, 1), ("卡包", "Card holder", 1500, 4000, None, 1)],
    ),
    "confectionery": (
        ["Godiva", "Lindt", "Ferrero"],
        [("巧克力礼盒", "Chocolate box", 120, 680, None, 1)],
    ),
    "sporting_goods": (
        ["Titleist", "Callaway", "Wilson"],
        [
            ("高尔夫球杆", "Golf club", 1800, 9000, None, 1),
            ("网球拍", "Tennis racket", 900, 2500, None, 1),
        ],
    ),
    "beauty_health_appliances": (
        ["Dyson", "Philips", "Braun", "Panasonic"],
        [
            ("吹风机", "Hair dryer", 1500, 3500, None, 1),
            ("剃须刀", "Electric shaver", 800, 3800, None, 1),
        ],
    ),
    "tableware_kitchenware": (
        ["Zwilling", "Le Creuset", "WMF"],
        [("铸铁锅", "Cast-iron pot", 1500, 3800, None, 1)],
    ),
    "toys": (
        ["LEGO", "Bandai", "Jellycat"],
        [
            ("积木套装", "Building set", 300, 4500, None, 1),
            ("毛绒玩具", "Plush toy", 150, 800, None, 1),
        ],
    ),
    "infant_formula": (
        ["a2", "Aptamil", "Friso"],
        [("婴幼儿配方奶粉 900g", "Infant formula 900 g", 250, 480, None, 1)],
    ),
    "coffee": (
        ["Illy", "Lavazza", "Nespresso"],
        [("咖啡豆 1kg", "Coffee beans 1 kg", 180, 600, None, 1)],
    ),
    "ginseng_products": (
        ["Cheong Kwan Jang"],
        [("红参精", "Red ginseng extract", 800, 3500, None, 1)],
    ),
    "cereal_foods": (["Kellogg's", "Quaker"], [("燕麦片", "Oats", 60, 180, None, 1)]),
    "health_foods": (
        ["Swisse", "Blackmores", "GNC"],
        [("鱼油", "Fish oil", 180, 480, None, 1), ("维生素", "Multivitamins", 150, 420, None, 1)],
    ),
    "royal_jelly": (["Comvita"], [("蜂王浆", "Royal jelly", 300, 900, None, 1)]),
    "olive_oil": (
        ["Colavita", "Bertolli"],
        [("特级初榨橄榄油 1L", "Extra-virgin olive oil 1 L", 120, 380, None, 1)],
    ),
    "diapers": (["Merries", "Pampers", "Moony"], [("纸尿裤", "Diapers", 130, 260, None, 1)]),
    "ceramics": (
        ["Wedgwood", "Royal Copenhagen"],
        [("骨瓷茶具", "Bone-china tea set", 1200, 8000, None, 1)],
    ),
    "glassware": (["Riedel", "Baccarat"], [("水晶酒杯", "Crystal glasses", 600, 6000, None, 1)]),
    "small_appliances": (
        ["Dyson", "iRobot", "Ecovacs", "Xiaomi"],
        [
            ("扫地机器人", "Robot vacuum", 2500, 9000, None, 1),
            ("空气净化器", "Air purifier", 2000, 6500, None, 1),
        ],
    ),
    "household_medical_devices": (
        ["Omron", "Yuwell"],
        [("血压计", "Blood-pressure monitor", 300, 1500, None, 1)],
    ),
    "natural_honey": (
        ["Comvita", "Manuka Health"],
        [("麦卢卡蜂蜜", "Manuka honey", 200, 1200, None, 1)],
    ),
    "tea": (["TWG", "Mariage Frères"], [("红茶礼盒", "Black-tea gift box", 200, 1500, None, 1)]),
    "alcohol": (
        ["Moët & Chandon", "Hennessy", "Johnnie Walker", "Penfolds", "Kweichow Moutai"],
        [
            ("葡萄酒 750ml", "Wine 750 ml", 300, 3000, 750, 1),
            ("干邑 700ml", "Cognac 700 ml", 1500, 8000, 700, 1),
            ("威士忌 1L", "Whisky 1 L", 600, 5000, 1000, 1),
            ("白酒 500ml", "Baijiu 500 ml", 1500, 3500, 500, 1),
            ("香槟 375ml", "Champagne 375 ml", 250, 900, 375, 1),
        ],
    ),
    "mobile_phones": (
        ["Apple", "Samsung", "Huawei", "Xiaomi"],
        [("智能手机 256GB", "Smartphone 256 GB", 4500, 12000, None, 1)],
    ),
    "tablets": (
        ["Apple", "Huawei", "Logitech"],
        [
            ("平板电脑", "Tablet", 3000, 11000, None, 1),
            ("无线键盘", "Wireless keyboard", 400, 1500, None, 1),
        ],
    ),
    "game_consoles": (["Nintendo", "Sony"], [("游戏机", "Game console", 2000, 4500, None, 1)]),
    "electronic_consumer_products": (
        ["Apple", "DJI", "Sony", "Bose"],
        [
            ("无线耳机", "Wireless earbuds", 1200, 2500, None, 1),
            ("迷你无人机", "Mini drone", 2500, 6500, None, 1),
            ("智能手表", "Smartwatch", 2000, 7000, None, 1),
        ],
    ),
    "pet_supplies": (["Royal Canin", "Orijen"], [("猫粮 2kg", "Cat food 2 kg", 180, 450, None, 1)]),
    "portable_musical_instruments": (
        ["Yamaha", "Fender"],
        [("电吉他", "Electric guitar", 3500, 15000, None, 1)],
    ),
    # Placeholder categories of the policy (serials 34–38, names not yet verified): one generic
    # item each, so that the demo catalogue covers every category.
    **{
        f"unverified_{number}": (
            ["Demo"],
            [(f"待核实品类{number}商品", f"Unverified category {number} item", 100, 2000, None, 1)],
        )
        for number in range(34, 39)
    },
}


def _sku_prefix(code: str) -> str:
    """The code upper-cased and cut to 12 characters; placeholders keep their number."""
    if code.startswith("unverified_"):
        return f"UNVERIFIED{code.removeprefix('unverified_')}"
    return code.upper()[:12]


def demo_products(seed: int = 2026) -> list[Product]:
    """Deterministic products: each (category, item) in a few brands, prices rounded as
    stores price them (to 10 yuan, or 1 yuan below 1,000)."""
    rng = random.Random(seed)  # noqa: S311 - demo data, not security
    products = []
    for code, (brands, items) in _CATALOGUE.items():
        for item_no, (name_zh, name_en, low, high, volume, pieces) in enumerate(items, start=1):
            for brand_no, brand in enumerate(brands, start=1):
                price = rng.randint(low, high)
                price = price - price % 10 if price >= 1000 else price
                products.append(
                    Product(
                        sku=f"{_sku_prefix(code)}-{item_no:02d}{brand_no:02d}",
                        name_zh=f"{brand} {name_zh}",
                        name_en=f"{brand} {name_en}",
                        brand=brand,
                        category_code=code,
                        retail_price=Decimal(price).quantize(Decimal("0.01")),
                        volume_ml=volume if code == "alcohol" else None,
                        pieces=pieces,
                    )
                )
    return products


@transaction.atomic
def load_demo_products(seed: int = 2026) -> int:
    """Insert the demo catalogue's missing SKUs (existing products are left as they are)."""
    products = demo_products(seed)
    existing = set(
        Product.objects.filter(sku__in=[p.sku for p in products]).values_list("sku", flat=True)
    )
    Product.objects.bulk_create([p for p in products if p.sku not in existing])
    return len(products) - len(existing)


# A shopper to try /quota/ with (the contract's example document): printed by seed_demo.
DEMO_SHOPPER = {
    "doc_type": "resident_id",
    "country": "CHN",
    "number": "460100199001011234",
    "name": "张三",
}
_DEMO_BASKETS = (  # (store, pickup, [(sku, quantity)])
    ("SYA-HTB", "departure", [("COSMETICS-0301", 2), ("COSMETICS-0401", 1)]),
    ("SYA-HTB", "departure", [("ALCOHOL-0103", 1)]),
    ("HAK-RIYUE", "departure", [("WATCHES-0204", 1), ("COSMETICS-0201", 3)]),
)


def load_demo_shopper(*, now: datetime) -> int:
    """Give the demo shopper a trip three days ahead and three purchases in two stores, once a
    year (idempotent: nothing is added while the shopper has purchases this year). Returns the
    number of sales made."""
    from quotas.models import QuotaAccount
    from quotas.services import PresentedShopper

    from .checkout import Basket, LineInput, TripInput, sale_commit
    from .services import terminal_create

    key = identity.document_key(
        doc_type=DEMO_SHOPPER["doc_type"],
        country=DEMO_SHOPPER["country"],
        number=DEMO_SHOPPER["number"],
    )
    year = now.astimezone(LOCAL_TZ).year
    if QuotaAccount.objects.filter(shopper__document_key=key, year=year, used__gt=0).exists():
        return 0
    shopper = PresentedShopper(
        doc_type=DEMO_SHOPPER["doc_type"],
        country=DEMO_SHOPPER["country"],
        number=DEMO_SHOPPER["number"],
        name=DEMO_SHOPPER["name"],
        birth_date=date(1990, 1, 1),
        hainan_resident=False,
    )
    departs = (
        (now + timedelta(days=3))
        .astimezone(LOCAL_TZ)
        .replace(hour=10, minute=30, second=0, microsecond=0)
    )
    trip = TripInput(kind="domestic", mode="air", carrier_ref="HU7181", departs_at=departs)
    made = 0
    for number, (code, pickup, lines) in enumerate(_DEMO_BASKETS, start=1):
        store = Store.objects.get(code=code)
        terminal = Terminal.objects.filter(store=store, name="demo-shopper").first()
        if terminal is None:
            terminal, _ = terminal_create(store=store, name="demo-shopper")
        sale_commit(
            terminal=terminal,
            idempotency_key=f"demo-shopper-{year}-{now:%m%d%H%M%S}-{number}",
            fingerprint=f"demo-shopper-{number}",
            basket=Basket(
                shopper=shopper,
                trip=trip,
                pickup=pickup,
                lines=tuple(LineInput(sku, quantity) for sku, quantity in lines),
            ),
            now=now - timedelta(minutes=30 * (len(_DEMO_BASKETS) - number + 1)),
        )
        made += 1
    return made


# --- Two years and more of history, so that year-on-year figures show on the first run ------
OPENING = date(2025, 12, 18)  # island-wide special customs operations: sales grew after it
_HISTORY_STORES = (  # (code, share of the sales)
    ("SYA-HTB", 30), ("HAK-IDFC", 18), ("SYA-AIR", 10), ("HAK-RIYUE", 10), ("SYA-HTDF", 8),
    ("SYA-CNSC", 6), ("HAK-MH", 6), ("HAK-GDF", 6), ("QHI-BOAO", 3), ("WNG-WFJ", 3),
)  # fmt: skip
_BASKET_CATEGORIES = (  # (category, weight)
    ("cosmetics", 40), ("perfume", 12), ("alcohol", 8), ("watches", 6), ("jewellery", 5),
    ("handbags", 7), ("eyewear", 5), ("mobile_phones", 3), ("clothing", 6), ("shoes", 4),
    ("tea", 2), ("pens", 2),
)  # fmt: skip


def _history_weight(day: date) -> float:
    """Relative sales of a day: weekends, the Spring Festival and National Day peaks, summer,
    and the growth after the 2025-12-18 opening."""
    from shops.stats import spring_festival_holiday

    weight = 1.0 + (0.25 if day.weekday() >= 5 else 0.0)
    if day.month in (7, 8):
        weight += 0.2
    holiday = spring_festival_holiday(day.year)
    if holiday.start - timedelta(days=3) <= day <= holiday.end + timedelta(days=2):
        weight += 1.6
    if date(day.year, 10, 1) <= day <= date(day.year, 10, 7):
        weight += 1.2
    if day >= OPENING:
        weight *= 1.45
    return weight


def demo_history_csv(
    *, first: date, last: date, seed: int = 2026, per_day: int = 30, shoppers: int = 6000
) -> str:
    """Legacy-system receipts (import_sales's CSV) for every day from ``first`` to ``last``:
    about ``per_day`` receipts on an ordinary day, more on holidays."""
    rng = random.Random(seed)  # noqa: S311 - demo data, not security
    stores = [code for code, _ in _HISTORY_STORES if Store.objects.filter(code=code).exists()]
    shares = [share for code, share in _HISTORY_STORES if code in stores]
    by_category: dict[str, list[Product]] = {}
    for product in demo_products(seed):
        by_category.setdefault(product.category_code, []).append(product)
    categories = [code for code, _ in _BASKET_CATEGORIES if code in by_category]
    weights = [weight for code, weight in _BASKET_CATEGORIES if code in by_category]
    from .importer import COLUMNS

    lines = [",".join(COLUMNS)]
    day = first
    while day <= last:
        count = max(1, round(per_day * _history_weight(day) * rng.uniform(0.85, 1.15)))
        for number in range(count):
            person = rng.randrange(1, shoppers + 1)
            sold = datetime.combine(day, datetime.min.time(), tzinfo=LOCAL_TZ) + timedelta(
                minutes=rng.randrange(9 * 60, 22 * 60)
            )
            roll = rng.random()
            if day >= date(2025, 11, 1) and roll < 0.04:
                trip = ["", "", "", ""]  # a resident with an off-island record, no trip
                pickup, resident = "immediate", "true"
            else:
                kind = "outbound" if day >= date(2025, 11, 1) and roll < 0.14 else "domestic"
                departs = sold + timedelta(hours=rng.randrange(6, 60))
                trip = [kind, "air", f"HU{7000 + person % 900}", departs.isoformat()]
                pickup, resident = "departure", "false"
            receipt = f"DEMO-{day:%Y%m%d}-{number:04d}"
            store = rng.choices(stores, shares)[0]
            for category in rng.choices(categories, weights, k=rng.choice((1, 1, 2, 2, 3))):
                product = rng.choice(by_category[category])
                if product.retail_price > 15000:  # the odd luxury piece, not every day
                    product = rng.choice(by_category[category])
                if product.retail_price > 15000 or (
                    pickup == "immediate"
                    and (category not in ("cosmetics", "perfume") or product.retail_price >= 20000)
                ):
                    product = rng.choice(by_category["cosmetics"])
                lines.append(
                    ",".join(
                        [
                            receipt,
                            store,
                            sold.isoformat(),
                            "passport",
                            f"D{person:08d}",
                            f"Demo Traveller {person}",
                            f"{1960 + person % 40}-0{1 + person % 9}-1{person % 9}",
                            resident,
                            *trip,
                            pickup,
                            product.sku,
                            product.category_code,
                            str(rng.choice((1, 1, 1, 2))),
                            str(product.retail_price),
                        ]
                    )
                )
        day += timedelta(days=1)
    return "\n".join(lines) + "\n"


HISTORY_DAYS = 2 * 365 + 31


def load_demo_history(
    *,
    today: date,
    days: int = HISTORY_DAYS,
    seed: int = 2026,
    per_day: int = 30,
    shoppers: int = 6000,
) -> tuple[int, int]:
    """Import ``days`` of demo history up to yesterday (idempotent: receipts already in are
    skipped) and bring the rollups up to date. Returns (receipts imported, skipped)."""
    from .importer import import_sales
    from .rollups import refresh_all_dirty

    if days <= 0:
        return 0, 0
    first = today - timedelta(days=days)
    last = today - timedelta(days=1)
    csv_text = demo_history_csv(
        first=first, last=last, seed=seed, per_day=per_day, shoppers=shoppers
    )
    report = import_sales(io.StringIO(csv_text))
    refresh_all_dirty()
    return report.imported, report.skipped
