"""Hostile sizes and encodings (§10): a body over 5 MB is a 413, JSON nested deeper than 100 levels
a 400, a lone surrogate a 400 naming the field; each refused before it reaches a view's rules, and
none of them a 500."""
import io
import json

import pytest
from django.conf import settings

from customers.models import Address, Customer
from nymble.api.json import MAX_DEPTH, DecimalJSONParser, PayloadTooLarge
from nymble.models import CustomerAttributeDefinition, PriceTier

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"
LIMIT = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
DEPTH_DETAIL = f"JSON nested deeper than {MAX_DEPTH} levels is not accepted."


def assert_problem(response, status) -> dict:
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"] == PROBLEM
    body = json.loads(response.content.decode("utf-8"))  # the answer itself is valid UTF-8
    assert body["status"] == status and body["title"] and body["type"] == "about:blank"
    return body


def tiers_path(tenant) -> str:
    return f"/api/organizations/{tenant.org.id}/pricetiers"


def post_raw(api, path, text: str, **extra):
    """The body as given: `json.dumps` writes a lone surrogate as its \\uD800 escape, as a client would."""
    return api.post(path, text.encode("utf-8"), content_type="application/json", **extra)


def customer_body(**fields) -> dict:
    return {"CustomerNumber": "CUST-0100", "CompanyName": "Hostile Ltd.", "CompanyEmail": "h@hostile.example",
            "Pricing": "Wholesale", **fields}


def stored_rows() -> tuple:
    """What a refused request must leave as it was."""
    return (sorted(Customer.objects.values_list("customer_number", "company_name", "attributes")),
            Address.objects.count(), sorted(PriceTier.objects.values_list("code", "name")))


def nested(levels: int) -> list:
    """Arrays `levels` deep: nested(1) is [], nested(2) is [[]]."""
    value = []
    for _ in range(levels - 1):
        value = [value]
    return value


# ---------------------------------------------------------------- bodies over 5 MB


def test_a_body_over_5_mb_is_413_and_creates_nothing(tenant):
    """The body that was accepted: 7 MB, 90,000 addresses in one customer."""
    address = {"Address1": "123 Industrial Ave", "City": "Chicago", "Country": "US", "AddressType": "Shipping"}
    text = json.dumps(customer_body(Addresses=[address] * 90_000))
    assert len(text) > LIMIT
    before = stored_rows()
    body = assert_problem(post_raw(tenant.admin_api, "/api/customers", text), 413)
    assert body["detail"] == f"The request body is larger than {LIMIT} bytes."
    assert stored_rows() == before


@pytest.mark.parametrize("caller", ["admin_api", "anon"])
def test_an_announced_length_over_the_limit_is_refused_before_anything_reads_the_body(tenant, anon_api, caller):
    """The Content-Length decides: the body (here far shorter) is not read, not even to authenticate."""
    api = anon_api if caller == "anon" else getattr(tenant, caller)
    before = stored_rows()
    response = api.post(tiers_path(tenant), b'{"Code": "Gold", "Name": "Gold"}', content_type="application/json",
                        CONTENT_LENGTH=str(LIMIT + 1))
    assert assert_problem(response, 413)["detail"] == f"The request body is larger than {LIMIT} bytes."
    assert stored_rows() == before


def test_a_body_of_exactly_5_mb_is_read(tenant):
    text = '{"Code": "Gold", "Name": "Gold"}'
    response = post_raw(tenant.admin_api, tiers_path(tenant), text + " " * (LIMIT - len(text)))
    assert response.status_code == 201, response.content[:500]
    assert PriceTier.objects.filter(organization=tenant.org, code="Gold").exists()


def test_outside_the_api_an_oversized_body_is_a_plain_413(staff_client):
    response = staff_client.post("/admin/customers/customer/add/", {"customer_number": "CUST-0100"},
                                 CONTENT_LENGTH=str(LIMIT + 1))
    assert response.status_code == 413
    assert response["Content-Type"].startswith("text/plain")
    assert not Customer.objects.filter(customer_number="CUST-0100").exists()


