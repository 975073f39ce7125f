"""The data of the API benchmark, loaded fast (used by bench/load.py).

One organization (LOAD, USD, UTC) with 5 price tiers; 50 sales reps, the first (R-001,
rep@load.example) with a password; 100,000 customers (each with a default shipping and billing
address and one contact), 2,000 of them assigned to R-001 and the rest spread over the other
49 reps; 10,000 active products, each priced in all 5 tiers (USD, from 1 unit: 50,000 price
rows); a portal login for the contact of one of R-001's customers.

The organization, tiers, reps and the two logins go through the services (organization_create,
price_tier_create, sales_rep_create, portal_login_create); the 100,000 customers, their
300,000 children and the catalog are INSERT … SELECT over generate_series, inside the one
transaction, so every constraint (unique numbers, one default address per type, foreign keys,
price checks) is checked by the database as for any write.
"""
from __future__ import annotations

import time

from scratchdb import database_exists, database_name, recreate_database, scalar, sql  # noqa: F401 (load.py uses them here)

ORG_CODE = "LOAD"
ORG_NAME = "Load Bench Supply Co"
ADMIN_EMAIL = "admin@load.example"
REP_EMAIL = "rep@load.example"
REP_NUMBER = "R-001"
PASSWORD = "load-bench-pass-1"  # the admin's, the rep's and the portal login's
CURRENCY = "USD"
TIERS = ("Wholesale", "Retail", "Distributor", "Gold", "Silver")
TIER_FACTORS = ("1.00", "1.35", "0.90", "0.95", "1.10")
N_REPS = 50
N_CUSTOMERS = 100_000
N_REP_CUSTOMERS = N_CUSTOMERS // N_REPS  # customers g with g % 50 == 0 belong to R-001: 2,000
N_PRODUCTS = 10_000
PORTAL_CUSTOMER = "C-000050"  # one of R-001's (50 % 50 == 0)
PORTAL_EMAIL = "buyer50@c000050.example"

ADJECTIVES = ["Acme", "Blue", "Northern", "Summit", "Pioneer", "Global", "Harbor", "Granite", "Cedar", "Atlas",
              "Evergreen", "Keystone", "Liberty", "Meridian", "Orchid", "Prairie", "Redwood", "Silver", "Union",
              "Zenith"]
NOUNS = ["Supply", "Hardware", "Trading", "Industrial", "Plumbing", "Electric", "Builders", "Outfitters",
         "Distributors", "Tools", "Fasteners", "Mechanical", "Marine", "Farm", "Contractors", "Depot", "Works",
         "Systems", "Partners", "Goods"]
SUFFIXES = ["Inc.", "LLC", "Co.", "Ltd.", "Group"]
CATEGORIES = ["Widgets", "Gadgets", "Bolts", "Nuts", "Pipes", "Valves", "Pumps", "Cables", "Hoses", "Clamps"]
PRODUCT_ADJ = ["Heavy", "Light", "Pro", "Eco", "Mini", "Max", "Steel", "Brass", "Ultra", "Compact"]
SIZES = [10, 25, 50, 100, 250]
CITIES = ["Springfield", "Riverton", "Lakewood", "Fairview", "Georgetown", "Salem", "Madison", "Franklin",
          "Clinton", "Arlington"]
STATES = ["IL", "OR", "CO", "TX", "KY", "MA", "WI", "TN", "IA", "VA"]

LOADED_TABLES = ("nymble_user", "nymble_membership", "nymble_organization", "nymble_pricetier",
                 "salesreps_salesrep", "salesreps_organizationsalesrep", "customers_customer", "customers_address",
                 "customers_contact", "orders_product", "orders_productprice")


def H(expr: str, salt: int) -> str:
    """SQL for a deterministic pseudo-random non-negative integer from an integer expression."""
    return f"(hashint8(({expr})::bigint * 1000003 + {salt})::bigint + 2147483648)"


def pick(values, expr: str, salt: int) -> str:
    array = "ARRAY[" + ", ".join("'" + str(v).replace("'", "''") + "'" for v in values) + "]"
    return f"({array})[1 + mod({H(expr, salt)}, {len(values)})]"


