import factory

from customers.models import Customer
from customers.services import customer_create, portal_login_create
from nymble.tests.factories import PASSWORD, tier


class CustomerFactory(factory.Factory):
    class Meta:
        model = Customer

    organization = None
    customer_number = factory.Sequence(lambda n: f"CUST-{n:04d}")
    company_name = factory.Sequence(lambda n: f"Company {n} Ltd.")
    company_email = factory.LazyAttribute(lambda o: f"office@{o.customer_number.lower()}.example")
    price_tier = factory.LazyAttribute(lambda o: tier(o.organization, "Wholesale"))
    sales_rep = None
    terms = "Net30"
    contacts = factory.LazyAttribute(
        lambda o: [
            {
                "first_name": "Jane",
                "last_name": "Buyer",
                "email": f"jane@{o.customer_number.lower()}.{o.organization.org_code.lower()}.example",
                "contact_type": "Primary",
            }
        ]
    )

    @classmethod
    def _create(cls, model_class, **kwargs):
        return customer_create(**kwargs)


def give_portal_login(customer: Customer, password: str = PASSWORD):
    return portal_login_create(contact=customer.contacts.first(), password=password)
