"""The quotas admin. Django's autodiscover imports this package; importing the modules below
registers their admins."""

from . import policies  # noqa: F401  # registers its admins
