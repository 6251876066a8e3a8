from django.apps import AppConfig


class ShopsConfig(AppConfig):
    name = "shops"
    verbose_name = "门店与销售 / Stores and sales"
    default_auto_field = "django.db.models.BigAutoField"
