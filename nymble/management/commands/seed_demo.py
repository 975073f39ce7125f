"""Demo data for the embedded default: one organization with an admin, reps, customers and a portal login."""
from django.core.management.base import BaseCommand
from django.db import transaction

from customers.services import customer_create, portal_login_create
from nymble.models import Organization, PriceTier
from nymble.services import organization_create, price_tier_create
from salesreps.services import sales_rep_create

ORG_CODE = "DEMO"
PASSWORD = "demo-pass-123"
ADMIN_EMAIL = "admin@demo.nymble.test"
REP_EMAIL = "marcus.chen@demo.nymble.test"
PORTAL_EMAIL = "jane.smith@acme.example"


class Command(BaseCommand):
    help = "Creates the demo organization (idempotent) and prints how to log in."

    @transaction.atomic
    def handle(self, *args, **options):
        if not Organization.objects.filter(org_code=ORG_CODE).exists():
            self._seed()
        organization = Organization.objects.get(org_code=ORG_CODE)
        self.stdout.write(
            "\nDemo organization ready.\n"
            f"  Admin UI:  http://127.0.0.1:8000/admin/   {ADMIN_EMAIL} / {PASSWORD}\n"
            f"  API docs:  http://127.0.0.1:8000/api/docs/\n"
            f"  API login: POST /api/auth/token {{\"Email\": \"{ADMIN_EMAIL}\", \"Password\": \"{PASSWORD}\"}}\n"
            f"  Rep login: {REP_EMAIL} / {PASSWORD}    Portal login: {PORTAL_EMAIL} / {PASSWORD}\n"
            f"  OrgCode {ORG_CODE}, OrganizationId {organization.id}\n"
        )

    def _seed(self):
        from nymble.models import User

        organization = organization_create(
            name="Demo Wholesale Co.", org_code=ORG_CODE, admin_email=ADMIN_EMAIL, admin_password=PASSWORD,
            time_zone="America/Chicago",
        )
        User.objects.filter(email=ADMIN_EMAIL).update(is_staff=True)
        tiers = {
            code: price_tier_create(organization=organization, code=code, name=code)
            for code in ("Wholesale", "Retail", "Distributor")
        }
        marcus = sales_rep_create(
            organization=organization, rep_number="REP-007", first_name="Marcus", last_name="Chen",
            email=REP_EMAIL, phone_number="+1-555-0188", password=PASSWORD,
        )
        sales_rep_create(
            organization=organization, rep_number="REP-012", first_name="Priya", last_name="Nair",
            email="priya.nair@demo.nymble.test", phone_number="+1-555-0190", password=PASSWORD,
        )
        acme = customer_create(
            organization=organization, customer_number="CUST-0042", company_name="Acme Wholesale Ltd.",
            company_email="orders@acme.example", company_phone="+1-555-0100", price_tier=tiers["Wholesale"],
            sales_rep=marcus, terms="Net30", external_id="erp_cust_9982",
            addresses=[{"address1": "123 Industrial Ave", "city": "Chicago", "state_province": "IL",
                        "zip_postal_code": "60601", "country": "US", "address_type": "Shipping", "is_default": True}],
            contacts=[{"first_name": "Jane", "last_name": "Smith", "email": PORTAL_EMAIL, "phone": "+1-555-0101",
                       "contact_type": "Primary"}],
        )
        portal_login_create(contact=acme.contacts.get(), password=PASSWORD)
        customer_create(
            organization=organization, customer_number="CUST-0043", company_name="Bolt & Nut Supply",
            company_email="buying@boltnut.example", price_tier=tiers["Distributor"], sales_rep=marcus, terms="Net45",
        )
        customer_create(
            organization=organization, customer_number="CUST-0100", company_name="Corner Hardware",
            company_email="owner@corner.example", price_tier=PriceTier.objects.get(organization=organization, code="Retail"),
            terms="COD",
        )
