from django.apps import AppConfig


class QuotasConfig(AppConfig):
    name = "quotas"
    verbose_name = "离岛免税政策与额度 / Policy and quotas"
    default_auto_field = "django.db.models.BigAutoField"
