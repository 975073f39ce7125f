"""Every route of the JSON API, collected from the apps."""
from django.urls import include, path
from rest_framework.routers import SimpleRouter

from nymble import views
from salesreps.urls import register as register_salesreps
from salesreps.urls import urlpatterns as salesreps_urlpatterns

router = SimpleRouter(trailing_slash=False)
router.register(r"organizations", views.OrganizationViewSet, basename="organization")
router.register(r"organizations/(?P<organization_id>[^/]+)/pricetiers", views.PriceTierViewSet, basename="pricetier")
router.register(
    r"organizations/(?P<organization_id>[^/]+)/customerattributes",
    views.AttributeDefinitionViewSet,
    basename="customerattribute",
)
router.register(r"organizations/(?P<organization_id>[^/]+)/apiclients", views.ApiClientViewSet, basename="apiclient")
register_salesreps(router)

urlpatterns = [
    path("auth/token", views.TokenView.as_view(), name="auth-token"),
    path("auth/token/refresh", views.TokenRefreshView.as_view(), name="auth-token-refresh"),
    path("auth/logout", views.LogoutView.as_view(), name="auth-logout"),
    path("auth/login", views.ClientLoginView.as_view(), name="auth-client-login"),
    path("auth/invitations/accept", views.InvitationAcceptView.as_view(), name="auth-invitation-accept"),
    path("auth/password-reset", views.PasswordResetView.as_view(), name="auth-password-reset"),
    path("auth/password-reset/confirm", views.PasswordResetConfirmView.as_view(), name="auth-password-reset-confirm"),
    path("", include(router.urls)),
    path("", include("customers.urls")),
    path("", include("orders.catalog.urls")),
    path("", include("orders.urls")),
    path("", include("commissions.plans.urls")),
    path("", include("commissions.statements.urls")),
    path("", include("audit.urls")),
    path("", include("webhooks.urls")),
]
urlpatterns += salesreps_urlpatterns