@pytest.mark.parametrize("length", ["abc", "-1", "1e3", "+12", "12 34", "0x20", "١٢"])
def test_a_malformed_content_length_is_400(tenant, anon_api, length):
    before = stored_rows()
    for api in (tenant.admin_api, anon_api):
        response = api.post(tiers_path(tenant), b'{"Code": "Gold", "Name": "Gold"}', content_type="application/json",
                            CONTENT_LENGTH=length)
        assert assert_problem(response, 400)["detail"] == "Content-Length is not a number of bytes."
    assert stored_rows() == before


def test_outside_the_api_a_malformed_content_length_is_a_plain_400_not_a_500(staff_client):
    response = staff_client.post("/admin/customers/customer/add/", {"customer_number": "CUST-0100"},
                                 CONTENT_LENGTH="abc")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")
    assert not Customer.objects.filter(customer_number="CUST-0100").exists()


def test_the_parser_reads_no_more_than_the_limit_whatever_the_stream():
    """Where no Content-Length bounds the stream, the parser stops at limit + 1 bytes."""

    class Endless:
        read_so_far = 0

        def read(self, size=-1):
            assert size != -1, "read without a bound"
            self.read_so_far += size
            return b" " * size

    stream = Endless()
    with pytest.raises(PayloadTooLarge) as refused:
        DecimalJSONParser().parse(stream)
    assert refused.value.status_code == 413
    assert stream.read_so_far == LIMIT + 1
    assert DecimalJSONParser().parse(io.BytesIO(b"{}" + b" " * (LIMIT - 2))) == {}


# ---------------------------------------------------------------- nesting


def test_json_nested_100_levels_passes_the_parser_and_101_is_400(tenant):
    before = stored_rows()
    # 100 levels: the body's object and 99 arrays. It reaches the serializer, which refuses the key.
    passes = post_raw(tenant.admin_api, tiers_path(tenant), json.dumps({"Code": "Gold", "Name": "Gold",
                                                                        "Deep": nested(99)}))
    assert assert_problem(passes, 400)["errors"] == {"Deep": ["Unknown field."]}
    refused = post_raw(tenant.admin_api, tiers_path(tenant), json.dumps({"Code": "Gold", "Name": "Gold",
                                                                         "Deep": nested(100)}))
    body = assert_problem(refused, 400)
    assert body["detail"] == DEPTH_DETAIL and "errors" not in body
    assert stored_rows() == before


@pytest.mark.parametrize("levels", [150, 1_000, 100_000])
def test_deep_json_is_400_not_500_for_logins_and_for_authenticated_writes(tenant, anon_api, levels):
    """The login endpoints parse the bodies of callers who have not authenticated yet."""
    before = stored_rows()
    deep = "[" * levels + "]" * levels
    assert assert_problem(post_raw(anon_api, "/api/auth/token", deep), 400)["detail"] == DEPTH_DETAIL
    in_a_key = '{"Email": "a@b.example", "Password": ' + deep + "}"
    assert assert_problem(post_raw(anon_api, "/api/auth/token", in_a_key), 400)["detail"] == DEPTH_DETAIL
    objects = '{"a": ' * levels + "1" + "}" * levels
    assert assert_problem(post_raw(tenant.admin_api, "/api/customers", objects), 400)["detail"] == DEPTH_DETAIL
    patch = tenant.admin_api.patch("/api/customers/CUST-0042", ('{"CustomerAttributes": ' + deep + "}").encode(),
                                   content_type="application/json")
    assert assert_problem(patch, 400)["detail"] == DEPTH_DETAIL
    assert stored_rows() == before


def test_brackets_inside_strings_are_no_nesting(tenant):
    response = post_raw(tenant.admin_api, tiers_path(tenant), json.dumps({"Code": "Gold", "Name": "[{" * 100}))
    assert response.status_code == 201, response.content[:500]


# ---------------------------------------------------------------- lone surrogates


@pytest.fixture
def colour(tenant):
    CustomerAttributeDefinition.objects.create(organization=tenant.org, key="Colour", type="string")


