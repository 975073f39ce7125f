"""Which roles may take which actions. What a caller may *see* is the queryset's job (404),
this only answers whether its role may act (403) on what it sees."""
from rest_framework.permissions import BasePermission

from nymble.scoping import principal_of

ADMIN = frozenset({"Admin"})
ADMIN_AND_REP = frozenset({"Admin", "SalesRep"})
EVERY_ROLE = frozenset({"Admin", "SalesRep", "Customer"})


class RolePermission(BasePermission):
    """A view's `action_roles` maps an action to the roles that may take it (default: admins).

    Detail actions are decided after the object lookup, so an object out of scope is a 404
    before the role is asked about it.
    """

    def _allowed(self, request, view) -> bool:
        principal = principal_of(request.user)
        roles = getattr(view, "action_roles", {}).get(getattr(view, "action", None), ADMIN)
        return principal is not None and principal.role in roles

    def has_permission(self, request, view):
        if principal_of(request.user) is None:
            return False
        if getattr(view, "detail", False):
            return True
        return self._allowed(request, view)

    def has_object_permission(self, request, view, obj):
        return self._allowed(request, view)


class IsAnyone(BasePermission):
    """For the login endpoints."""

    def has_permission(self, request, view):
        return True