def seeded_counts() -> dict | None:
    """What the database holds of this seed, or None when it is not this seed at all."""
    from customers.models import Contact, Customer
    from nymble.models import Membership, Organization
    from orders.models import Product, ProductPrice
    from salesreps.models import OrganizationSalesRep

    org = Organization.objects.filter(org_code=ORG_CODE).first()
    if org is None:
        return None
    rep = OrganizationSalesRep.objects.filter(organization=org, rep_number=REP_NUMBER).first()
    return {
        "customers": Customer.objects.filter(organization=org).count(),
        "rep_customers": Customer.objects.filter(organization=org, sales_rep=rep).count() if rep else 0,
        "products": Product.objects.filter(organization=org, active=True).count(),
        "prices": ProductPrice.objects.filter(product__organization=org).count(),
        "tiers": org.price_tiers.count(),
        "rep_login": Membership.objects.filter(organization=org, user__email=REP_EMAIL, is_active=True).exists(),
        "portal_login": Contact.objects.filter(customer__organization=org, email=PORTAL_EMAIL)
        .exclude(portal_membership=None).exists(),
    }


EXPECTED = {"customers": N_CUSTOMERS, "rep_customers": N_REP_CUSTOMERS, "products": N_PRODUCTS,
            "prices": N_PRODUCTS * len(TIERS), "tiers": len(TIERS), "rep_login": True, "portal_login": True}


