from django.apps import AppConfig


class DutyfreeConfig(AppConfig):
    name = "dutyfree"
    verbose_name = "dutyfree"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the deploy checks)
