import factory

from nymble.models import User
from nymble.tests.factories import PASSWORD
from salesreps.models import OrganizationSalesRep
from salesreps.services import sales_rep_create


class SalesRepFactory(factory.Factory):
    class Meta:
        model = OrganizationSalesRep

    organization = None
    rep_number = factory.Sequence(lambda n: f"REP-{n:03d}")
    first_name = factory.Sequence(lambda n: f"Rep{n}")
    last_name = "Seller"
    email = factory.LazyAttribute(lambda o: f"{o.rep_number.lower()}@{o.organization.org_code.lower()}.test")
    phone_number = "+1-555-0188"
    password = PASSWORD

    @classmethod
    def _create(cls, model_class, **kwargs):
        if User.objects.filter(email__iexact=kwargs["email"]).exists():
            kwargs["password"] = None  # an existing login keeps its own; the person is invited
        return sales_rep_create(**kwargs)
