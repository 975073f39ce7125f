"""What `OPTIONS` answers: the route's name, description and media types, with its `Allow` header."""
from rest_framework.metadata import SimpleMetadata


class RouteMetadata(SimpleMetadata):
    """DRF's metadata without `actions`: describing a route's writes meant looking its object up
    (a 500 on a route whose PUT has none, such as the upserts), and /api/schema/ describes them."""

    def determine_actions(self, request, view):
        return {}
