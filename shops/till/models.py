"""A till signed in at ``/pos/`` (imported into ``shops.models``: the app's models are one set)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class TillSession(models.Model):
    """A browser signed in as a terminal with its key, until the shift ends or it signs out.

    The browser holds a random token in an HttpOnly cookie and never the key; the database
    keeps the token's SHA-256 hash (the token is 256 random bits, so a fast hash is enough)."""

    terminal = models.ForeignKey(
        "shops.Terminal",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("terminal"),
    )
    token_hash = models.CharField(_("token hash"), max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("signed in at"))
    expires_at = models.DateTimeField(_("shift ends at"))

    class Meta:
        verbose_name = _("till session")
        verbose_name_plural = _("till sessions")

    def __str__(self) -> str:
        return f"{self.terminal_id} {self.created_at:%Y-%m-%d %H:%M}"
