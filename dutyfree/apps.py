from axes.apps import AppConfig as AxesAppConfig  # type: ignore[import-untyped]  # no types
from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop


class DutyfreeConfig(AppConfig):
    name = "dutyfree"
    verbose_name = "dutyfree"
    # This module also holds other apps' configurations (below): Django takes the one marked
    # default for INSTALLED_APPS' "dutyfree", and without the mark it would take none of them
    # and never run ready() (the deploy checks would go unregistered).
    default = True

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the deploy checks)


# Two apps of others that the admin shows, named in the page's language as ours are
# (INSTALLED_APPS names these configurations instead of the bare apps).
class AxesConfig(AxesAppConfig):
    """django-axes, the sign-in protection (failed staff logins, lock-outs)."""

    verbose_name = _("Sign-in protection")


# The names django-axes gives its models and columns, which it ships no Chinese for: listed
# here so that the catalogue keeps them (`make messages` extracts from our sources only).
AXES_NAMES = (
    gettext_noop("access attempt"),
    gettext_noop("access attempts"),
    gettext_noop("access failure"),
    gettext_noop("access failures"),
    gettext_noop("access log"),
    gettext_noop("access logs"),
    gettext_noop("access attempt expiration"),
    gettext_noop("access attempt expirations"),
    gettext_noop("Access Attempt"),
    gettext_noop("Attempt Time"),
    gettext_noop("Expires At"),
    gettext_noop("Failed Logins"),
    gettext_noop("Form Data"),
    gettext_noop("HTTP Accept"),
    gettext_noop("IP Address"),
    gettext_noop("Locked Out"),
    gettext_noop("Logout Time"),
    gettext_noop("Meta Data"),
    gettext_noop("Path"),
    gettext_noop("User Agent"),
    gettext_noop("Username"),
    gettext_noop("Session key hash (sha256)"),
    gettext_noop("The time when access attempt expires and is no longer valid."),
)


class KnoxConfig(AppConfig):
    """django-rest-knox, the staff API tokens (``create_staff_token``)."""

    name = "knox"
    verbose_name = _("Staff API tokens")

    def ready(self) -> None:
        # knox gives its model no verbose name, so Django derives "auth token" from the class
        # name, which no catalogue can translate. Named once, at start-up; the migrations read
        # the model's own Meta, so this asks for none.
        options = self.get_model("AuthToken")._meta
        options.verbose_name = _("staff API token")
        options.verbose_name_plural = _("staff API tokens")
