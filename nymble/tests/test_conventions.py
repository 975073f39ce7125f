"""The wire conventions of §3, shown on the organization-settings endpoints."""
import json
import os
import re
from decimal import Decimal

import pytest
from django.core.management import call_command
from openapi_spec_validator import validate
from rest_framework.test import APIClient

from nymble.api.json import DecimalJSONRenderer
from nymble.models import PriceTier

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"


def tiers_path(tenant):
    return f"/api/organizations/{tenant.org.id}/pricetiers"


def assert_problem(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["status"] == status and body["title"] and body["type"]
    return body


def test_400_names_each_offending_field(tenant):
    body = assert_problem(tenant.admin_api.post(tiers_path(tenant), {"Code": "has space"}, format="json"), 400)
    assert set(body["errors"]) == {"Code", "Name"}


def test_unknown_key_is_400_naming_it_and_changes_nothing(tenant):
    before = PriceTier.objects.count()
    response = tenant.admin_api.post(tiers_path(tenant), {"Code": "Gold", "Name": "Gold", "Colour": "x"}, format="json")
    assert assert_problem(response, 400)["errors"] == {"Colour": ["Unknown field."]}
    assert PriceTier.objects.count() == before


def test_request_keys_match_case_insensitively_and_read_only_keys_are_ignored(tenant):
    response = tenant.admin_api.post(
        tiers_path(tenant), {"code": "Gold", "NAME": "Gold tier", "CreatedAt": "1999-01-01T00:00:00Z"}, format="json"
    )
    assert response.status_code == 201, response.json()
    assert response.json()["Code"] == "Gold" and response.json()["Name"] == "Gold tier"
    assert not response.json()["CreatedAt"].startswith("1999")


def test_same_key_twice_in_different_case_is_400(tenant):
    response = tenant.admin_api.post(tiers_path(tenant), {"code": "A", "Code": "B", "Name": "x"}, format="json")
    assert "Code" in assert_problem(response, 400)["errors"] or "code" in response.json()["errors"]


@pytest.mark.parametrize("raw", ['{"Code": ', "[1, 2]", '"just a string"', '{"Code": NaN, "Name": "x"}'])
def test_malformed_or_non_object_json_is_400(tenant, raw):
    response = tenant.admin_api.post(tiers_path(tenant), raw, content_type="application/json")
    assert_problem(response, 400)


def test_401_without_or_with_a_bad_token(tenant, anon_api):
    assert_problem(anon_api.get(tiers_path(tenant)), 401)
    anon_api.credentials(HTTP_AUTHORIZATION="Bearer not.a.token")
    assert_problem(anon_api.get(tiers_path(tenant)), 401)


def test_404_for_unknown_routes_and_other_organizations(tenant, other_tenant):
    assert_problem(tenant.admin_api.get("/api/no-such-thing"), 404)
    assert_problem(tenant.admin_api.get(tiers_path(other_tenant)), 404)
    assert_problem(tenant.admin_api.get(f"/api/organizations/{other_tenant.org.id}"), 404)
    assert_problem(tenant.admin_api.get("/api/organizations/not-an-id"), 404)


def test_403_for_a_role_that_may_not_act(tenant):
    assert_problem(tenant.rep_api.post(tiers_path(tenant), {"Code": "Gold", "Name": "Gold"}, format="json"), 403)
    assert tenant.rep_api.get(tiers_path(tenant)).status_code == 200


def test_405_for_a_method_the_route_does_not_take(tenant):
    assert_problem(tenant.admin_api.delete(tiers_path(tenant)), 405)


def test_409_names_the_duplicate_field(tenant):
    body = assert_problem(tenant.admin_api.post(tiers_path(tenant), {"Code": "Wholesale", "Name": "x"}, format="json"), 409)
    assert "Code" in body["errors"]


def test_list_envelope_and_page_size_cap(tenant):
    for n in range(30):
        PriceTier.objects.create(organization=tenant.org, code=f"T{n:02d}", name=f"Tier {n}")
    body = tenant.admin_api.get(tiers_path(tenant), {"PageSize": 10, "PageNumber": 2}).json()
    assert set(body) == {"Data", "TotalRecords", "CurrentPage", "PageSize", "TotalPages"}
    assert (body["TotalRecords"], body["CurrentPage"], body["PageSize"], body["TotalPages"]) == (32, 2, 10, 4)
    assert len(body["Data"]) == 10
    assert tenant.admin_api.get(tiers_path(tenant)).json()["PageSize"] == 25
    assert len(tenant.admin_api.get(tiers_path(tenant), {"pagesize": 200}).json()["Data"]) == 32
    assert "PageSize" in assert_problem(tenant.admin_api.get(tiers_path(tenant), {"PageSize": 201}), 400)["errors"]
    assert_problem(tenant.admin_api.get(tiers_path(tenant), {"PageNumber": 0}), 400)
    assert_problem(tenant.admin_api.get(tiers_path(tenant), {"PageSize": "ten"}), 400)
    beyond = tenant.admin_api.get(tiers_path(tenant), {"PageNumber": 99}).json()
    assert beyond["Data"] == [] and beyond["TotalRecords"] == 32


def test_sorting(tenant):
    codes = [t["Code"] for t in tenant.admin_api.get(tiers_path(tenant), {"sortOn": "Code", "sortDirection": "desc"}).json()["Data"]]
    assert codes == ["Wholesale", "Retail"]
    assert "sortOn" in assert_problem(tenant.admin_api.get(tiers_path(tenant), {"sortOn": "Bogus"}), 400)["errors"]
    assert_problem(tenant.admin_api.get(tiers_path(tenant), {"sortDirection": "sideways"}), 400)


def test_money_is_written_as_an_exact_json_number():
    rendered = DecimalJSONRenderer().render({"Price": Decimal("18.50"), "Rate": Decimal("0.0500")})
    assert rendered == b'{"Price":18.50,"Rate":0.0500}'


def test_customer_attribute_definitions(tenant, other_tenant):
    path = f"/api/organizations/{tenant.org.id}/customerattributes"
    created = tenant.admin_api.post(path, {"Key": "Region", "Type": "string", "Required": True}, format="json")
    assert created.status_code == 201 and created.json()["Required"] is True
    assert_problem(tenant.admin_api.post(path, {"Key": "Region", "Type": "string"}, format="json"), 409)
    assert "Type" in assert_problem(tenant.admin_api.post(path, {"Key": "X", "Type": "colour"}, format="json"), 400)["errors"]
    assert [a["Key"] for a in tenant.rep_api.get(path).json()["Data"]] == ["Region"]
    assert other_tenant.admin_api.get(f"/api/organizations/{other_tenant.org.id}/customerattributes").json()["Data"] == []


def test_schema_generates_without_warnings(db):
    """Every endpoint's request and response is described (drf-spectacular fails on any guess)."""
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", os.devnull)


def test_schema_is_valid_openapi_3(db):
    response = APIClient().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    schema = response.json()
    validate(schema)
    assert schema["openapi"].startswith("3.")
    assert "/api/auth/token" in schema["paths"]
    assert APIClient().get("/api/docs/").status_code == 200


# --- found by the schema fuzzer (fuzz/) ------------------------------------------------------


def api_schema() -> dict:
    return APIClient().get("/api/schema/", {"format": "json"}).json()


def operations(schema):
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            yield path, method, operation


def test_every_operation_documents_its_errors_as_problem_documents(db):
    """Undocumented 400/401/403/404/409/415 answers: the schema now names them, each a problem document."""
    schema = api_schema()
    assert set(schema["components"]["schemas"]["Problem"]["required"]) == {"type", "title", "status"}
    for path, method, operation in operations(schema):
        responses = operation["responses"]
        expected = {"401"} | ({"403", "404"} if operation.get("security") else set())
        assert expected <= set(responses), (method, path)
        for status, response in responses.items():
            if int(status) >= 400:
                assert response["content"] == {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    assert "429" in schema["paths"]["/api/auth/login"]["post"]["responses"]
    assert {"409", "415"} <= set(schema["paths"]["/api/customers"]["post"]["responses"])


def test_an_empty_query_parameter_is_one_not_sent(tenant):
    """`?salesRepId=` or `?status=` answered 200 where the schema promised a uuid or an enum value."""
    for path, method, operation in operations(api_schema()):
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "query" and not parameter.get("required"):
                assert parameter["allowEmptyValue"] is True, (method, path, parameter["name"])
    empty = tenant.admin_api.get(tiers_path(tenant), {"sortOn": "", "sortDirection": "", "PageSize": ""})
    assert empty.status_code == 200 and empty.json()["PageSize"] == 25
    assert empty.json() == tenant.admin_api.get(tiers_path(tenant)).json()


def test_options_answers_without_looking_an_object_up(tenant):
    """OPTIONS /api/customers was a 500: DRF looked up an object to describe the upsert's PUT."""
    for path in ("/api/customers", "/api/products", "/api/customers/CUST-0042", tiers_path(tenant)):
        response = tenant.admin_api.options(path)
        assert response.status_code == 200, (path, response.content)
        assert "actions" not in response.json()
    assert "PUT" in tenant.admin_api.options("/api/customers")["Allow"]


@pytest.mark.parametrize("body, field", [
    ({"Code": 42, "Name": "Gold"}, "Code"),  # was stored as "42"
    ({"Code": "Gold", "Name": 4.5}, "Name"),
])
def test_a_number_for_a_string_is_400_and_changes_nothing(tenant, body, field):
    before = PriceTier.objects.count()
    assert field in assert_problem(tenant.admin_api.post(tiers_path(tenant), body, format="json"), 400)["errors"]
    assert PriceTier.objects.count() == before


@pytest.mark.parametrize("required", [0, 1, "true", "yes"])
def test_anything_but_true_or_false_for_a_boolean_is_400(tenant, required):
    """`"Required": 0` was taken as false."""
    path = f"/api/organizations/{tenant.org.id}/customerattributes"
    body = {"Key": "Region", "Type": "string", "Required": required}
    assert "Required" in assert_problem(tenant.admin_api.post(path, body, format="json"), 400)["errors"]
    assert tenant.admin_api.get(path).json()["Data"] == []


@pytest.mark.parametrize("code", ["Gold\u000b", " Gold", "Gold\n"])
def test_a_field_with_a_pattern_is_not_trimmed_into_matching_it(tenant, code):
    """`"Gold\\u000b"` was trimmed to "Gold" and accepted, though the pattern refuses whitespace."""
    response = tenant.admin_api.post(tiers_path(tenant), {"Code": code, "Name": "Gold"}, format="json")
    assert "Code" in assert_problem(response, 400)["errors"]
    assert not PriceTier.objects.filter(code="Gold").exists()


def test_a_page_far_past_the_last_is_empty_not_an_error(tenant):
    """`PageNumber=2368772411933497069` made an OFFSET the database refused (a 409 on SQLite)."""
    body = tenant.admin_api.get(tiers_path(tenant), {"PageNumber": 2368772411933497069, "PageSize": 42}).json()
    assert body["Data"] == [] and body["TotalRecords"] == 2 and body["CurrentPage"] == 2368772411933497069


@pytest.mark.parametrize("path, status, field", [
    ("/api/customers?search=a%00b", 400, "search"),
    ("/api/orders?customerNumber=%00", 400, "customerNumber"),
    ("/api/products?customerNumber=CUST%00", 400, "customerNumber"),
    ("/api/customers/CUST%00", 404, None),
    ("/api/products/WDG%00", 404, None),
])
def test_a_nul_character_in_the_path_or_query_is_refused_before_the_database(tenant, path, status, field):
    """A NUL reached PostgreSQL as a DataError: `?search=a%00b` was a 500 there."""
    body = assert_problem(tenant.admin_api.get(path), status)
    if field:
        assert field in body["errors"]


def test_a_plan_day_given_as_a_moment_before_year_one_locally_is_400(tenant):
    """`EffectiveStartDate: "0001-01-01T00:00:00Z"` is a day of year 0 in America/Chicago: it was a 500."""
    body = {"SalesRepId": str(tenant.rep.sales_rep_id), "Name": "P", "DefaultRate": 0.05,
            "EffectiveStartDate": "0001-01-01T00:00:00Z"}
    response = tenant.admin_api.post("/api/commissions/plans", body, format="json")
    assert "EffectiveStartDate" in assert_problem(response, 400)["errors"]


def test_the_output_short_cut_writes_what_drf_would_write(db):
    """ApiSerializer writes a plain str/bool/int attribute as it is; anything else (an int behind a
    CharField, a bool behind an IntegerField, a method, a missing attribute) goes DRF's way."""
    from rest_framework import serializers

    from nymble.api.serializers import ApiSerializer

    class Probe(ApiSerializer):
        Code = serializers.CharField(source="code")
        IdAsText = serializers.CharField(source="pk")
        Flag = serializers.BooleanField(source="flag")
        FlagAsNumber = serializers.IntegerField(source="flag")
        Label = serializers.CharField(source="__str__")
        Missing = serializers.CharField(source="nothing_here", required=False)
        Blank = serializers.CharField(source="name", allow_null=True)

    tier = PriceTier(pk=7, code="Gold", name=None)
    tier.flag = True
    expected = {"Code": "Gold", "IdAsText": "7", "Flag": True, "FlagAsNumber": 1, "Label": str(tier), "Blank": None}
    assert Probe(tier).data == expected
    assert serializers.Serializer.to_representation(Probe(tier), tier) == expected


def test_nested_lists_read_prefetched_lists_objects_and_plain_dicts(tenant):
    """A nested list reads what `prefetched()` left on the object, else the related manager, and
    a validated dict (a serializer's `.data` before saving) takes DRF's own path."""
    from customers.models import Customer
    from customers.serializers import CUSTOMER_LIST_PREFETCH, CustomerSerializer

    tenant.customer.addresses.create(city="Dallas", address_type="Billing", position=0)
    plain = CustomerSerializer(tenant.customer).data
    prefetched = CustomerSerializer(Customer.objects.prefetch_related(*CUSTOMER_LIST_PREFETCH).get(pk=tenant.customer.pk)).data
    assert plain == prefetched and plain["Contacts"] and plain["Addresses"]
    given = CustomerSerializer(data={"CustomerNumber": "N-1", "CompanyName": "N", "CompanyEmail": "n@n.example",
                                     "Pricing": "Wholesale", "Addresses": [{"City": "Austin"}]},
                               context={"organization_id": tenant.org.id})
    assert given.is_valid(), given.errors
    assert given.data["Addresses"][0]["City"] == "Austin"


# --- the schema tells the truth (§3) --------------------------------------------------------
# Generic where they can be, so they hold for every endpoint added later.


def properties_of(schema, component: str) -> dict:
    return schema["components"]["schemas"][component]["properties"]


def ref_name(prop: dict) -> str:
    """The component a property points at, directly or through drf-spectacular's `allOf` wrapper."""
    ref = prop.get("$ref") or prop["allOf"][0]["$ref"]
    return ref.rsplit("/", 1)[1]


def test_every_operation_is_summarized_in_its_own_words(db):
    """Most operations had no summary, and every orders, invoices and plans operation had its view's
    docstring ("the customer must be visible", "commissions do not exist for portal users")."""
    summaries, descriptions = {}, {}
    for path, method, operation in operations(api_schema()):
        assert operation.get("summary"), (method, path)
        assert summaries.setdefault(operation["summary"], (method, path)) == (method, path), operation["summary"]
        if operation.get("description"):
            description = operation["description"]
            assert descriptions.setdefault(description, (method, path)) == (method, path), description


def _base(component: str) -> str:
    return component.removeprefix("Patched").removesuffix("Request")


def test_components_describe_themselves(db):
    """`MarkPaidRequest` was "the body of approve and void" and `Statement` "a statement without its
    entries" (docstrings inherited): a description is shared only by one serializer's request,
    response and PATCH forms."""
    owners: dict[str, set] = {}
    for name, component in api_schema()["components"]["schemas"].items():
        if component.get("description"):
            owners.setdefault(component["description"], set()).add(_base(name))
    assert {text: names for text, names in owners.items() if len(names) > 1} == {}


def _words(name: str) -> list[str]:
    return re.findall(r"[A-Z][a-z0-9]*", name)


def test_component_names_are_not_doubled_nor_bare(db):
    """`TokenRequestRequest`, `OrderStatusStatusEnum` and a bare `TypeEnum` came out of the generator."""
    for name in api_schema()["components"]["schemas"]:
        words = _words(name)
        assert not any(a == b for a, b in zip(words, words[1:])), name
        assert name not in ("TypeEnum", "StatusEnum", "RolesEnum"), name


@pytest.mark.parametrize("component, field, enum, choices", [
    ("Order", "Status", "OrderStatusEnum", "orders.models.OrderStatus"),
    ("Order", "Channel", "ChannelEnum", "orders.models.Channel"),
    ("Order", "OrderType", "OrderTypeEnum", "orders.models.OrderType"),
    ("PatchedOrderStatusRequest", "Status", "OrderStatusEnum", "orders.models.OrderStatus"),
    ("Invoice", "Status", "InvoiceStatusEnum", "orders.models.InvoiceStatus"),
    ("PlacedBy", "Role", "RoleEnum", "nymble.models.Role"),
    ("InvitationAccepted", "Role", "RoleEnum", "nymble.models.Role"),
    ("StatementEvent", "Type", "StatementEventTypeEnum", "commissions.models.EventType"),
    ("StatementHeader", "Status", "StatementStatusEnum", "commissions.models.StatementStatus"),
    ("Statement", "Status", "StatementStatusEnum", "commissions.models.StatementStatus"),
    ("Dispute", "Status", "DisputeStatusEnum", "commissions.models.DisputeStatus"),
    ("AttributeDefinition", "Type", "AttributeTypeEnum", "nymble.models.AttributeType"),
    ("CommissionPlan", "CommissionBasis", "CommissionBasisEnum", "commissions.models.CommissionBasis"),
    ("CommissionPlan", "AcceleratorMethod", "AcceleratorMethodEnum", "commissions.models.AcceleratorMethod"),
])
def test_closed_sets_are_named_enums(db, component, field, enum, choices):
    """`Order.Status` and `StatementEvent.Type` were plain strings."""
    from django.utils.module_loading import import_string

    schema = api_schema()
    assert ref_name(properties_of(schema, component)[field]) == enum
    assert schema["components"]["schemas"][enum]["enum"] == list(import_string(choices).values)


def test_token_type_is_the_one_value_it_can_be(db):
    assert api_schema()["components"]["schemas"]["TokenTypeEnum"]["enum"] == ["Bearer"]


def test_an_orders_customer_is_typed_and_takes_the_seeds_company_fields(tenant, catalog):
    """`ShippingAddress`/`BillingAddress` were untyped objects (a generated client got empty classes), and
    the seed's `CompanyName`/`CompanyEmail` on an order's `Customer` were not declared for input."""
    schema = api_schema()
    customer = properties_of(schema, "OrderCustomer")
    for field in ("ShippingAddress", "BillingAddress"):
        address = properties_of(schema, ref_name(customer[field]))
        assert set(address) == {"Address1", "Address2", "City", "StateProvince", "ZipPostalCode", "Country", "Code"}
        assert customer[field]["nullable"] is True
    assert {"CustomerNumber", "CompanyName", "CompanyEmail"} <= set(properties_of(schema, "OrderCustomerRequest"))

    tenant.customer.addresses.create(address1="1 Dock Rd", city="Chicago", address_type="Shipping", is_default=True,
                                     position=0)
    body = {"Customer": {"CustomerNumber": "CUST-0042", "CompanyName": "Not the stored name",
                         "CompanyEmail": "someone@else.example"},
            "Items": [{"Sku": "WDG-100-BLU", "Quantity": 1}], "Terms": "Net30"}
    order = tenant.admin_api.post("/api/orders", body, format="json")
    assert order.status_code == 201, order.content
    assert order.json()["Customer"]["CompanyName"] == "Acme Wholesale Ltd."  # accepted, and ignored
    assert order.json()["Customer"]["ShippingAddress"]["Address1"] == "1 Dock Rd"
    assert order.json()["Customer"]["BillingAddress"] is None


def test_no_operation_names_a_parameter_twice(db):
    """`/api/customers/{customerNumber}/orders|invoices` declared a `customerNumber` query parameter beside
    the path one: clients renamed them, and got empty lists when they differed."""
    for path, method, operation in operations(api_schema()):
        names = [p["name"].replace("_", "").lower() for p in operation.get("parameters", [])]
        assert len(names) == len(set(names)), (method, path, names)
        placeholders = re.findall(r"\{(\w+)\}", path)
        assert all("_" not in name for name in placeholders), path  # as §4 writes them: {customerNumber}


def test_a_customers_orders_ignore_a_stray_customer_number(tenant, catalog):
    order = tenant.admin_api.post("/api/orders", {"Customer": {"CustomerNumber": "CUST-0042"}, "Terms": "Net30",
                                                  "Items": [{"Sku": "WDG-100-BLU", "Quantity": 1}]}, format="json")
    assert order.status_code == 201, order.content
    for route in ("orders", "invoices"):
        listed = tenant.admin_api.get(f"/api/customers/CUST-0042/{route}", {"customerNumber": "CUST-0099"})
        assert listed.status_code == 200
    assert [o["OrderId"] for o in tenant.admin_api.get("/api/customers/CUST-0042/orders",
                                                       {"customerNumber": "CUST-0099"}).json()["Data"]] == [
        order.json()["OrderId"]]


def _number_properties(node, where=""):
    if isinstance(node, dict):
        if node.get("type") == "number":
            yield where, node
        for key, value in node.items():
            yield from _number_properties(value, f"{where}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _number_properties(value, f"{where}[{index}]")


def test_every_decimal_states_its_places_and_bounds(db):
    """Decimal places and money bounds were not stated."""
    found = list(_number_properties(api_schema()["components"]["schemas"]))
    assert found
    for where, prop in found:
        assert re.search(r"Up to \d+ decimal places?\.", prop.get("description", "")), where
        assert "maximum" in prop and "minimum" in prop, where


def test_a_payment_amount_is_above_zero_in_the_schema_as_in_the_api(tenant, catalog):
    """`PaymentRequest.Amount` allowed −1e10 though only > 0 is accepted."""
    amount = properties_of(api_schema(), "PaymentRequest")["Amount"]
    assert amount["minimum"] > 0 and not amount.get("exclusiveMinimum")
    order = tenant.admin_api.post("/api/orders", {"Customer": {"CustomerNumber": "CUST-0042"}, "Terms": "Net30",
                                                  "Items": [{"Sku": "WDG-100-BLU", "Quantity": 1}]}, format="json")
    invoice = tenant.admin_api.post(f"/api/orders/{order.json()['OrderId']}/invoice").json()
    for amount_sent in (0, -1, "0.001"):
        response = tenant.admin_api.post(f"/api/invoices/{invoice['InvoiceId']}/payments", {"Amount": amount_sent},
                                         format="json")
        assert "Amount" in assert_problem(response, 400)["errors"], amount_sent


def test_calendar_dates_that_take_date_times_say_so(db):
    """`EffectiveStartDate` was `date` only though date-times are accepted (§3)."""
    schema = api_schema()
    for component in ("CommissionPlanRequest", "CustomerOverrideRequest"):
        for field in ("EffectiveStartDate", "EffectiveEndDate"):
            formats = {choice["format"] for choice in properties_of(schema, component)[field]["anyOf"]}
            assert formats == {"date", "date-time"}, (component, field)
    assert properties_of(schema, "CommissionPlan")["EffectiveStartDate"]["format"] == "date"  # answered as a day


def test_only_gets_are_paginated_lists(db):
    """`POST /api/commissions/statements/mark-paid` promised a page (and took list filters) but answers a
    plain list."""
    schema = api_schema()
    for path, method, operation in operations(schema):
        if method == "get":
            continue
        assert not {"PageNumber", "PageSize", "sortOn"} & {p["name"] for p in operation.get("parameters", [])}, path
        for response in operation["responses"].values():
            for content in response.get("content", {}).values():
                assert "Paginated" not in content["schema"].get("$ref", ""), (method, path)
    bulk = schema["paths"]["/api/commissions/statements/mark-paid"]["post"]["responses"]["200"]
    assert bulk["content"]["application/json"]["schema"]["type"] == "array"


def test_every_component_is_one_something_refers_to(db):
    """`PlacedByRequest` and other request forms of read-only objects were written though nothing sends
    them (a generated client got classes for them)."""
    schema = api_schema()
    text = json.dumps(schema["paths"]) + json.dumps(schema["components"])
    for name in schema["components"]["schemas"]:
        assert f'"#/components/schemas/{name}"' in text, name
