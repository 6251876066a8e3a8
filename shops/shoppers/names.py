"""What pages for people call the documents and the ways of leaving the island (the shopper's
look-up and the cashier screen), in the page's language."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from quotas.choices import DocumentType, TripMode

# quotas.choices.DocumentType, as a person reads the names.
DOCUMENT_NAMES = {
    DocumentType.RESIDENT_ID: _("Resident identity card"),
    DocumentType.PASSPORT: _("Passport"),
    DocumentType.HKMO_PERMIT: _("Mainland travel permit for Hong Kong and Macao residents"),
    DocumentType.TW_PERMIT: _("Mainland travel permit for Taiwan residents"),
    DocumentType.FOREIGNER_ID: _("Foreigner's permanent residence ID card"),
}
DOCUMENT_TYPES = [(kind.value, DOCUMENT_NAMES[kind]) for kind in DocumentType]
TRIP_MODES = {TripMode.AIR: _("Flight"), TripMode.RAIL: _("Train"), TripMode.SEA: _("Ship")}
