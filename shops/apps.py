from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ShopsConfig(AppConfig):
    name = "shops"
    verbose_name = _("Stores and sales")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from shops.feed import checks  # noqa: F401 - registers the feed's key checks
