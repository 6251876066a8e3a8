"""The product catalogue as a till looks things up in it (``GET /api/v1/products``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext as _
from pydantic import Field

from dutyfree.answers import Answer, Money
from dutyfree.db import MAX_ID
from quotas.errors import NoPolicyInForce
from quotas.rules import CategoryRule
from quotas.selectors import policy_in_force_cached
from shops.models import Product, Sale
from shops.pos.answers import CategoryRefOut, category_ref
from shops.pos.errors import SaleNotFound


# --- The catalogue for a till (GET /api/v1/products) -----------------------------------------
def sold_by_store(operator_id: int | None) -> QuerySet[Product]:
    """The products a store of ``operator_id`` (``None``: the platform's) sells, active or
    not: its operator's own, and the island catalogue's where its operator lists no product of
    the SKU (as ``shops.pos.checkout.sold_here`` chooses on the sale path)."""
    island = Q(operator__isnull=True)
    if operator_id is None:
        return Product.objects.filter(island)
    own = Product.objects.filter(operator_id=operator_id, sku=OuterRef("sku"))
    return Product.objects.filter(Q(operator_id=operator_id) | (island & ~Exists(own)))


def products_find(
    *,
    operator_id: int | None,
    skus: Sequence[str] = (),
    barcode: str = "",
    words: Sequence[str] = (),
) -> QuerySet[Product]:
    """Active products a store of ``operator_id`` sells (``sold_by_store``), matching every
    criterion given: one of ``skus``, this ``barcode``, and each of ``words`` somewhere in the
    names (zh or en), the brand or the SKU (case insensitive). Unordered: the caller's
    pagination orders it."""
    products = sold_by_store(operator_id).filter(active=True)
    if skus:
        products = products.filter(sku__in=list(skus))
    if barcode:
        products = products.filter(barcode=barcode)
    for word in words:
        products = products.filter(
            Q(name_zh__icontains=word)
            | Q(name_en__icontains=word)
            | Q(brand__icontains=word)
            | Q(sku__icontains=word)
        )
    return products


class ProductOut(Answer):
    sku: str
    barcode: str | None = Field(description="As printed under the bars (EAN-13, UPC-A …), or null.")
    name_zh: str
    name_en: str
    brand: str
    category: CategoryRefOut
    retail_price: Money
    volume_ml: int | None
    pieces: int
    immediate_kind: str | None = Field(
        description="The code of its kind on the immediate-pickup list (即购即提) of the policy, "
        "such as cosmetics or sunglasses; null: never picked up at once."
    )


def product_out(product: Product, categories: Mapping[str, CategoryRule]) -> ProductOut:
    """A product as a till shows it, its category named by the policy in force."""
    return ProductOut(
        sku=product.sku,
        barcode=product.barcode or None,
        name_zh=product.name_zh,
        name_en=product.name_en,
        brand=product.brand,
        category=category_ref(categories, product.category_code),
        retail_price=product.retail_price,
        volume_ml=product.volume_ml,
        pieces=product.pieces,
        immediate_kind=product.immediate_kind or None,
    )


def categories_in_force(*, now: datetime) -> Mapping[str, CategoryRule]:
    """The categories of the policy in force at ``now`` (none when there is no policy)."""
    try:
        return policy_in_force_cached(at=now).rules.categories
    except NoPolicyInForce:
        return {}


# --- A till looks up its store's sales (GET /api/v1/sales, /api/v1/sales/{id}) ---------------
def sale_of_store(*, store_id: int, sale_id: int, training_only: bool = False) -> Sale:
    """A sale of this store, with its store and terminal; another store's sale is not found
    (404, never 403, so ids cannot be probed). ``training_only`` (a training terminal's
    look-up): a sale that is not a training sale is not found either, so a till in training
    never returns, voids or hands over a real sale.

    :raises SaleNotFound: no such sale in this store.
    """
    sale = None
    if 0 < sale_id <= MAX_ID:
        sales = Sale.objects.select_related("store", "terminal").filter(
            pk=sale_id, store_id=store_id
        )
        if training_only:
            sales = sales.filter(training=True)
        sale = sales.first()
    if sale is None:
        raise SaleNotFound(_("Sale %(id)s is not a sale of this store.") % {"id": sale_id})
    return sale


# --- A till looks up its store's sales (GET /api/v1/sales) -----------------------------------
def sales_find(
    *,
    store_id: int,
    receipt_no: str = "",
    day: date | None = None,
    training_only: bool = False,
) -> QuerySet[Sale]:
    """The store's sales with this receipt number and/or of this local day, their lines and
    returns prefetched (unordered: the caller's pagination orders them); ``training_only`` (a
    training terminal's look-up, as :func:`sale_of_store`): its training sales alone."""
    sales = (
        Sale.objects.filter(store_id=store_id)
        .select_related("store", "terminal")
        .prefetch_related("lines", "returns")
    )
    if training_only:
        sales = sales.filter(training=True)
    if receipt_no:
        sales = sales.filter(receipt_no=receipt_no)
    if day is not None:
        sales = sales.filter(local_date=day)
    return sales
