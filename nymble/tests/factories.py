"""Factories for organizations and logins. They go through the services, so test data obeys the rules."""
import factory

from nymble import logins, services
from nymble.models import Membership, Organization, PriceTier

PASSWORD = "test-pass-123"


class OrganizationFactory(factory.Factory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Organization {n}")
    org_code = factory.Sequence(lambda n: f"ORG{n}")
    admin_email = factory.LazyAttribute(lambda o: f"admin@{o.org_code.lower()}.test")
    time_zone = "America/Chicago"
    tiers = ("Wholesale", "Retail")

    @classmethod
    def _create(cls, model_class, tiers, admin_email, **kwargs):
        organization = services.organization_create(admin_email=admin_email, admin_password=PASSWORD, **kwargs)
        for code in tiers:
            services.price_tier_create(organization=organization, code=code, name=f"{code} prices")
        return organization


def tier(organization: Organization, code: str) -> PriceTier:
    return PriceTier.objects.get(organization=organization, code=code)


def accept_invitation(membership: Membership, password: str = PASSWORD) -> Membership:
    """What the invited person does with the mailed token (choosing `password` as their own)."""
    return logins.invitation_accept(token=logins.invitation_token(membership), password=password)
