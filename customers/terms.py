"""Payment terms: `NetN` (N days, 0–999), `COD` or `Prepaid`. The one rule every door uses: the
API's serializers normalize with it, the model field validates with it (so the admin refuses what
the API refuses), and the admin offers the common terms as a choice."""
import re

from django.core.exceptions import ValidationError

TERMS = re.compile(r"^(?:net(\d{1,3})|cod|prepaid)$", re.IGNORECASE)
MESSAGE = "Must be NetN (e.g. Net30), COD or Prepaid."
# What the admin offers; a customer's own other NetN (Net17) is offered beside them.
COMMON_TERMS = ("Net7", "Net10", "Net15", "Net30", "Net45", "Net60", "Net90", "COD", "Prepaid")


def terms_normalized(value: str) -> str:
    """`net30` → `Net30`, `cod` → `COD`; empty means none given. Anything else is a ValidationError."""
    if not value:
        return ""
    match = TERMS.match(value.strip())
    if not match:
        raise ValidationError(MESSAGE, code="invalid_terms")
    if match.group(1):
        return f"Net{int(match.group(1))}"
    return "COD" if value.strip().lower() == "cod" else "Prepaid"


def validate_terms(value: str) -> None:
    """Stored terms are in their normal form (`Net30`, not `net 30` or `Net 30 days`)."""
    if terms_normalized(value) != value:
        raise ValidationError(MESSAGE, code="invalid_terms")
