"""The customers admin: scoped to the staff user's organization, writes through the services."""
import pytest

from customers.models import Customer

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/customers/customer/"


def test_changelist_shows_only_the_staff_users_organization(staff_client, tenant, other_tenant):
    page = staff_client.get(CHANGELIST).content.decode()
    assert "Acme Wholesale Ltd." in page and "Zenith Supply" in page
    theirs = Customer.objects.get(organization=other_tenant.org, customer_number="CUST-0042")
    assert f"/admin/customers/customer/{theirs.pk}/change/" not in page
    assert staff_client.get(f"{CHANGELIST}{theirs.pk}/change/").status_code == 302  # "doesn't exist"


def test_sidebar_filters_list_only_own_tiers_and_reps(staff_client, tenant, other_tenant):
    other_tenant.admin_api.post(f"/api/organizations/{other_tenant.org.id}/pricetiers",
                                {"Code": "GlobexOnly", "Name": "x"}, format="json")
    page = staff_client.get(CHANGELIST).content.decode()
    assert "Wholesale" in page and "GlobexOnly" not in page


def test_search_finds_by_contact_email(staff_client, tenant):
    page = staff_client.get(CHANGELIST, {"q": "jane@cust-0099"}).content.decode()
    assert "Zenith Supply" in page and "Acme Wholesale Ltd." not in page


def _change_form_data(customer, **overrides):
    data = {
        "customer_number": customer.customer_number, "company_name": customer.company_name,
        "active": "on" if customer.active else "", "company_email": customer.company_email,
        "company_phone": customer.company_phone, "company_fax": "", "price_tier": customer.price_tier_id,
        "sales_rep": customer.sales_rep_id or "", "terms": customer.terms, "currency_code": customer.currency_code,
        "external_id": customer.external_id or "", "attributes": "{}",
        "addresses-TOTAL_FORMS": "0", "addresses-INITIAL_FORMS": "0",
        "contacts-TOTAL_FORMS": str(customer.contacts.count()), "contacts-INITIAL_FORMS": str(customer.contacts.count()),
    }
    for index, contact in enumerate(customer.contacts.all()):
        data.update({f"contacts-{index}-id": contact.pk, f"contacts-{index}-customer": customer.pk,
                     f"contacts-{index}-contact_type": contact.contact_type,
                     f"contacts-{index}-first_name": contact.first_name, f"contacts-{index}-last_name": contact.last_name,
                     f"contacts-{index}-email": contact.email, f"contacts-{index}-phone": contact.phone})
    data.update(overrides)
    return data


def test_editing_a_customer_with_an_address_inline(staff_client, tenant):
    customer = tenant.customer
    data = _change_form_data(customer, **{
        "company_phone": "+1-555-0999", "addresses-TOTAL_FORMS": "1",
        "addresses-0-address_type": "Shipping", "addresses-0-is_default": "on", "addresses-0-address1": "5 Pier Rd",
        "addresses-0-city": "Chicago",
    })
    response = staff_client.post(f"{CHANGELIST}{customer.pk}/change/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else response
    customer.refresh_from_db()
    assert customer.company_phone == "+1-555-0999"
    assert [a.address1 for a in customer.addresses.all()] == ["5 Pier Rd"]


def test_two_default_addresses_of_one_type_are_a_form_error(staff_client, tenant):
    customer = tenant.customer
    data = _change_form_data(customer, **{
        "addresses-TOTAL_FORMS": "2",
        "addresses-0-address_type": "Shipping", "addresses-0-is_default": "on", "addresses-0-address1": "A",
        "addresses-1-address_type": "Shipping", "addresses-1-is_default": "on", "addresses-1-address1": "B",
    })
    response = staff_client.post(f"{CHANGELIST}{customer.pk}/change/", data)
    assert response.status_code == 200 and b"Only one default Shipping address" in response.content
    assert not customer.addresses.exists()


def test_unknown_attribute_is_a_form_error(staff_client, tenant):
    customer = tenant.customer
    response = staff_client.post(f"{CHANGELIST}{customer.pk}/change/",
                                 _change_form_data(customer, attributes='{"Colour": "red"}'))
    assert response.status_code == 200 and b"No such customer attribute" in response.content
    customer.refresh_from_db()
    assert customer.attributes == {}


def test_clearing_active_on_the_form_revokes_portal_tokens(staff_client, tenant):
    portal = tenant.portal_api
    customer = tenant.customer
    response = staff_client.post(f"{CHANGELIST}{customer.pk}/change/", _change_form_data(customer, active=""))
    assert response.status_code == 302
    assert portal.get("/api/customers/CUST-0042").status_code == 401


def test_deactivate_action_revokes_portal_tokens(staff_client, tenant):
    portal = tenant.portal_api
    response = staff_client.post(CHANGELIST, {"action": "deactivate", "_selected_action": [tenant.customer.pk]})
    assert response.status_code == 302
    tenant.customer.refresh_from_db()
    assert tenant.customer.active is False
    assert portal.get("/api/customers/CUST-0042").status_code == 401


def test_action_on_another_organizations_customer_does_nothing(staff_client, other_tenant):
    theirs = other_tenant.customer
    staff_client.post(CHANGELIST, {"action": "deactivate", "_selected_action": [theirs.pk]})
    theirs.refresh_from_db()
    assert theirs.active is True


def test_adding_a_customer_lands_in_the_staff_users_organization(staff_client, tenant):
    wholesale = tenant.customer.price_tier_id
    data = {"customer_number": "ADM-1", "company_name": "Made in admin", "active": "on", "company_email": "a@b.example",
            "price_tier": wholesale, "terms": "Net30", "currency_code": "USD", "attributes": "{}",
            "addresses-TOTAL_FORMS": "0", "addresses-INITIAL_FORMS": "0",
            "contacts-TOTAL_FORMS": "0", "contacts-INITIAL_FORMS": "0"}
    response = staff_client.post(f"{CHANGELIST}add/", data)
    assert response.status_code == 302, response.content[:2000]
    assert Customer.objects.get(customer_number="ADM-1").organization == tenant.org
    duplicate = staff_client.post(f"{CHANGELIST}add/", data)
    assert duplicate.status_code == 200 and b"A customer with this number exists" in duplicate.content


def test_staff_user_without_an_admin_membership_sees_nothing(client, tenant):
    user = tenant.rep.membership.user
    user.is_staff = True
    user.save()
    client.force_login(user)
    assert client.get(CHANGELIST).status_code == 403
