"""Where a newcomer lands: `/` and `/api/` say where the docs are."""
from django.http import JsonResponse


def api_index(request):
    """The map of the product: its docs, its schema, its admin and how to log in."""
    def url(path: str) -> str:
        return request.build_absolute_uri(path)

    return JsonResponse({
        "Name": "Nymble back office API",
        "Docs": url("/api/docs/"),
        "ReDoc": url("/api/redoc/"),
        "Schema": url("/api/schema/"),
        "Admin": url("/admin/"),
        "Login": f"POST {url('/api/auth/token')} {{\"Email\", \"Password\", \"OrgCode\"?}}, "
                 "then send `Authorization: Bearer <AccessToken>`",
    })
