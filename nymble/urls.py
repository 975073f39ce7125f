from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from nymble.account_views import account_page
from nymble.admin import beat_app_index
from nymble.api.entry import api_index

urlpatterns = [
    path("admin/django_celery_beat/", beat_app_index),  # superusers only; staff are told where their schedule is
    path("admin/", admin.site.urls),
    path("accounts/invitation/", account_page, {"kind": "invitation"}, name="account-invitation"),
    path("accounts/reset/", account_page, {"kind": "reset"}, name="account-reset"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # Swagger UI and ReDoc load from the product's static files (drf-spectacular-sidecar): no CDN.
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    path("", api_index, name="index"),
    path("api/", api_index, name="api-index"),
    path("api/", include("nymble.api_urls")),
]

handler404 = "nymble.api.problems.not_found_view"
handler500 = "nymble.api.problems.server_error_view"
