"""What an identifier (`CustomerNumber`, `Sku`, `RepNumber`, codes, `ExternalId`) may not contain:
characters that do not show, or change how the text around them shows. "CUST\u202e0042" prints
as "CUST2400", and "CUST\u200b0042" looks like CUST0042 but is another customer.

One validator for the API's serializers and for the models (and so the admin's forms)."""
import unicodedata

from django.core.exceptions import ValidationError

# Unicode general categories refused, with what to call them in the message.
REFUSED = {
    "Cc": "a control character",
    "Cf": "an invisible formatting character (zero-width or direction-changing)",
    "Cs": "a lone surrogate",
    "Zl": "a line separator",
    "Zp": "a paragraph separator",
}


def validate_identifier(value) -> None:
    for char in str(value):
        kind = REFUSED.get(unicodedata.category(char))
        if kind is not None:
            raise ValidationError(f"Must not contain U+{ord(char):04X}, {kind}.", code="invalid_character")
