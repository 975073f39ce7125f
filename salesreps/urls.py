"""Sales rep routes, relative to /api/. `nymble/api_urls.py` calls `register(router)` for the
router's routes and appends `urlpatterns` for the rest."""
from django.urls import path

from salesreps import views

router_registrations = [
    (r"organizations/(?P<organization_id>[^/]+)/salesreps", views.SalesRepViewSet, "salesrep"),
]


def register(router) -> None:
    for prefix, viewset, basename in router_registrations:
        router.register(prefix, viewset, basename=basename)


urlpatterns = [
    path(
        "salesreps/organizations",
        views.RepOrganizationViewSet.as_view({"get": "list"}),
        name="salesrep-organizations",
    ),
]