def load() -> dict:
    """Seeds an empty, migrated database; returns {step: seconds}."""
    from django.db import transaction

    from customers.models import Contact
    from customers.services import portal_login_create
    from nymble.services import organization_create, price_tier_create
    from salesreps.services import sales_rep_create

    timings = {}
    t0 = time.perf_counter()
    with transaction.atomic():
        org = organization_create(name=ORG_NAME, org_code=ORG_CODE, admin_email=ADMIN_EMAIL, admin_password=PASSWORD,
                                  time_zone="UTC", currency_code=CURRENCY)
        tiers = [price_tier_create(organization=org, code=code, name=code) for code in TIERS]
        reps = [sales_rep_create(organization=org, rep_number=REP_NUMBER, first_name="Rita", last_name="Load",
                                 email=REP_EMAIL, password=PASSWORD)]
        reps += [sales_rep_create(organization=org, rep_number=f"R-{i:03d}", first_name="Rep", last_name=f"No{i}",
                                  email=f"rep{i}@load.example") for i in range(2, N_REPS + 1)]
        timings["organization, tiers, 50 reps (services)"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        ids = {"org": str(org.pk), "cur": CURRENCY}
        tier_ids = "ARRAY[" + ", ".join(str(t.pk) for t in tiers) + "]::bigint[]"
        rep_ids = "ARRAY[" + ", ".join(f"'{r.pk}'" for r in reps) + "]::uuid[]"
        sql("SET LOCAL work_mem = '256MB'")
        # Customer g belongs to rep (g mod 50): R-001 gets g = 50, 100, …, 100,000 (2,000 customers);
        # tier (g / 7 mod 5); names start with a hashed word so R-001's accounts are spread over the alphabet.
        sql(f"""
            INSERT INTO customers_customer (customer_number, company_name, company_email, company_phone, company_fax,
                active, terms, external_id, currency_code, attributes, created_at, updated_at, organization_id,
                price_tier_id, sales_rep_id)
            SELECT 'C-' || lpad(g::text, 6, '0'),
                   {pick(ADJECTIVES, 'g', 1)} || ' ' || {pick(NOUNS, 'g', 2)} || ' ' || {pick(SUFFIXES, 'g', 3)}
                       || ' #' || g,
                   'ap' || g || '@c' || lpad(g::text, 6, '0') || '.example',
                   '+1-555-' || lpad(mod(g, 10000)::text, 4, '0'), '', true,
                   (ARRAY['Net30', 'Net30', 'Net60', 'COD', 'Prepaid'])[1 + mod(g / 3, 5)], 'ERP-' || g,
                   %(cur)s, '{{}}', now() - mod(g, 1000) * interval '1 hour', now(), %(org)s,
                   ({tier_ids})[1 + mod(g / 7, 5)], ({rep_ids})[1 + mod(g, {N_REPS})]
            FROM generate_series(1, {N_CUSTOMERS}) g""", ids)
        sql("CREATE TEMP TABLE load_customer ON COMMIT DROP AS "
            "SELECT id, substring(customer_number from 3)::int AS g FROM customers_customer "
            "WHERE organization_id = %(org)s", ids)
        timings[f"{N_CUSTOMERS:,} customers"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        sql(f"""
            INSERT INTO customers_address (id, address1, address2, city, state_province, zip_postal_code, country,
                address_type, code, is_default, position, customer_id)
            SELECT gen_random_uuid(), (100 + mod({H('g', 4)}, 9900)) || ' ' || {pick(NOUNS, 'g', 5)} || ' St',
                   CASE WHEN kind = 0 THEN '' ELSE 'Suite ' || (1 + mod(g, 400)) END,
                   {pick(CITIES, 'g', 6)}, {pick(STATES, 'g', 6)}, lpad(mod({H('g', 7)}, 100000)::text, 5, '0'),
                   'US', (ARRAY['Shipping', 'Billing'])[kind + 1], (ARRAY['SHIP', 'BILL'])[kind + 1], true, kind, id
            FROM load_customer CROSS JOIN (VALUES (0), (1)) k(kind)""")
        sql(f"""
            INSERT INTO customers_contact (id, first_name, last_name, email, phone, contact_type, position,
                portal_membership_id, customer_id)
            SELECT gen_random_uuid(), {pick(["Ana", "Ben", "Chen", "Dana", "Eli", "Fay", "Gus", "Hana"], 'g', 8)},
                   {pick(["Smith", "Jones", "Garcia", "Lee", "Brown", "Khan", "Novak", "Rossi"], 'g', 9)},
                   'buyer' || g || '@c' || lpad(g::text, 6, '0') || '.example',
                   '+1-555-' || lpad(mod(g * 7, 10000)::text, 4, '0'), 'Purchasing', 0, NULL, id
            FROM load_customer""")
        timings["200,000 addresses, 100,000 contacts"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        sql(f"""
            CREATE TEMP TABLE load_product ON COMMIT DROP AS
            SELECT p, gen_random_uuid() AS id,
                   'SKU-' || upper(left({pick(CATEGORIES, 'p', 10)}, 3)) || '-' || lpad(p::text, 5, '0') AS sku,
                   {pick(PRODUCT_ADJ, 'p', 11)} || ' ' || {pick(CATEGORIES, 'p', 10)} || ' '
                       || {pick(SIZES, 'p', 12)} || 'mm' AS name,
                   {pick(CATEGORIES, 'p', 10)} AS category,
                   round((50 + mod({H('p', 13)}, 49951)) / 100.0, 2)::numeric(14, 2) AS price
            FROM generate_series(1, {N_PRODUCTS}) p""")
        sql("""
            INSERT INTO orders_product (id, sku, name, description, category, upc, active, minimum_order_quantity,
                quantity_increment, external_id, created_at, updated_at, organization_id)
            SELECT id, sku, name, name || ', sold by the unit. Standard catalog item ' || p || '.', category,
                   lpad((400000000000 + p)::text, 12, '0'), true, 1, 1, 'P-' || p, now(), now(), %(org)s
            FROM load_product""", ids)
        factors = "ARRAY[" + ", ".join(TIER_FACTORS) + "]::numeric[]"
        sql(f"""
            INSERT INTO orders_productprice (currency_code, at_quantity, price, price_tier_id, product_id)
            SELECT %(cur)s, 1, round(price * ({factors})[t], 2), ({tier_ids})[t], id
            FROM load_product CROSS JOIN generate_series(1, {len(TIERS)}) t""", ids)
        timings[f"{N_PRODUCTS:,} products x {len(TIERS)} tier prices"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        contact = Contact.objects.get(customer__organization=org, email=PORTAL_EMAIL)
        portal_login_create(contact=contact, password=PASSWORD)
        timings["portal login (service)"] = time.perf_counter() - t0
        t0 = time.perf_counter()
    timings["commit (deferred foreign-key checks)"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    sql("VACUUM ANALYZE " + ", ".join(LOADED_TABLES))
    timings["VACUUM ANALYZE"] = time.perf_counter() - t0
    return timings


def rep_customer_numbers() -> list[str]:
    return [f"C-{g:06d}" for g in range(N_REPS, N_CUSTOMERS + 1, N_REPS)]


def skus() -> list[str]:
    return [sku for (sku,) in sql("SELECT sku FROM orders_product p JOIN nymble_organization o "
                                  "ON o.id = p.organization_id WHERE o.org_code = %s AND p.active ORDER BY sku",
                                  [ORG_CODE])]
