"""A policy preview (imported into ``shops.models``: the app's models are one set)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


class PreviewStatus(models.TextChoices):
    QUEUED = "queued", _("queued")
    RUNNING = "running", _("running")
    DONE = "done", _("done")
    FAILED = "failed", _("failed")


# A preview not finished: another request for the same version, rules and window joins it.
UNFINISHED = (PreviewStatus.QUEUED, PreviewStatus.RUNNING)


class PolicyPreview(models.Model):
    """The recorded sales of a window judged again under one policy version (a draft or any
    published one): what it would have refused. Writes nothing but itself (shops.previews)."""

    policy = models.ForeignKey(
        "quotas.Policy",
        on_delete=models.CASCADE,  # a draft deleted takes its previews with it
        related_name="+",
        verbose_name=_("policy"),
    )
    # The version's rules as previewed (quotas.rules.PolicyRules, digested): a draft edited
    # since is told, and a preview of the edited draft is a new one.
    rules_digest = models.CharField(max_length=64, editable=False)
    start = models.DateField(_("from"), help_text=_("A local (Asia/Shanghai) day, included."))
    end = models.DateField(_("to"), help_text=_("A local (Asia/Shanghai) day, included."))
    status = models.CharField(
        _("status"), max_length=8, choices=PreviewStatus.choices, default=PreviewStatus.QUEUED
    )
    # Sales judged so far, of ``total`` (counted when the run starts).
    done = models.IntegerField(_("sales judged"), default=0)
    total = models.IntegerField(_("sales to judge"), null=True, blank=True)
    result = models.JSONField(_("result"), null=True, blank=True, editable=False)
    error = models.TextField(_("error"), blank=True, editable=False)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("requested by"),
    )
    created_at = models.DateTimeField(_("requested at"))
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    # Written with every change and every progress: a run that stops writing was abandoned.
    updated_at = models.DateTimeField(_("last progress at"))

    class Meta:
        verbose_name = _("policy preview")
        verbose_name_plural = _("policy previews")
        ordering = ["-created_at", "-id"]
        constraints = [
            # One unfinished preview per version, rules and window: a second request joins it.
            models.UniqueConstraint(
                fields=["policy", "rules_digest", "start", "end"],
                condition=Q(status__in=UNFINISHED),
                name="policy_preview_one_unfinished",
            ),
            models.CheckConstraint(condition=Q(start__lte=F("end")), name="policy_preview_window"),
        ]

    def __str__(self) -> str:
        return f"{self.policy_id} {self.start}–{self.end}"

    @property
    def progress(self) -> float:
        """From 0 to 1: done at 1, queued at 0."""
        if self.status in (PreviewStatus.DONE, PreviewStatus.FAILED):
            return 1.0
        if not self.total:
            return 0.0
        return min(self.done / self.total, 1.0)
