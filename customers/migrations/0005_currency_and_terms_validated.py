"""Customers' terms and currency are validated on the model (the admin refuses what the API refuses).

Rows the admin saved before this may hold what the API would refuse, and then no order could be
placed for them. Terms that read as terms (`net 30`, `Net 30 days`, `cod`) are written in their
normal form (`Net30`, `COD`); others are cleared (the customer has no default terms: an order
names its Terms). A currency in lower case is upper-cased; one that is no ISO 4217 code becomes
its organization's currency.
"""
import re

from django.core.exceptions import ValidationError
from django.db import migrations, models

import customers.terms
import nymble.currencies

LOOSE_TERMS = re.compile(r"^\s*(?:net\s*(\d{1,3})(?:\s*days?)?|(cod)|(prepaid))\s*$", re.IGNORECASE)


def loose_terms(value: str) -> str:
    match = LOOSE_TERMS.match(value or "")
    if match is None:
        return ""
    if match.group(1):
        return f"Net{int(match.group(1))}"
    return "COD" if match.group(2) else "Prepaid"


def normalize_stored(apps, schema_editor):
    Customer = apps.get_model("customers", "Customer")
    valid = nymble.currencies.ISO_4217
    for customer in Customer.objects.select_related("organization").only(
        "pk", "terms", "currency_code", "organization__currency_code"
    ).iterator():
        terms, currency = customer.terms, customer.currency_code
        if terms:
            try:
                customers.terms.validate_terms(terms)
            except ValidationError:
                terms = loose_terms(terms)
        if currency not in valid:
            upper = (currency or "").strip().upper()
            currency = upper if upper in valid else customer.organization.currency_code
        if (terms, currency) != (customer.terms, customer.currency_code):
            Customer.objects.filter(pk=customer.pk).update(terms=terms, currency_code=currency)


class Migration(migrations.Migration):

    dependencies = [
        ('customers', '0004_identifier_characters'),
    ]

    operations = [
        migrations.RunPython(normalize_stored, migrations.RunPython.noop),
        migrations.AlterField(
            model_name='customer',
            name='currency_code',
            field=models.CharField(max_length=3, validators=[nymble.currencies.validate_currency_code]),
        ),
        migrations.AlterField(
            model_name='customer',
            name='terms',
            field=models.CharField(blank=True, max_length=32, validators=[customers.terms.validate_terms]),
        ),
    ]
