"""The demo (`./scripts/demo`, `manage.py seed_demo`) and the walkthrough of the seed examples
against it (`./scripts/walkthrough`, docs/walkthrough.md)."""
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from commissions.models import CommissionStatement
from customers.models import Customer
from orders.models import Invoice, Order, ProductPrice
from salesreps.models import OrganizationSalesRep

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_demo_seed_builds_a_working_organization_once(capsys, client, settings):
    settings.PUBLIC_URL = "http://127.0.0.1:8123"
    call_command("seed_demo")
    call_command("seed_demo")  # idempotent: prints the logins again, creates nothing
    out = capsys.readouterr().out
    assert "admin@demo.nymble.test / demo-pass-123" in out
    assert "http://127.0.0.1:8123/admin/" in out and "http://127.0.0.1:8123/api/docs/" in out  # the true address
    assert ":8000" not in out
    assert Invoice.objects.filter(status="Paid").count() == 3
    statement = CommissionStatement.objects.get()
    assert statement.status == "Draft" and statement.total > 0
    token = client.post("/api/auth/token", {"Email": "lee.wong@northwind.example", "Password": "demo-pass-123"},
                        content_type="application/json")
    assert token.status_code == 200


@pytest.mark.django_db
def test_the_demo_leaves_the_seed_examples_numbers_free_and_has_what_the_order_needs():
    call_command("seed_demo", stdout=open(os.devnull, "w"))
    assert not Customer.objects.filter(customer_number="CUST-0042").exists()
    assert not OrganizationSalesRep.objects.filter(rep_number="REP-007").exists()
    assert OrganizationSalesRep.objects.filter(rep_number="REP-012", active=True).exists()  # TakenBySalesRep
    assert ProductPrice.objects.filter(product__sku="WDG-100-BLU", price_tier__code="Wholesale",
                                       currency_code="USD").exists()


@pytest.mark.django_db(transaction=True)
def test_the_walkthrough_posts_the_seed_examples_and_gets_their_201s(live_server):
    call_command("seed_demo", stdout=open(os.devnull, "w"))
    walkthrough = [sys.executable, str(ROOT / "scripts" / "walkthrough"), live_server.url]
    run = subprocess.run(walkthrough, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.count("-> 201") == 3, run.stdout
    order = Order.objects.get(po_number="SHOW-2024-001")
    assert (order.customer.customer_number, order.primary_sales_rep.rep_number, order.taken_by_sales_rep.rep_number,
            order.channel, order.order_type) == ("CUST-0042", "REP-007", "REP-012", "TradeShow", "Assisted")
    assert order.customer.sales_rep.rep_number == "REP-007"
    assert "TakenBySalesRep: REP-012 Priya Nair" in run.stdout

    again = subprocess.run(walkthrough, capture_output=True, text=True, timeout=120)
    assert again.returncode == 1 and "already run against this demo" in again.stderr, again.stderr


def _demo(tmp_path, port: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PORT": port, "DATA_DIR": str(tmp_path / "data")}
    return subprocess.run(["bash", str(ROOT / "scripts" / "demo")], capture_output=True, text=True, timeout=60,
                          env=env, stdin=subprocess.DEVNULL)


def test_the_demo_refuses_a_taken_port_before_writing_anything(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        run = _demo(tmp_path, str(port))
    assert run.returncode == 1
    assert f"Cannot listen on 127.0.0.1:{port}" in run.stderr and f"PORT={port + 1} ./scripts/demo" in run.stderr
    assert "Nothing was written" in run.stderr and not (tmp_path / "data").exists()
    assert "Demo organization ready" not in run.stdout


def test_the_demo_refuses_a_port_that_is_not_one(tmp_path):
    run = _demo(tmp_path, "eighty")
    assert run.returncode == 1 and "is not a port number" in run.stderr and not (tmp_path / "data").exists()
