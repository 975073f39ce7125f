"""Customer reads that need more than a field lookup."""
from django.db.models import Exists, OuterRef, Q, QuerySet

from customers.models import Contact


def customer_search(queryset: QuerySet, term: str) -> QuerySet:
    """Every word must match the company name, number or email, or a contact's name or email
    (case-insensitive). Contacts are matched with EXISTS, so no row is repeated."""
    for word in term.split():
        contact_matches = Contact.objects.filter(customer=OuterRef("pk")).filter(
            Q(first_name__icontains=word) | Q(last_name__icontains=word) | Q(email__icontains=word)
        )
        queryset = queryset.filter(
            Q(company_name__icontains=word)
            | Q(customer_number__icontains=word)
            | Q(company_email__icontains=word)
            | Exists(contact_matches)
        )
    return queryset
