"""The quotas admin. Django's autodiscover imports this package; importing the modules below
registers their admins."""

from . import bans, policies, shoppers  # noqa: F401  # registers their admins
