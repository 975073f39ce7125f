"""Demo data for the embedded default: an organization with an admin, reps, customers, a portal
login, a priced catalog, orders (invoiced and paid last month), a commission plan and a Draft
statement — all made through the services, so the demo obeys the product's rules.

It leaves the seed examples' own numbers free (the rep `REP-007`, the customer `CUST-0042`), so
posting them as docs/walkthrough.md does answers 201; it has what the assisted-order example
needs besides: the `Wholesale` tier, `WDG-100-BLU` priced in it, and the colleague `REP-012`."""
import datetime
from decimal import Decimal

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from commissions.plans.services import plan_create
from commissions.statements.services import previous_month, statement_generate
from orders import services as orders
from orders.catalog.services import product_create
from nymble.tokens import principal_for_membership

from customers.services import customer_create, portal_login_create
from customers.models import Customer
from nymble.models import Organization, PriceTier, User
from nymble.services import organization_create, price_tier_create
from salesreps.services import sales_rep_create

ORG_CODE = "DEMO"
PASSWORD = "demo-pass-123"
ADMIN_EMAIL = "admin@demo.nymble.test"
REP_EMAIL = "dana.okafor@demo.nymble.test"
PORTAL_EMAIL = "lee.wong@northwind.example"


class Command(BaseCommand):
    help = "Creates the demo organization (idempotent) and prints how to log in."

    @transaction.atomic
    def handle(self, *args, **options):
        if not Organization.objects.filter(org_code=ORG_CODE).exists():
            self._seed()
        organization = Organization.objects.get(org_code=ORG_CODE)
        url = settings.PUBLIC_URL  # scripts/demo sets it to the address it serves on
        self.stdout.write(
            "\nDemo organization ready.\n"
            f"  Admin UI:  {url}/admin/   {ADMIN_EMAIL} / {PASSWORD}\n"
            f"  API docs:  {url}/api/docs/\n"
            f"  API login: POST /api/auth/token {{\"Email\": \"{ADMIN_EMAIL}\", \"Password\": \"{PASSWORD}\"}}\n"
            f"  Rep login: {REP_EMAIL} / {PASSWORD}    Portal login: {PORTAL_EMAIL} / {PASSWORD}\n"
            f"  OrgCode {ORG_CODE}, OrganizationId {organization.id}\n"
            f"  Walkthrough of the seed examples: ./scripts/walkthrough {url}   (docs/walkthrough.md)\n"
        )

    def _seed(self):
        organization = organization_create(
            name="Demo Wholesale Co.", org_code=ORG_CODE, admin_email=ADMIN_EMAIL, admin_password=PASSWORD,
            time_zone="America/Chicago",
        )
        User.objects.filter(email=ADMIN_EMAIL).update(is_staff=True)
        tiers = {
            code: price_tier_create(organization=organization, code=code, name=code)
            for code in ("Wholesale", "Retail", "Distributor")
        }
        dana = sales_rep_create(
            organization=organization, rep_number="REP-003", first_name="Dana", last_name="Okafor",
            email=REP_EMAIL, phone_number="+1-555-0177", password=PASSWORD,
        )
        sales_rep_create(
            organization=organization, rep_number="REP-012", first_name="Priya", last_name="Nair",
            email="priya.nair@demo.nymble.test", phone_number="+1-555-0190", password=PASSWORD,
        )
        northwind = customer_create(
            organization=organization, customer_number="CUST-0010", company_name="Northwind Traders",
            company_email="orders@northwind.example", company_phone="+1-555-0110", price_tier=tiers["Wholesale"],
            sales_rep=dana, terms="Net30", external_id="erp_cust_1010",
            addresses=[{"address1": "500 Lake Shore Dr", "city": "Chicago", "state_province": "IL",
                        "zip_postal_code": "60611", "country": "US", "address_type": "Shipping", "is_default": True}],
            contacts=[{"first_name": "Lee", "last_name": "Wong", "email": PORTAL_EMAIL, "phone": "+1-555-0111",
                       "contact_type": "Primary"}],
        )
        portal_login_create(contact=northwind.contacts.get(), password=PASSWORD)
        customer_create(
            organization=organization, customer_number="CUST-0043", company_name="Bolt & Nut Supply",
            company_email="buying@boltnut.example", price_tier=tiers["Distributor"], sales_rep=dana, terms="Net45",
        )
        customer_create(
            organization=organization, customer_number="CUST-0100", company_name="Corner Hardware",
            company_email="owner@corner.example", price_tier=PriceTier.objects.get(organization=organization, code="Retail"),
            terms="COD",
        )
        self._seed_sales(organization, dana)

    def _seed_sales(self, organization, dana):
        catalog = [
            ("WDG-100-BLU", "Widget, blue", "Widgets", [("Wholesale", 1, "18.50"), ("Wholesale", 48, "17.25"),
                                                        ("Retail", 1, "24.99"), ("Distributor", 1, "16.00")]),
            ("WDG-100-RED", "Widget, red", "Widgets", [("Wholesale", 1, "18.50"), ("Retail", 1, "24.99")]),
            ("BLT-M8-100", "Bolts M8, box of 100", "Fasteners", [("Wholesale", 1, "6.40"), ("Retail", 1, "9.90"),
                                                                  ("Distributor", 1, "5.80")]),
            ("GAD-2000", "Gadget 2000", "Gadgets", [("Wholesale", 1, "129.00"), ("Retail", 1, "169.00"),
                                                    ("Distributor", 1, "119.00")]),
        ]
        for sku, name, category, prices in catalog:
            product_create(organization=organization, sku=sku, name=name, category=category, prices=[
                {"price_tier": tier, "at_quantity": at, "price": Decimal(price)} for tier, at, price in prices])
        plan_create(
            organization=organization, sales_rep=dana, name="Standard Wholesale Rate", default_rate=Decimal("0.05"),
            active=True,
            rules=[{"priority": 10, "name": "Widgets", "rate": Decimal("0.08"), "sku_patterns": ["WDG-*"]},
                   {"priority": 20, "name": "Big lines", "rate": Decimal("0.03"), "min_line_amount": Decimal("1000")}],
            overrides=[{"customer_number": "CUST-0043", "default_rate": Decimal("0.06")}],
        )
        admin = principal_for_membership(organization.memberships.get(role="Admin"))
        first, last = previous_month(timezone.localdate(timezone=organization.zone))
        paid_at = datetime.datetime.combine(first + datetime.timedelta(days=9), datetime.time(15), tzinfo=organization.zone)
        for customer_number, items in (("CUST-0010", [("WDG-100-BLU", 48), ("BLT-M8-100", 10)]),
                                       ("CUST-0043", [("GAD-2000", 8)]), ("CUST-0010", [("WDG-100-RED", 12)])):
            order, _ = orders.order_place(
                organization=organization, actor=admin, actor_label=ADMIN_EMAIL,
                customer=Customer.objects.get(organization=organization, customer_number=customer_number),
                items=[{"sku": sku, "quantity": quantity} for sku, quantity in items], channel="Phone",
            )
            invoice = orders.invoice_create(order=order, invoice_date=first + datetime.timedelta(days=2))
            orders.payment_record(invoice=invoice, amount=invoice.total, paid_at=paid_at, reference="DEMO",
                                  actor_label=ADMIN_EMAIL)
        statement_generate(rep=dana, period_start=first, period_end=last, actor="demo seed")
