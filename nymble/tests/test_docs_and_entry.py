"""The docs the product serves itself (offline), where `/` and `/api/` point, and the API's routes
answering the same with a trailing slash (§3, issue "a newcomer's first hour")."""
import re

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("page", ["/api/docs/", "/api/redoc/"])
def test_docs_load_everything_from_the_products_own_static_files(page):
    client = Client()
    html = client.get(page).content.decode()
    assert not re.search(r"""(?:src|href)=["']?(?:https?:)?//""", html), "the page loads something from elsewhere"
    assets = re.findall(r"""(?:src|href)=["'](/static/[^"']+)["']""", html)
    assert any(asset.endswith(".js") for asset in assets), html
    for asset in assets:
        assert client.get(asset).status_code == 200, asset


@pytest.mark.parametrize("path", ["/", "/api/"])
def test_the_front_doors_say_where_the_docs_are(path):
    body = Client().get(path).json()
    assert body["Docs"] == "http://testserver/api/docs/"
    assert body["Schema"] == "http://testserver/api/schema/"
    assert body["ReDoc"] == "http://testserver/api/redoc/"
    assert "Authorization: Bearer" in body["Login"]


def test_a_trailing_slash_answers_as_without_it(tenant):
    api = tenant.admin_api
    plain = api.get("/api/customers", {"sortOn": "CustomerNumber"})
    slashed = api.get("/api/customers/", {"sortOn": "CustomerNumber"})
    assert slashed.status_code == plain.status_code == 200
    assert slashed.json() == plain.json()
    assert api.get("/api/customers/CUST-0042/").json() == api.get("/api/customers/CUST-0042").json()
    created = api.post("/api/organizations/{}/pricetiers/".format(tenant.org.id), {"Code": "Gold", "Name": "Gold"},
                       format="json")
    assert created.status_code == 201, created.content
    assert Client().get("/api/customers/").status_code == 401  # still the API's own answer


def test_an_unknown_route_is_a_404_that_points_at_the_docs(tenant):
    for path in ("/api/no-such-thing", "/api/no-such-thing/"):
        response = tenant.admin_api.get(path)
        assert response.status_code == 404 and response["Content-Type"] == "application/problem+json"
        assert "/api/docs/" in response.json()["detail"]
    assert Client().get("/api/docs/").status_code == 200  # a route with its own slash keeps it
