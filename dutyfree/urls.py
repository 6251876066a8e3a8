"""URL wiring: the only module (with Celery autodiscovery) that knows both apps."""

from csp.decorators import csp_update
from django.contrib import admin
from django.urls import include, path, re_path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.views import SpectacularSwaggerSplitView

from dutyfree.errors import api_aware_404
from dutyfree.health import healthz, ping
from dutyfree.schema import CachedSchemaView
from quotas.api import PolicyInForceApi
from shops.api import views as shops_api
from shops.reporting.dashboard import dashboard_export, dashboard_page
from shops.shoppers.pages import captcha_image, captcha_refresh, home_page, quota_page
from shops.till.pages import till_page, till_sign_in, till_sign_out

SWAGGER_UI_STYLE_HASH = "'sha256-MMpT0iDxyjALd9PdfepImGX3DBfJPXZ4IlDWdPAgtn0='"
handler404 = "dutyfree.errors.api_aware_404"
handler500 = "dutyfree.errors.api_aware_500"
# The admin names the project, not "Django administration" (its sign-in page is
# templates/admin/login.html).
admin.site.site_header = _("Hainan offshore duty-free administration")
admin.site.site_title = _("Hainan offshore duty-free")
admin.site.index_title = _("Policies, stores and sales")
# "View site" goes to the home page, which links back to the admin.
admin.site.site_url = "/"

api_v1 = [
    path("policy", PolicyInForceApi.as_view(), name="policy-in-force"),
    path("quotes", shops_api.QuoteApi.as_view(), name="quotes"),
    path("products", shops_api.ProductListApi.as_view(), name="products"),
    path("sales", shops_api.SalesApi.as_view(), name="sales"),
    path("sales/<int:sale_id>", shops_api.SaleDetailApi.as_view(), name="sale-detail"),
    path("sales/<int:sale_id>/returns", shops_api.SaleReturnApi.as_view(), name="sale-returns"),
    path("sales/<int:sale_id>/void", shops_api.SaleVoidApi.as_view(), name="sale-void"),
    path("sales/<int:sale_id>/pickup", shops_api.SalePickupApi.as_view(), name="sale-pickup"),
    path("departures", shops_api.DepartureApi.as_view(), name="departures"),
    path("terminal-report", shops_api.TerminalReportApi.as_view(), name="terminal-report"),
    path("quota-lookup", shops_api.QuotaLookupApi.as_view(), name="quota-lookup"),
    path("stats/sales", shops_api.SalesStatsApi.as_view(), name="stats-sales"),
    path("policy-previews", shops_api.PolicyPreviewsApi.as_view(), name="policy-previews"),
    path(
        "policy-previews/<int:preview_id>",
        shops_api.PolicyPreviewApi.as_view(),
        name="policy-preview",
    ),
]

urlpatterns = [
    path("", home_page, name="home"),
    path("healthz", healthz, name="healthz"),
    path("ping", ping, name="ping"),
    path("api/v1/", include((api_v1, "api"), namespace="api")),
    path("api/schema/", CachedSchemaView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script from its own URL (no inline script):
    # under the site's CSP only its one <style> block needs allowing, by hash.
    path(
        "api/docs/",
        csp_update({"style-src": [SWAGGER_UI_STYLE_HASH]})(
            SpectacularSwaggerSplitView.as_view(url_name="schema")
        ),
        name="api-docs",
    ),
    path("quota/", quota_page, name="quota"),
    path("pos/", till_page, name="till"),
    path("pos/sign-in", till_sign_in, name="till-sign-in"),
    path("pos/sign-out", till_sign_out, name="till-sign-out"),
    path("dashboard/", dashboard_page, name="dashboard"),
    path("dashboard/export.csv", dashboard_export, name="dashboard-export"),
    # Before the library's own: its refresh counted per address, its image cacheable.
    path("captcha/refresh/", captcha_refresh, name="captcha-refresh"),
    re_path(r"^captcha/image/(?P<key>\w+)/$", captcha_image, name="captcha-image"),
    path("captcha/", include("captcha.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    # Unknown API paths answer problem+json even with DEBUG on (no HTML debug page).
    re_path(r"^api/", api_aware_404),
]
