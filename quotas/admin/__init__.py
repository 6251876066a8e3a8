"""The quotas admin: policies, their categories and immediate-pickup kinds, programmes,
shoppers and bans. Django's autodiscover imports this package; importing the modules below
registers their admins.

- ``policies`` — PolicyAdmin (list, form, delete rules; the clone, publish and withdraw pages)
  and ProgrammeAdmin.
- ``categories`` — a policy's categories and kinds as inlines on its page, how a category's
  columns read, and CategoryAdmin (every category of every version).
- ``csv_pages`` — the CSV export and import pages of a policy's categories and kinds.
- ``history`` — the History pages: VersionsAdmin (a past version read only, GET alone) and the
  policy's History page, which lists its categories' and kinds' changes too.
- ``shoppers`` — ShopperAdmin (read only) and its search by document number, never shown.
- ``bans`` — BanAdmin: record a ban, lift it on its own page; never edited or deleted.
- ``shared`` — what several of them use: a service's refusal, the staff user, a local time, and
  PolicyPages, the base of a policy's own pages.

Every string a person reads here is translated (zh-hans in locale/); dates and times show in
Asia/Shanghai. The templates are in templates/admin/quotas/.
"""

from . import bans, categories, policies, shoppers  # noqa: F401  # registers their admins
