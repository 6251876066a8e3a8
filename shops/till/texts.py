"""What the cashier screen's modules say, in the page's language (one catalogue with the rest:
locale/), handed to them as JSON in the page. ``{name}`` marks a value the module fills in."""

from __future__ import annotations

from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from quotas.choices import PickupMode
from shops.shoppers.names import TRIP_MODES

PICKUP_NAMES = {
    PickupMode.DEPARTURE: _("At departure (airport, station or port)"),
    PickupMode.MAIL: _("By mail"),
    PickupMode.RETURN_TO_ISLAND: _("On return to the island (Hainan residents)"),
    PickupMode.IMMEDIATE: _("Immediate pickup (即购即提)"),
    PickupMode.GUARANTEE: _("Guarantee pickup (担保即提)"),
}

TEXTS: dict[str, Any] = {
    # The basket
    "added": _("Added: {name}"),
    "unknown_code": _("Unknown code {code}: no product of this store has that barcode or SKU."),
    "offline_lookup": _("The server could not be reached: try again."),
    "nothing_found": _("No product matches “{words}”."),
    "lines_count": _("({count} lines)"),
    "one_line": _("(1 line)"),
    "less_of": _("One less {name}"),
    "more_of": _("One more {name}"),
    "remove_line": _("Remove {name}"),
    "quantity": _("Quantity"),
    # The verdict
    "scan_to_start": _("Scan a product to start a basket."),
    "checking": _("Checking…"),
    "allowed": _("Allowed: the basket may be sold."),
    "refused": _("Refused: put right what is marked."),
    "complete_fields": _("Complete or correct the marked fields."),
    "offline_quote": _("The verdict could not be checked: the server is not answering."),
    "fill_in": _("To judge the basket, fill in: {fields}."),
    "fix_document": _("Correct the document number: its check digit does not match."),
    "id_birth_mismatch": _("The birth date differs from the one in the document number."),
    "departs_far": _("Departs in {days} days: check the date."),
    "units": {
        "piece": _("{count} pieces"),
        "ml": _("{count} ml"),
        "item": _("{count} items"),
        "unit": _("{count}"),
    },
    "id_birth_date": _("Check digit correct; birth date {date} taken from the number."),
    "id_check_digit": _("The check digit does not match: the number is mistyped."),
    "id_invalid": _("Not a resident identity number (18 characters, the last a digit or X)."),
    # Committing
    "committing": _("Completing the sale…"),
    "outcome_unknown": _(
        "The outcome is not known yet (no answer from the server): asking again in {seconds} "
        "s, attempt {attempt}. Do not sell this basket again; it will not be sold twice."
    ),
    "sale_refused": _("The sale was refused: nothing was sold."),
    "sign_out_pending": _(
        "Not signed out: the outcome of a sale or an action is not known yet. Wait until the "
        "screen has it (it keeps asking), then sign out."
    ),
    "sale_done": _("Sale completed."),
    "replayed_sale": _(
        "This sale had already been recorded: the same sale is shown, not a second one."
    ),
    "duplicate_note": _("A copy: the receipt is marked as a duplicate."),
    "new_basket": _("New basket"),
    "confirm_new_basket": _("Start a new basket?"),
    "confirm_new_basket_note": _("The lines and the shopper of this basket are dropped."),
    # The receipt
    "receipt_title": _("Duty-free sales receipt"),
    "store": _("Store"),
    "terminal": _("Terminal"),
    "receipt_no": _("Receipt number"),
    "sold_at": _("Sold at"),
    "product": _("Product"),
    "amount": _("Amount"),
    "total": _("Total"),
    "returned": _("Returned"),
    "returned_qty": _("{count} returned"),
    "pickup": _("Pickup"),
    "collect_where": _("Where to collect"),
    "collect": {
        PickupMode.DEPARTURE: _(
            "At the duty-free pickup point of your departure: show this slip and your document."
        ),
        PickupMode.MAIL: _("Sent by mail to the address given at the counter."),
        PickupMode.RETURN_TO_ISLAND: _("At this store, when you return to the island."),
        PickupMode.IMMEDIATE: _("Handed over at this counter now."),
        PickupMode.GUARANTEE: _(
            "Handed over now against a guarantee, settled when your departure is recorded "
            "within 30 days."
        ),
    },
    "collect_trip": _("({mode} {carrier}, departs {departs})"),
    "quota_after": _("Quota {year} remaining"),
    "quota_after_value": _("{remaining} of {limit}"),
    "customs_status": _("Reported to customs"),
    "customs": {
        "pending": _("Pending"),
        "delivered": _("Delivered"),
        "failed": _("Failed: the store will report it"),
        "not_configured": _("No customs channel configured"),
        "training": _("Never (training)"),
    },
    "qr_label": _("QR code of receipt {receipt}"),
    "receipt_footnote": _(
        "Keep this receipt: show it with your document at pickup. Duty-free goods are for "
        "your own use and may not be resold."
    ),
    "training_stamp": _("培训 TRAINING: not a sale"),
    "training_short": _("training"),
    "training_footnote": _(
        "Made on a training terminal: no quota was used, and nothing was reported or counted."
    ),
    "duplicate_stamp": _("副本 DUPLICATE"),
    "voided_stamp": _("VOIDED"),
    # After the sale
    "no_sales_today": _("No sales at this store today."),
    "no_such_receipt": _("No sale of this store has the receipt number {receipt}."),
    "sale_title": _("Sale {receipt}"),
    "status_completed": _("completed"),
    "status_voided": pgettext_lazy("till", "voided"),
    "status_picked_up": _("picked up"),
    "return_now": _("Return"),
    "return_qty_label": _("Quantity of {name} to return (at most {left})"),
    "return_reason": _("Reason for the return"),
    "return_choose": _("Enter the quantity to return on at least one line."),
    "return_qty_range": _("Return a whole number of {name}, from 0 to {left}."),
    "required": _("Required."),
    "do_return": _("Return the chosen lines"),
    "do_void": _("Void the sale"),
    "do_pickup": _("Mark as picked up"),
    "do_reprint": _("Print again"),
    "do_departure": _("Record"),
    "confirm_return": _("Return these goods from sale {receipt}?"),
    "confirm_return_note": _("The shopper's quota and this trip's limits are credited."),
    "confirm_void": _("Void sale {receipt}?"),
    "confirm_void_note": _(
        "The whole sale is cancelled and {total} goes back to the shopper's quota. This cannot "
        "be undone."
    ),
    "confirm_pickup": _("Hand over the goods of sale {receipt}?"),
    "confirm_pickup_note": _(
        "Record that the shopper received the goods. A sale picked up can no longer be voided."
    ),
    "confirm_departure": _("Record this departure?"),
    "confirm_departure_note": _("{carrier}, departed {at}."),
    "sending": _("Sending…"),
    "action_unknown": _(
        "The outcome is not known yet: asking again in {seconds} s (attempt {attempt}). It "
        "will not be done twice."
    ),
    "action_waiting": _(
        "Another action's outcome is not known yet: it is being asked again; try this one "
        "when it is known."
    ),
    "replayed_note": _("(It had already been done: the same answer was given again.)"),
    "return_done": _("Return recorded."),
    "void_done": _("Sale voided."),
    "pickup_done": _("Marked as picked up."),
    "departure_done": _("Departure recorded."),
    # The X report
    "report_title": _("Shift summary (X report)"),
    "report_day": _("Day {day}, printed {at}"),
    "sales": _("Sales"),
    "returns": _("Returns"),
    "voids": _("Voids"),
    "net": _("Net"),
    "by_pickup": _("By pickup mode"),
    "report_empty": _("Nothing sold, returned or voided at this terminal on this day."),
    "report_footnote": _("Count · amount. An X report closes nothing: print it at any time."),
    "pickups": PICKUP_NAMES,
    "trip_modes": TRIP_MODES,
}


def resolved(texts: Any = TEXTS) -> Any:
    """The texts in the active language, as JSON takes them."""
    if isinstance(texts, dict):
        return {str(key): resolved(value) for key, value in texts.items()}
    return str(texts) if isinstance(texts, Promise) else texts
