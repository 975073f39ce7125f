from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from nymble.account_views import account_page

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/invitation/", account_page, {"kind": "invitation"}, name="account-invitation"),
    path("accounts/reset/", account_page, {"kind": "reset"}, name="account-reset"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("api/", include("nymble.api_urls")),
]

handler404 = "nymble.api.problems.not_found_view"
handler500 = "nymble.api.problems.server_error_view"