@pytest.mark.parametrize("body, field, message", [
    (customer_body(CustomerAttributes={"Colour": "r\ud800ed"}), "CustomerAttributes.Colour",
     "Not valid Unicode: a lone surrogate (U+D800)."),
    (customer_body(Addresses=[{"City": "Chicago"}, {"City": "Chi\udfffcago"}]), "Addresses[1].City",
     "Not valid Unicode: a lone surrogate (U+DFFF)."),
    (customer_body(Contacts=[{"FirstName": "Jane", "LastName": "\udc00"}]), "Contacts[0].LastName",
     "Not valid Unicode: a lone surrogate (U+DC00)."),
    (customer_body(**{"Company\ud800Fax": "x"}), "Company\\ud800Fax",
     "Not valid Unicode: the key holds a lone surrogate (U+D800)."),
    (customer_body(Addresses=[{"Ci\udbfftY": "Chicago"}]), "Addresses[0].Ci\\udbfftY",
     "Not valid Unicode: the key holds a lone surrogate (U+DBFF)."),
    (customer_body(CompanyName="\ude00\ud83d"), "CompanyName",  # a pair the wrong way round is two lone ones
     "Not valid Unicode: a lone surrogate (U+DE00)."),
])
def test_a_lone_surrogate_is_400_naming_the_field(tenant, colour, body, field, message):
    before = stored_rows()
    for method in ("post", "put"):
        response = getattr(tenant.admin_api, method)("/api/customers", json.dumps(body).encode(),
                                                     content_type="application/json")
        assert assert_problem(response, 400)["errors"] == {field: [message]}
    assert stored_rows() == before


def test_a_lone_surrogate_is_400_in_a_patch_and_before_authentication(tenant, anon_api, colour):
    before = stored_rows()
    patch = tenant.portal_api.patch("/api/customers/CUST-0042",
                                    json.dumps({"CustomerAttributes": {"Colour": "\ud800"}}).encode(),
                                    content_type="application/json")
    assert assert_problem(patch, 400)["errors"] == {
        "CustomerAttributes.Colour": ["Not valid Unicode: a lone surrogate (U+D800)."]}
    login = post_raw(anon_api, "/api/auth/token", json.dumps({"Email": "a@b.example", "Pass\udc00word": "x"}))
    assert assert_problem(login, 400)["errors"] == {
        "Pass\\udc00word": ["Not valid Unicode: the key holds a lone surrogate (U+DC00)."]}
    assert stored_rows() == before


def test_a_lone_surrogate_at_the_top_is_the_detail(tenant):
    body = assert_problem(post_raw(tenant.admin_api, tiers_path(tenant), '"\\ud800"'), 400)
    assert body["detail"] == "Not valid Unicode: a lone surrogate (U+D800)."


def test_a_valid_surrogate_pair_is_a_character_like_any_other(tenant):
    response = post_raw(tenant.admin_api, "/api/customers", json.dumps(customer_body(CompanyName="Smile \U0001F600")))
    assert response.status_code == 201, response.content[:500]
    assert Customer.objects.get(customer_number="CUST-0100").company_name == "Smile \U0001F600"


def test_an_escaped_backslash_before_u_d800_is_no_surrogate(tenant):
    response = post_raw(tenant.admin_api, tiers_path(tenant), json.dumps({"Code": "Gold", "Name": "\\ud800"}))
    assert response.status_code == 201, response.content[:500]
    assert PriceTier.objects.get(organization=tenant.org, code="Gold").name == "\\ud800"


@pytest.mark.parametrize("charset", ["hex", "base64", "rot13"])
def test_a_charset_that_is_no_text_encoding_is_400(tenant, charset):
    before = stored_rows()
    response = tenant.admin_api.post(tiers_path(tenant), b'{"Code": "Gold", "Name": "Gold"}',
                                     content_type=f"application/json; charset={charset}")
    assert assert_problem(response, 400)["detail"].startswith("Malformed JSON")
    assert stored_rows() == before


def test_a_charset_that_decodes_to_a_lone_surrogate_is_400(tenant):
    before = stored_rows()
    response = tenant.admin_api.post(tiers_path(tenant), b'{"Code": "Gold", "Name": "\\ud800"}',
                                     content_type="application/json; charset=unicode_escape")
    assert assert_problem(response, 400)["errors"] == {"Name": ["Not valid Unicode: a lone surrogate (U+D800)."]}
    assert stored_rows() == before
